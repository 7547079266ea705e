package poller

import (
	"context"

	"github.com/gosnmp/gosnmp"

	"github.com/snmpchaos/snmpchaos/harness/pollapi"
)

// GosnmpClient returns a gosnmp client for target t with settings s, as
// the bundled gosnmp pollers make theirs: version, community or v3 USM
// user and context, timeout, retries, max-repetitions, and ctx for its
// requests. It is not connected: call Connect, and Close when done (a
// GoSNMP serves one request at a time).
func GosnmpClient(ctx context.Context, t pollapi.Target, s pollapi.Settings) *gosnmp.GoSNMP {
	g := &gosnmpPoller{s: s}
	return g.client(ctx, t)
}

// GosnmpPoll runs poll p on a connected client: Get, WalkAll or
// BulkWalkAll (WalkAll for v1), an agent's error-status as a failure (kind
// "status"), the varbinds converted with VarbindFromPDU.
func GosnmpPoll(c *gosnmp.GoSNMP, p pollapi.Poll) pollapi.Result { return request(c, p) }
