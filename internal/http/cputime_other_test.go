//go:build !unix

package http_test

import "time"

// processCPU is unknown here: the CPU ratio is not reported.
func processCPU() time.Duration { return 0 }
