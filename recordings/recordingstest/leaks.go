package recordingstest

import (
	"runtime"
	"strings"
	"testing"
	"time"
)

// CheckLeaks fails the test if, once its other cleanups have run, goroutines of chuting,
// pion, ebml-go or gorilla/websocket are still running (after a grace period for those
// winding down), as pion's test.CheckRoutines does. Call it first in a test.
func CheckLeaks(tb testing.TB) {
	tb.Helper()
	tb.Cleanup(func() {
		var stacks []string
		for range 100 {
			if stacks = leaked(); len(stacks) == 0 {
				return
			}
			time.Sleep(50 * time.Millisecond)
		}
		tb.Errorf("%d goroutines leaked:\n%s", len(stacks), strings.Join(stacks, "\n\n"))
	})
}

func leaked() []string {
	buf := make([]byte, 1<<20)
	buf = buf[:runtime.Stack(buf, true)]
	var out []string
	for i, g := range strings.Split(string(buf), "\n\n") {
		if i == 0 || strings.Contains(g, "testing.(*T).Run(") || strings.Contains(g, "testing.tRunner.func") ||
			strings.Contains(g, "testing.runFuzzing") || strings.Contains(g, "recordingstest.leaked") {
			continue
		}
		for _, pkg := range []string{"github.com/pion/", "github.com/at-wat/ebml-go", "github.com/gorilla/websocket",
			"github.com/chuting/chuting/"} {
			if strings.Contains(g, pkg) {
				out = append(out, g)
				break
			}
		}
	}
	return out
}
