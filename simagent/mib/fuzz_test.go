package mib

import (
	"bytes"
	"os"
	"testing"
)

// The parsers read files people record and edit by hand: whatever the
// input, they return a store or an error, never panic, and a store they
// return is sorted.

// addFixtureSeeds seeds from the fixtures in windows of seedLines lines:
// whole files (150 lines) made every mutation slow and the coordinator's
// minimisation stall, and small windows still hold every kind of line.
func addFixtureSeeds(f *testing.F, files ...string) {
	f.Helper()
	const seedLines = 12
	for _, name := range files {
		data, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		lines := bytes.SplitAfter(data, []byte("\n"))
		for i := 0; i < len(lines); i += seedLines {
			f.Add(bytes.Join(lines[i:min(i+seedLines, len(lines))], nil))
		}
	}
}

func checkSorted(t *testing.T, s *Store) {
	t.Helper()
	for i := 1; i < s.Len(); i++ {
		a, _ := s.At(i - 1)
		b, _ := s.At(i)
		if Compare(a, b) >= 0 {
			t.Fatalf("not sorted at %d: %s, %s", i, a, b)
		}
	}
}

func FuzzParseSnmprec(f *testing.F) {
	addFixtureSeeds(f, "testdata/device.snmprec")
	f.Add([]byte("1.3.6.1|4e|a\\x41\n1.3.6.1.2|66:numeric|min=1,max=5,wrap=1\n1.3.6.1.3|64x|01020304"))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := ParseSnmprec(bytes.NewReader(data), "fuzz.snmprec")
		if err == nil {
			checkSorted(t, s)
		}
	})
}

func FuzzParseWalk(f *testing.F) {
	addFixtureSeeds(f, "testdata/device-On.walk", "testdata/device-ObentU.walk", "testdata/device-mibs.walk")
	f.Add([]byte(".1.3.6.1 = BITS: 80 40 0 9\n.1.3.6.2 = Opaque: Float: 1.5\n.1.3.6.3 = Hex-STRING: 00\n01 02\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := ParseWalk(bytes.NewReader(data), "fuzz.walk")
		if err == nil {
			checkSorted(t, s)
		}
	})
}
