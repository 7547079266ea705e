//go:build linux

package netns

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"go.uber.org/goleak"
)

// crashChildEnv makes the test binary act as a run that is killed before
// it cleans up (see TestStaleRunRemoved): it builds a topology, injects
// faults, prints "READY <run>" and waits to be killed.
const crashChildEnv = "SNMPCHAOS_NETNS_CRASH_CHILD"

func TestMain(m *testing.M) {
	if os.Getenv(crashChildEnv) != "" {
		os.Exit(crashChild())
	}
	goleak.VerifyTestMain(m)
}

func crashChild() int {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	top, err := Build(ctx, Config{Family: testFamily, Sites: 2})
	if err != nil {
		fmt.Fprintln(os.Stderr, "crash child:", err)
		return 2
	}
	// Leave a filter, a tbf qdisc and a flapping link behind too.
	faults := []Fault{
		top.Site(0).Drop(DropSpec{Prob: 0.5}),
		top.Site(1).Bandwidth(BandwidthSpec{Rate: 1e6}),
		top.Site(1).Flap(FlapSpec{Down: time.Second, Up: time.Second}),
	}
	for _, f := range faults {
		if err := f.Inject(ctx); err != nil {
			fmt.Fprintln(os.Stderr, "crash child:", err)
			return 2
		}
	}
	fmt.Printf("READY %s\n", top.Run())
	// Wait to be killed; give up (without cleaning) after a while.
	time.Sleep(60 * time.Second)
	return 3
}
