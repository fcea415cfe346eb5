//go:build !race

package signaling

// raceEnabled is true under the race detector, whose sync.Pool drops items on purpose.
const raceEnabled = false
