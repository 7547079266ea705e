package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/snmpchaos/snmpchaos/simagent"
	"github.com/snmpchaos/snmpchaos/simagent/mib"
)

// dataSpec is one --data: a recording, a directory of recordings (one
// kind per file, as snmpsim's data directory) or a profile, for a count
// or a share of the agents.
type dataSpec struct {
	path  string
	count int
	share float64
}

// parseDataSpec reads PATH[=N|=P%].
func parseDataSpec(s string) (dataSpec, error) {
	d := dataSpec{path: s}
	if i := strings.LastIndexByte(s, '='); i >= 0 {
		d.path = s[:i]
		n := s[i+1:]
		if p, ok := strings.CutSuffix(n, "%"); ok {
			f, err := strconv.ParseFloat(p, 64)
			if err != nil || !(f > 0 && f <= 100) {
				return d, fmt.Errorf("--data %q: share %q: want a percentage in (0, 100]", s, n)
			}
			d.share = f / 100
		} else {
			c, err := strconv.Atoi(n)
			if err != nil || c < 1 {
				return d, fmt.Errorf("--data %q: count %q: want a whole number >= 1 (or P%%)", s, n)
			}
			d.count = c
		}
	}
	if d.path == "" {
		return d, fmt.Errorf("--data %q: empty file name", s)
	}
	return d, nil
}

// countedAgents is the sum of the counts when every --data has one.
func countedAgents(specs []dataSpec) (int, bool) {
	n := 0
	for _, d := range specs {
		if d.count == 0 {
			return 0, false
		}
		n += d.count
	}
	return n, len(specs) > 0
}

// loadKinds opens the --data specs: one plain recording is the fleet's
// Store; anything else (counts, shares, several, a directory) makes kinds.
// A directory's count or share is split evenly over its recordings.
func loadKinds(specs []dataSpec) (*mib.Store, []simagent.Kind, error) {
	if len(specs) == 1 && specs[0].count == 0 && specs[0].share == 0 {
		if st, err := os.Stat(specs[0].path); err != nil || !st.IsDir() {
			s, err := openData(specs[0].path)
			return s, nil, err
		}
	}
	var kinds []simagent.Kind
	for _, d := range specs {
		st, err := os.Stat(d.path)
		if err != nil || !st.IsDir() {
			s, err := openData(d.path)
			if err != nil {
				return nil, nil, err
			}
			kinds = append(kinds, simagent.Kind{Name: kindName(d.path), Store: s, Count: d.count, Share: d.share})
			continue
		}
		files, err := mib.Recordings(d.path)
		if err != nil {
			return nil, nil, fmt.Errorf("--data: %w", err)
		}
		for k, f := range files {
			s, err := openData(f)
			if err != nil {
				return nil, nil, err
			}
			rel, _ := filepath.Rel(d.path, f)
			kd := simagent.Kind{Name: kindName(rel), Store: s, Share: d.share / float64(len(files))}
			if d.count > 0 {
				kd.Count = d.count / len(files)
				if k < d.count%len(files) {
					kd.Count++
				}
				if kd.Count == 0 {
					return nil, nil, fmt.Errorf("--data %s=%d: fewer agents than its %d recordings", d.path, d.count, len(files))
				}
			}
			kinds = append(kinds, kd)
		}
	}
	return nil, kinds, nil
}

// kindName names a kind after its recording's path (snmpsim's community
// names: the path without extensions) or its profile.
func kindName(p string) string {
	p = filepath.ToSlash(strings.TrimSuffix(p, ".gz"))
	return strings.TrimSuffix(p, filepath.Ext(p))
}

// openData opens one recording or profile.
func openData(path string) (*mib.Store, error) {
	s, err := mib.Open(path)
	if err != nil {
		return nil, fmt.Errorf("--data: %w", err)
	}
	if s.Len() == 0 {
		return nil, fmt.Errorf("--data %s: no OIDs", path)
	}
	if b := s.Broken(); len(b) > 0 {
		fmt.Fprintf(os.Stderr, "simagent: %s: %d records snmpsim cannot evaluate either, served as snmpsim serves them (noSuchInstance; a walk ends there), the first: %s\n", path, len(b), b[0])
	}
	return s, nil
}
