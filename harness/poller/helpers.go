package poller

import (
	"context"

	"github.com/snmpchaos/snmpchaos/harness/poller"

	"github.com/gosnmp/gosnmp"

	"github.com/snmpchaos/snmpchaos/harness/pollapi"
)

// VarbindsFromPDUs converts varbinds decoded by gosnmp, in order (nil for
// none).
func VarbindsFromPDUs(pdus []gosnmp.SnmpPDU) []pollapi.Varbind {
	if len(pdus) == 0 {
		return nil
	}
	out := make([]pollapi.Varbind, len(pdus))
	for i, p := range pdus {
		out[i] = VarbindFromPDU(p)
	}
	return out
}

// CloseFunc adapts a plain Close() error (a client's, a pool's) to the
// close function Sync takes. The context is not passed on: Sync already
// bounds how long it waits for running polls before it calls fn.
func CloseFunc(fn func() error) func(context.Context) error {
	if fn == nil {
		return nil
	}
	return func(context.Context) error { return fn() }
}

// ExecConfig says what NewExec runs: see poller.ExecConfig.
type ExecConfig = poller.ExecConfig

// ExecPoller drives a poller in another process: see poller.ExecPoller.
type ExecPoller = poller.ExecPoller

// NewExec starts a poller process and drives it over the exec protocol
// (docs/exec-protocol.md); NewPoller("exec:CMD ARGS...") does the same
// without a logger.
func NewExec(ctx context.Context, cfg ExecConfig) (*ExecPoller, error) {
	return poller.NewExec(ctx, cfg)
}

// ParseExec splits an "exec:CMD ARGS..." poller name into a command line.
func ParseExec(spec string) ([]string, error) { return poller.ParseExec(spec) }

// GosnmpClient returns an unconnected gosnmp client for t with settings s:
// see poller.GosnmpClient.
func GosnmpClient(ctx context.Context, t Target, s Settings) *gosnmp.GoSNMP {
	return poller.GosnmpClient(ctx, t, s)
}

// GosnmpPoll runs poll p on a connected gosnmp client: see
// poller.GosnmpPoll.
func GosnmpPoll(c *gosnmp.GoSNMP, p Poll) Result { return poller.GosnmpPoll(c, p) }
