package harness

import (
	"context"

	"github.com/gosnmp/gosnmp"

	"github.com/snmpchaos/snmpchaos/harness/poller"
)

// Pollers in other processes (harness/poller's exec poller) and the
// gosnmp helpers for users' own adapters.

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
