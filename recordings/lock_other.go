//go:build !unix

package recordings

import "os"

// lockFile does nothing where flock is not available: run one server per data folder.
func lockFile(*os.File) error { return nil }
