//go:build !unix

package procs

import "time"

// processCPU is nil: the process's CPU time is not read here, and the Controller does not run.
var processCPU func() time.Duration
