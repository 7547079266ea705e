//go:build linux

package netns

import (
	"strings"

	"github.com/google/nftables"
	"github.com/vishvananda/netlink"
)

// Leftovers lists what carries a name starting with prefix on this host:
// network namespaces, links (with any qdisc on them other than noqueue),
// and nftables tables of the current namespace named with the prefix or
// ours ("snmpchaos"). Empty means a run of that prefix cleaned up. Routes
// and state files are left to the caller: which of them count depends on
// the prefixes a run held and on which runs are alive.
func Leftovers(prefix string) ([]string, error) {
	var out []string
	names, err := listNamed()
	if err != nil {
		return nil, err
	}
	for _, n := range names {
		if strings.HasPrefix(n, prefix) {
			out = append(out, "namespace "+n)
		}
	}
	links, err := netlink.LinkList()
	if err != nil {
		return nil, err
	}
	for _, l := range links {
		name := l.Attrs().Name
		if !strings.HasPrefix(name, prefix) {
			continue
		}
		out = append(out, "link "+name)
		qs, err := netlink.QdiscList(l)
		if err != nil {
			return nil, err
		}
		for _, q := range qs {
			if q.Type() != "noqueue" {
				out = append(out, "qdisc "+q.Type()+" on "+name)
			}
		}
	}
	// A host without nf_tables has no tables of ours to leave behind.
	if c, err := nftables.New(); err == nil {
		if tables, err := c.ListTables(); err == nil {
			for _, tb := range tables {
				if strings.HasPrefix(tb.Name, prefix) || tb.Name == nftTable {
					out = append(out, "nftables table "+tb.Name)
				}
			}
		}
	}
	return out, nil
}
