package daemon

import (
	"encoding/hex"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/snmpchaos/snmpchaos/harness"
	"github.com/snmpchaos/snmpchaos/simagent/mib"
	"github.com/snmpchaos/snmpchaos/snmp/ber"
)

// maxScrapeBytes bounds one scrape's body.
const maxScrapeBytes = 16 << 20

// parseMetrics reads the Prometheus text format.
func parseMetrics(r io.Reader) (map[string]*dto.MetricFamily, error) {
	p := expfmt.NewTextParser(model.LegacyValidation)
	return p.TextToMetricFamilies(io.LimitReader(r, maxScrapeBytes))
}

// varbinds maps a scrape of module m back to varbinds, in OID order. Each
// value takes its column's type (the agents' type, which the module was
// rendered from: the exporter's output carries none). The exporter's own
// metrics (snmp_scrape_*) are left out.
func varbinds(m *module, fams map[string]*dto.MetricFamily) ([]harness.Varbind, error) {
	type vb struct {
		oid mib.OID
		v   harness.Varbind
	}
	var out []vb
	for _, c := range m.Columns {
		f := fams[c.Name]
		if f == nil {
			continue
		}
		for _, met := range f.GetMetric() {
			idx, val := "", ""
			for _, l := range met.GetLabel() {
				switch l.GetName() {
				case "index":
					idx = l.GetValue()
				case c.Name:
					val = l.GetValue()
				}
			}
			arc, err := strconv.ParseUint(idx, 10, 32)
			if err != nil {
				return nil, fmt.Errorf("metric %s: index label %q: %w", c.Name, idx, err)
			}
			o := append(slices.Clone(c.OID), uint32(arc))
			text, err := valueText(c, met, val)
			if err != nil {
				return nil, fmt.Errorf("metric %s{index=%q}: %w", c.Name, idx, err)
			}
			out = append(out, vb{oid: o, v: harness.Varbind{OID: o.String(), Type: c.Tag, Value: text}})
		}
	}
	slices.SortFunc(out, func(a, b vb) int { return mib.Compare(a.oid, b.oid) })
	res := make([]harness.Varbind, len(out))
	for i, x := range out {
		res[i] = x.v
	}
	return res, nil
}

// valueText renders an exported value as harness.Varbind does.
func valueText(c *column, met *dto.Metric, label string) (string, error) {
	switch c.Type {
	case "gauge", "counter":
		var f float64
		if met.GetCounter() != nil {
			f = met.GetCounter().GetValue()
		} else {
			f = met.GetGauge().GetValue()
		}
		if f != math.Trunc(f) || math.IsInf(f, 0) {
			return "", fmt.Errorf("value %v is not an integer", f)
		}
		if c.Tag == ber.TagInteger {
			return strconv.FormatInt(int64(f), 10), nil
		}
		return strconv.FormatUint(uint64(f), 10), nil
	case "OctetString":
		h := strings.TrimPrefix(label, "0x")
		if _, err := hex.DecodeString(h); err != nil {
			return "", fmt.Errorf("label %q is not 0x and hex", label)
		}
		return strings.ToLower(h), nil
	case "InetAddressIPv4":
		return label, nil
	}
	return "", fmt.Errorf("type %s", c.Type)
}

// Exporter metrics the observed view reads from the daemon's /metrics.
type selfMetrics struct {
	Goroutines int
	OpenFDs    int
	RSSBytes   uint64
}

func readSelf(fams map[string]*dto.MetricFamily) selfMetrics {
	g := func(name string) float64 {
		f := fams[name]
		if f == nil || len(f.GetMetric()) == 0 {
			return 0
		}
		return f.GetMetric()[0].GetGauge().GetValue()
	}
	return selfMetrics{Goroutines: int(g("go_goroutines")), OpenFDs: int(g("process_open_fds")), RSSBytes: uint64(g("process_resident_memory_bytes"))}
}
