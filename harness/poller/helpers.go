package poller

import (
	"context"

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
