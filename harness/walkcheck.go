package harness

import (
	"fmt"

	"github.com/snmpchaos/snmpchaos/simagent"
	"github.com/snmpchaos/snmpchaos/simagent/mib"
	"github.com/snmpchaos/snmpchaos/snmp/ber"
)

// walkChecker compares successful walks with the agent's data.
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
type walkChecker struct {
	store *mib.Store
}

// expected returns the store indexes a complete walk of root returns from
// an agent with faults f.
func (w *walkChecker) expected(root mib.OID, v1 bool, f simagent.Faults) []int {
	var eom mib.OID
	if f.EndOfMib != nil {
		eom, _ = mib.ParseOID(f.EndOfMib.After)
	}
	var out []int
	for i := w.store.Next(root); i < w.store.Len(); i++ {
		o, v := w.store.At(i)
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

// check compares a walk's varbinds with the agent's data and describes the
// first difference ("" when they agree).
func (w *walkChecker) check(rootText string, v1 bool, f simagent.Faults, got []Varbind) string {
	root, err := mib.ParseOID(rootText)
	if err != nil {
		return fmt.Sprintf("bad walk root %q: %v", rootText, err)
	}
	want := w.expected(root, v1, f)
	// A walk of a leaf OID (no subtree) may return the leaf itself, as
	// net-snmp and gosnmp do.
	if len(want) == 0 && len(got) == 1 && got[0].OID == root.String() {
		if i := w.store.Get(root); i >= 0 {
			return w.compare(got, []int{i})
		}
	}
	return w.compare(got, want)
}

func (w *walkChecker) compare(got []Varbind, want []int) string {
	for k := 0; k < len(got) && k < len(want); k++ {
		o, v := w.store.At(want[k])
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
		o, _ := w.store.At(want[len(got)])
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
