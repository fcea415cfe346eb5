// Package recordings will record every hearing on the server, crash-safe, with a signed
// integrity manifest a third party can verify (DOMAIN.md §4 #29–#31). The recorder joins a
// signaling room as a participant that never publishes. It is built by issue 5; nothing here
// yet.
package recordings
