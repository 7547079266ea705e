package fleet

import (
	"context"
	"fmt"
	"time"

	"github.com/gosnmp/gosnmp"
)

// WaitReady waits until the fleet's first and last agents answer a
// GetNext, or timeout passes.
func WaitReady(ctx context.Context, f Fleet, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	for _, i := range []int{0, f.Len() - 1} {
		a := f.Addr(i)
		var last error
		for {
			last = probeAgent(ctx, a.Addr().String(), a.Port(), f.Community())
			if last == nil {
				break
			}
			if ctx.Err() != nil {
				return fmt.Errorf("harness: fleet not ready: agent %d (%s) does not answer: %w", i, a, last)
			}
		}
	}
	return nil
}

// probeAgent sends one GetNext and waits briefly for any answer.
func probeAgent(ctx context.Context, host string, port uint16, community string) error {
	g := &gosnmp.GoSNMP{Target: host, Port: port, Community: community, Version: gosnmp.Version2c,
		Timeout: 200 * time.Millisecond, Retries: 0, Context: ctx}
	if err := g.Connect(); err != nil {
		return err
	}
	defer g.Close()
	_, err := g.GetNext([]string{".1.3"})
	return err
}
