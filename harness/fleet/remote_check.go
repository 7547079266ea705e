package fleet

import (
	"slices"
	"strconv"

	"github.com/snmpchaos/snmpchaos/simagent/control"
	"github.com/snmpchaos/snmpchaos/simagent/mib"
)

// variant is the data as a simagent serves it, with its digest.
type variant struct {
	store  *mib.Store
	digest string
}

// servedVariants are the ways a simagent serves data it loaded: with its
// live snmpEngine objects, and with per-agent identities (sysName, serial
// numbers, MACs) on or off (simagent --identity): the digest a
// process reports is one of these.
func servedVariants(raw *mib.Store) []variant {
	live := mib.WithLiveEngine(raw)
	ident := mib.WithIdentity(live)
	return []variant{{live, control.DataDigest(live)}, {ident, control.DataDigest(ident)}}
}

// missingUsers are the names of want that in does not serve.
func missingUsers(in control.Info, want []string) []string {
	var have []string
	if in.V3 != nil {
		for _, u := range in.V3.Users {
			have = append(have, u.Name)
		}
	}
	var out []string
	for _, w := range want {
		if !slices.Contains(have, w) {
			out = append(out, w)
		}
	}
	return out
}

// indexRanges writes ascending indexes as "0-9,12".
func indexRanges(idx []int) string {
	var b []byte
	for i := 0; i < len(idx); {
		j := i
		for j+1 < len(idx) && idx[j+1] == idx[j]+1 {
			j++
		}
		if len(b) > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendInt(b, int64(idx[i]), 10)
		if j > i {
			b = append(b, '-')
			b = strconv.AppendInt(b, int64(idx[j]), 10)
		}
		i = j + 1
	}
	return string(b)
}
