package invariant

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/snmpchaos/snmpchaos/harness/internal/mibtest"
	"github.com/snmpchaos/snmpchaos/harness/pollapi"
	"github.com/snmpchaos/snmpchaos/simagent"
	"github.com/snmpchaos/snmpchaos/simagent/mib"
)

func TestWalkCheck(t *testing.T) {
	store := mibtest.TypesStore(t)
	w := NewWalkChecker(store)
	all := make([]pollapi.Varbind, store.Len())
	for i := range all {
		all[i] = VarbindFromMIB(store.At(i))
	}
	const root = ".1.3.6.1.4.1.99"
	withValue := func(vbs []pollapi.Varbind, i int, v string) []pollapi.Varbind {
		out := append([]pollapi.Varbind(nil), vbs...)
		out[i].Value = v
		return out
	}
	withType := func(vbs []pollapi.Varbind, i int, ty byte) []pollapi.Varbind {
		out := append([]pollapi.Varbind(nil), vbs...)
		out[i].Type = ty
		return out
	}
	noC64 := append(append([]pollapi.Varbind(nil), all[:7]...), all[8:]...)
	tests := []struct {
		name   string
		root   string
		v1     bool
		faults simagent.Faults
		got    []pollapi.Varbind
		want   string // a substring of the verdict; "" for agreement
	}{
		{"complete", root, false, simagent.Faults{}, all, ""},
		{"moving value differs", root, false, simagent.Faults{}, withValue(all, 9, "12345"), ""},
		{"static value differs", root, false, simagent.Faults{}, withValue(all, 0, "41"), `= "41", want "-42"`},
		{"type differs", root, false, simagent.Faults{}, withType(all, 5, 0x41), "has type 0x41, want 0x42"},
		{"partial", root, false, simagent.Faults{}, all[:4], "partial: 4 of 10 varbinds, stopped after .1.3.6.1.4.1.99.4.0, missing .1.3.6.1.4.1.99.5.0 and 5 more"},
		{"empty", root, false, simagent.Faults{}, nil, "partial: 0 of 10"},
		{"extra", ".1.3.6.1.4.1.99.1", false, simagent.Faults{}, all[:2], "unexpected .1.3.6.1.4.1.99.2.0"},
		{"end of MIB view early", root, false, simagent.Faults{EndOfMib: &simagent.EndOfMib{After: ".1.3.6.1.4.1.99.3.0"}}, all[:3], ""},
		{"loop changes nothing", root, false, simagent.Faults{Loop: &simagent.Loop{After: ".1.3.6.1.4.1.99.3.0"}}, all[:3], "partial: 3 of 10"},
		{"v1 skips Counter64", root, true, simagent.Faults{}, noC64, ""},
		{"v1 with Counter64", root, true, simagent.Faults{}, all, "varbind 8 of 9 is .1.3.6.1.4.1.99.8.0"},
		{"leaf root returns the leaf", ".1.3.6.1.4.1.99.2.0", false, simagent.Faults{}, all[1:2], ""},
		{"bad root", "x", false, simagent.Faults{}, nil, "bad walk root"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := w.Check(tt.root, tt.v1, tt.faults, tt.got)
			if tt.want == "" {
				assert.Empty(t, got)
			} else {
				assert.Contains(t, got, tt.want)
			}
		})
	}
	assert.Len(t, w.expected(w.storeOf(0), mib.MustParseOID(".1.3.6.1.4.1.100"), false, simagent.Faults{}), 0)
}
