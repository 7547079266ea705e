package simagent

import (
	"encoding/json"
	"errors"
	"testing"
)

// Fault specs and selectors come from flags and the control API's query
// strings: whatever the text, the parsers return a value or an error and
// never panic; what they accept is valid and formats back to itself.

func FuzzParseFaultSpec(f *testing.F) {
	for _, s := range []string{
		"", "none", "drop=0.05,delay=20ms,jitter=10ms,dist=pareto,slow=1.3.6.1.2.1.2.2:500ms",
		"blackhole", "blackhole=2s", "burst=0.1/0.5/0.9/0.01", "bulk-cut=3,maxmsg=484,cut-bytes=100",
		"dup=2,dup-prob=0.5", "wrong-id=0.1,garbage=0.2", "loop=1.3.6.1.2.1.2,loop-rewind=1.3.6.1.2.1.1",
		"eom=1.3.6.1.2.1.2", "error=genErr,error-prob=0.5", "restart=1s", "engine-reboot=2,time-drift=-200s,report-storm=1s",
		"drop-every=3", "delay=1h", "slow=1.3.6:1ms,slow=1.3.6.1:2ms",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, spec string) {
		faults, err := ParseFaultSpec(spec)
		if err != nil {
			if !errors.Is(err, ErrBadFault) {
				t.Fatalf("error does not wrap ErrBadFault: %v", err)
			}
			return
		}
		if err := faults.Validate(); err != nil {
			t.Fatalf("ParseFaultSpec(%q) accepted what Validate refuses: %v", spec, err)
		}
		text := FormatFaultSpec(faults)
		again, err := ParseFaultSpec(text)
		if err != nil {
			t.Fatalf("FormatFaultSpec wrote %q, which does not parse: %v", text, err)
		}
		if back := FormatFaultSpec(again); back != text {
			t.Fatalf("format is not stable: %q then %q", text, back)
		}
		b, err := json.Marshal(faults)
		if err != nil {
			t.Fatal(err)
		}
		var viaJSON Faults
		if err := json.Unmarshal(b, &viaJSON); err != nil {
			t.Fatalf("JSON %s does not read back: %v", b, err)
		}
	})
}

func FuzzParseSelector(f *testing.F) {
	for _, s := range []string{"all", "", "index=3", "count=2", "percent=12.5", "range=2-5", "label=rack=b", "percent=0", "label=", "none"} {
		f.Add(s)
	}
	labels := LabelsOf([]LabelRange{{From: 0, To: 4, Labels: map[string]string{"rack": "a"}}, {From: 5, To: 9, Labels: map[string]string{"rack": "b"}}})
	f.Fuzz(func(t *testing.T, text string) {
		s, err := ParseSelector(text)
		if err != nil {
			return
		}
		again, err := ParseSelector(s.String())
		if err != nil {
			t.Fatalf("%q parsed, but its String %q does not: %v", text, s.String(), err)
		}
		if again.String() != s.String() {
			t.Fatalf("String is not stable: %q then %q", s.String(), again.String())
		}
		idx, err := s.Resolve(10, 1, labels)
		if err == nil && len(idx) == 0 {
			t.Fatalf("%q selects no agent without an error", text)
		}
		b, err := json.Marshal(s)
		if err != nil {
			t.Fatal(err)
		}
		var back Selector
		if err := json.Unmarshal(b, &back); err != nil {
			t.Fatalf("%q: JSON %s does not read back: %v", text, b, err)
		}
	})
}

func FuzzSelectorJSON(f *testing.F) {
	for _, s := range []string{`{}`, `{"all":true}`, `{"percent":0}`, `{"count":3}`, `{"range":{"from":1,"to":2}}`, `{"label":"a=b"}`, `{"index":0}`, `[]`, `null`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var s Selector
		if err := json.Unmarshal(b, &s); err != nil {
			return
		}
		if _, err := s.Resolve(10, 1, nil); err == nil && s.set() == 0 {
			t.Fatalf("%s read as the zero Selector (every agent)", b)
		}
	})
}
