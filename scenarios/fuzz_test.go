package scenarios

import (
	"errors"
	"strings"
	"testing"
)

// The loader reads files users write and share: whatever the bytes, Parse
// returns a scenario or an error naming the file, never panics, and stays
// bounded (MaxFileSize, MaxNodes). The fleet's data file is not read here
// (the MIB parsers have their own fuzz tests).
func FuzzParse(f *testing.F) {
	for _, name := range Names() {
		b, err := bundled.ReadFile("bundled/" + name + ".yaml")
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(withFaults("      - selector: &s {label: site=a}\n        faults: {drop: {prob: 0.1}}\n      - selector: *s\n        faults: {delay: {fixed: 10ms}}")))
	f.Add([]byte(v3good))
	f.Add([]byte(aliasBomb(4)))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := parse("fuzz.yaml", data, false)
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("error does not wrap ErrInvalid: %v", err)
			}
			if !strings.Contains(err.Error(), "fuzz.yaml") {
				t.Fatalf("error does not name the file: %v", err)
			}
			return
		}
		if s.Fleet.Agents < 1 || len(s.Phases) == 0 {
			t.Fatalf("a valid scenario without agents or phases: %+v", s)
		}
		sh := s.Shortened()
		if sh.Fleet.Agents > s.Fleet.Agents || sh.Fleet.Agents < 1 {
			t.Fatalf("short profile of %d agents from %d", sh.Fleet.Agents, s.Fleet.Agents)
		}
	})
}
