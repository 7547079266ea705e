package control

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"maps"
	"net/http"
	"net/netip"
	"os"
	"runtime/debug"
	"time"

	"github.com/snmpchaos/snmpchaos/simagent"
	"github.com/snmpchaos/snmpchaos/simagent/mib"
)

// Info is the body of GET /v1/info: what a harness needs to discover a
// fleet and drive it.
type Info struct {
	// API is the control API's version (APIVersion), Version simagent's.
	API     int    `json:"api"`
	Version string `json:"version"`
	// PID is the serving process, Started when its API was made.
	PID     int       `json:"pid"`
	Started time.Time `json:"started"`
	Agents  int       `json:"agents"`
	// SNMP lists the SNMP versions the agents answer: v1 and v2c (with
	// the community), and v3 when the fleet has users.
	SNMP []string `json:"snmp"`
	// Addresses are the agents' addresses in index order, as runs.
	Addresses []AddressRun `json:"addresses"`
	// Labels are runs of consecutive agents with the same labels.
	Labels []simagent.LabelRange `json:"labels,omitempty"`
	Data   DataInfo              `json:"data"`
	// Kinds are the device kinds of a mixed fleet (more than one); Data
	// is then the first kind's.
	Kinds   []KindInfo `json:"kinds,omitempty"`
	Seed    uint64     `json:"seed"`
	Sockets int        `json:"sockets"`
	// V3 lists the SNMPv3 users, when the fleet serves v3; each agent's
	// engine is in GET /v1/agents.
	V3 *V3Info `json:"v3,omitempty"`
	// ReadOnly and Token say whether changes are refused and whether a
	// bearer token is required.
	ReadOnly bool `json:"readOnly"`
	Token    bool `json:"token"`
	// Generation counts the fault changes applied through the API.
	Generation uint64 `json:"generation"`
}

// AddressRun is Count agents from First: consecutive IPv4 addresses on
// one port (Step "address") or consecutive ports of one address (Step
// "port"). A run of one agent has Step "address".
type AddressRun struct {
	First string `json:"first"`
	Count int    `json:"count"`
	Step  string `json:"step"`
}

// DataInfo is the identity of the data every agent serves. SHA256 is
// DataDigest of the store: two stores with the same digest answer every
// request the same way (given the same seed and agent age), whatever
// their names.
type DataInfo struct {
	Name    string `json:"name"`
	OIDs    int    `json:"oids"`
	Dynamic int    `json:"dynamic"`
	SHA256  string `json:"sha256"`
}

// V3Info describes the fleet's SNMPv3 users, without their passphrases.
type V3Info struct {
	Users []V3User `json:"users"`
}

// V3User is one SNMPv3 user's name and protocols.
type V3User struct {
	Name string `json:"name"`
	Auth string `json:"auth"`
	Priv string `json:"priv"`
}

// DataDigest is the hex SHA-256 of a store's content: every OID with its
// type and either its content octets or the parameters of its dynamic
// value. The store's name is left out, so the same recording loaded from
// another path has the same digest.
func DataDigest(s *mib.Store) string {
	h := sha256.New()
	var b []byte
	for i := range s.Len() {
		o, v := s.At(i)
		b = append(b[:0], o.String()...)
		b = fmt.Appendf(b, " %02x ", v.Tag)
		if v.Dyn != nil {
			b = fmt.Appendf(b, "dyn %+v\n", *v.Dyn)
		} else {
			b = fmt.Appendf(b, "%d:%x\n", len(v.Content), v.Content)
		}
		h.Write(b)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// dataInfo is the fleet's DataInfo (agent 0's kind's); the digest is
// computed once.
func (h *Handler) dataInfo() DataInfo {
	s := h.fleet.Store()
	h.digestOnce.Do(func() { h.digest = DataDigest(s) })
	return DataInfo{Name: s.Name(), OIDs: s.Len(), Dynamic: s.Dynamic(), SHA256: h.digest}
}

// dataInfoOf is the DataInfo of one kind's store.
func (h *Handler) dataInfoOf(s *mib.Store) DataInfo {
	if s == h.fleet.Store() {
		return h.dataInfo()
	}
	return DataInfo{Name: s.Name(), OIDs: s.Len(), Dynamic: s.Dynamic(), SHA256: DataDigest(s)}
}

// KindInfo is one device kind of a mixed fleet: its agents From..To-1 and
// their data.
type KindInfo struct {
	Name string   `json:"name"`
	From int      `json:"from"`
	To   int      `json:"to"`
	Data DataInfo `json:"data"`
}

func (h *Handler) info(w http.ResponseWriter, r *http.Request) {
	if _, err := query(r); err != nil {
		writeError(w, http.StatusBadRequest, err)
		return
	}
	f := h.fleet
	out := Info{
		API: APIVersion, Version: h.opts.version, PID: os.Getpid(), Started: h.opts.started,
		Agents: f.Len(), SNMP: []string{"v1", "v2c"}, Addresses: addressRuns(f.Addrs()), Labels: labelRuns(f),
		Data: h.dataInfo(), Seed: f.Seed(), Sockets: f.Sockets(),
		ReadOnly: h.opts.readOnly, Token: len(h.opts.token) > 0, Generation: h.generation.Load(),
	}
	if kinds := f.Kinds(); len(kinds) > 1 {
		for _, k := range kinds {
			out.Kinds = append(out.Kinds, KindInfo{Name: k.Name, From: k.From, To: k.To, Data: h.dataInfoOf(f.StoreOf(k.From))})
		}
	}
	if users := f.Users(); len(users) > 0 {
		out.SNMP = append(out.SNMP, "v3")
		out.V3 = &V3Info{Users: []V3User{}}
		for _, u := range users {
			out.V3.Users = append(out.V3.Users, V3User{Name: u.Name, Auth: u.Auth.String(), Priv: u.Priv.String()})
		}
	}
	writeJSON(w, http.StatusOK, out)
}

// addressRuns compresses addresses into runs.
func addressRuns(addrs []netip.AddrPort) []AddressRun {
	var out []AddressRun
	var last netip.AddrPort
	for _, a := range addrs {
		if n := len(out); n > 0 {
			run := &out[n-1]
			nextAddr := last.Addr().Next() == a.Addr() && last.Port() == a.Port()
			nextPort := last.Addr() == a.Addr() && last.Port() < 65535 && last.Port()+1 == a.Port()
			switch {
			case nextAddr && (run.Count == 1 || run.Step == "address"):
				run.Count++
				run.Step = "address"
				last = a
				continue
			case nextPort && (run.Count == 1 || run.Step == "port"):
				run.Count++
				run.Step = "port"
				last = a
				continue
			}
		}
		out = append(out, AddressRun{First: a.String(), Count: 1, Step: "address"})
		last = a
	}
	return out
}

// Expand lists the addresses of runs in order; it is the inverse of the
// compression GET /v1/info applies.
func Expand(runs []AddressRun) ([]netip.AddrPort, error) {
	var out []netip.AddrPort
	for k, r := range runs {
		a, err := netip.ParseAddrPort(r.First)
		if err != nil {
			return nil, fmt.Errorf("addresses[%d].first: %w", k, err)
		}
		if r.Count < 1 {
			return nil, fmt.Errorf("addresses[%d].count %d: want at least 1", k, r.Count)
		}
		for i := range r.Count {
			out = append(out, a)
			if i == r.Count-1 {
				break
			}
			switch r.Step {
			case "address":
				next := a.Addr().Next()
				if !next.IsValid() {
					return nil, fmt.Errorf("addresses[%d]: runs past the last address", k)
				}
				a = netip.AddrPortFrom(next, a.Port())
			case "port":
				if a.Port() == 65535 {
					return nil, fmt.Errorf("addresses[%d]: runs past port 65535", k)
				}
				a = netip.AddrPortFrom(a.Addr(), a.Port()+1)
			default:
				return nil, fmt.Errorf("addresses[%d].step %q: want address or port", k, r.Step)
			}
		}
	}
	return out, nil
}

// labelRuns compresses the agents' labels into runs of equal labels.
func labelRuns(f *simagent.Fleet) []simagent.LabelRange {
	var out []simagent.LabelRange
	for i := range f.Len() {
		l := f.Labels(i)
		if len(l) == 0 {
			continue
		}
		if n := len(out); n > 0 && out[n-1].To == i-1 && maps.Equal(out[n-1].Labels, l) {
			out[n-1].To = i
			continue
		}
		out = append(out, simagent.LabelRange{From: i, To: i, Labels: l})
	}
	return out
}

// buildVersion is the main module's version and VCS revision.
func buildVersion() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "unknown"
	}
	v := bi.Main.Version
	for _, s := range bi.Settings {
		if s.Key == "vcs.revision" && len(s.Value) >= 12 {
			v += " " + s.Value[:12]
		}
	}
	return v
}
