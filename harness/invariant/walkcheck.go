package invariant

import (
	"encoding/hex"
	"fmt"
	"math/big"
	"net/netip"
	"strconv"

	"github.com/snmpchaos/snmpchaos/harness/pollapi"
	"github.com/snmpchaos/snmpchaos/simagent"
	"github.com/snmpchaos/snmpchaos/simagent/mib"
	"github.com/snmpchaos/snmpchaos/snmp/ber"
)

// WalkChecker compares successful walks with the agent's data.
//
// The agent's data for a subtree is what fleet.Snapshot(i) holds under the
// root, read straight from the shared store (the same entries, without
// copying the whole store per walk): the same OIDs in the same order with
// the same types; static values equal; values that move with time (Dyn)
// compared by OID and type only. What the agent legitimately shows
// differently is taken into account: v1 skips Counter64, and an EndOfMib
// fault ends the view early. A Loop fault changes nothing here: the data
// behind the loop still exists, so a walk that stops at the loop and calls
// it a success returned a partial result.
type WalkChecker struct {
	storeOf func(agent int) *mib.Store
}

// NewWalkChecker compares walks with the data of store, which every agent
// of the fleet serves.
func NewWalkChecker(store *mib.Store) *WalkChecker {
	return &WalkChecker{storeOf: func(int) *mib.Store { return store }}
}

// NewWalkCheckerOf compares walks with each agent's own data (a mixed
// fleet: simagent.Fleet.StoreOf).
func NewWalkCheckerOf(storeOf func(agent int) *mib.Store) *WalkChecker {
	return &WalkChecker{storeOf: storeOf}
}

// expected returns the store indexes a complete walk of root returns from
// an agent with faults f.
func (w *WalkChecker) expected(store *mib.Store, root mib.OID, v1 bool, f simagent.Faults) []int {
	var eom mib.OID
	if f.EndOfMib != nil {
		eom, _ = mib.ParseOID(f.EndOfMib.After)
	}
	var out []int
	for i := store.Next(root); i < store.Len(); i++ {
		o, v := store.At(i)
		if !o.HasPrefix(root) {
			break
		}
		if eom != nil && mib.Compare(o, eom) > 0 {
			break
		}
		if v1 && v.Tag == ber.TagCounter64 {
			continue
		}
		out = append(out, i)
	}
	return out
}

// Check compares a walk's varbinds with agent 0's data and describes the
// first difference ("" when they agree).
func (w *WalkChecker) Check(rootText string, v1 bool, f simagent.Faults, got []pollapi.Varbind) string {
	return w.CheckAgent(0, rootText, v1, f, got)
}

// CheckAgent compares a walk of agent's with its data.
func (w *WalkChecker) CheckAgent(agent int, rootText string, v1 bool, f simagent.Faults, got []pollapi.Varbind) string {
	root, err := mib.ParseOID(rootText)
	if err != nil {
		return fmt.Sprintf("bad walk root %q: %v", rootText, err)
	}
	store := w.storeOf(agent)
	want := w.expected(store, root, v1, f)
	// A walk of a leaf OID (no subtree) may return the leaf itself, as
	// net-snmp and gosnmp do.
	if len(want) == 0 && len(got) == 1 && got[0].OID == root.String() {
		if i := store.Get(root); i >= 0 {
			return w.compare(store, got, []int{i})
		}
	}
	return w.compare(store, got, want)
}

func (w *WalkChecker) compare(store *mib.Store, got []pollapi.Varbind, want []int) string {
	for k := 0; k < len(got) && k < len(want); k++ {
		o, v := store.At(want[k])
		exp := VarbindFromMIB(o, v)
		g := got[k]
		switch {
		case g.OID != exp.OID:
			return fmt.Sprintf("varbind %d of %d is %s, want %s", k+1, len(want), g.OID, exp.OID)
		case g.Type != exp.Type:
			return fmt.Sprintf("%s has type 0x%02x, want 0x%02x", g.OID, g.Type, exp.Type)
		case v.Dyn == nil && g.Value != exp.Value:
			return fmt.Sprintf("%s = %q, want %q", g.OID, g.Value, exp.Value)
		}
	}
	switch {
	case len(got) < len(want):
		o, _ := store.At(want[len(got)])
		last := "nothing"
		if len(got) > 0 {
			last = got[len(got)-1].OID
		}
		return fmt.Sprintf("partial: %d of %d varbinds, stopped after %s, missing %s and %d more", len(got), len(want), last, o, len(want)-len(got)-1)
	case len(got) > len(want):
		return fmt.Sprintf("%d varbinds, want %d: unexpected %s", len(got), len(want), got[len(want)].OID)
	}
	return ""
}

// VarbindFromMIB converts an agent's entry. A dynamic value (v.Dyn set)
// has no fixed rendering: its Value is "". Entries of a Snapshot have
// their dynamic values resolved and render fully.
func VarbindFromMIB(oid mib.OID, v *mib.Value) pollapi.Varbind {
	out := pollapi.Varbind{OID: oid.String(), Type: v.Tag}
	if v.Dyn == nil {
		out.Value = renderContent(v.Tag, v.Content)
	}
	return out
}

// VarbindFromEntry converts an entry of an agent's Snapshot, whose
// dynamic values are resolved.
func VarbindFromEntry(e mib.Entry) pollapi.Varbind {
	v := e.Value
	v.Dyn = nil
	return VarbindFromMIB(e.OID, &v)
}

// renderContent renders BER content octets of a value with tag.
func renderContent(tag byte, c []byte) string {
	switch tag {
	case ber.TagNull, ber.TagNoSuchObject, ber.TagNoSuchInstance, ber.TagEndOfMibView:
		return ""
	case ber.TagInteger:
		if n, err := ber.ParseInt(c); err == nil {
			return strconv.FormatInt(n, 10)
		}
		return new(big.Int).SetBytes(c).String() // out of range: best effort
	case ber.TagCounter32, ber.TagGauge32, ber.TagTimeTicks, ber.TagCounter64, 0x47:
		if n, err := ber.ParseUint(c); err == nil {
			return strconv.FormatUint(n, 10)
		}
	case ber.TagOID:
		if o, err := ber.ParseOID(nil, c); err == nil {
			return mib.OID(o).String()
		}
	case ber.TagIPAddress:
		if a, ok := netip.AddrFromSlice(c); ok {
			return a.String()
		}
	}
	return hex.EncodeToString(c)
}
