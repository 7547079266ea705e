package k8stest

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"

	"github.com/google/nftables"
	"golang.org/x/sys/unix"
)

// Kubelet's iptables chains come with their tables: with the iptables-nft
// backend, kubelet's first "iptables -N KUBE-KUBELET-CANARY" makes the
// nftables table (ip nat, ip6 mangle, ...) too, and removing the chains
// (chain.remove) leaves the tables, empty or holding only base chains
// (filter's INPUT and OUTPUT, once KUBE-FIREWALL's jumps are gone). They
// are not harmless: an iptables nat table is what connection tracking
// comes with (NAT needs it; on the host where this was found, the empty
// ip nat table the node tests left went with tracking of every later
// datagram, which slowed the UDP benchmarks), and each base chain is a
// netfilter hook every packet of its family goes through. So the first
// node to start records which of kubeletTables exist (firstKubelet, with
// kubeletsLock held exclusively, as lastKubelet holds it), and the last
// node to stop deletes, after kubelet's chains, each of them that did not
// exist then and now holds no rule, no set and no chain but base chains
// (cleanNetfilter); a table that existed before, or holds anything, stays.

// nftTable names an nftables table: family "ip" or "ip6" and name.
type nftTable struct {
	Family string `json:"family"`
	Name   string `json:"name"`
}

func (t nftTable) String() string { return t.Family + " " + t.Name }

// families are the nftables families of iptables and ip6tables.
var families = map[string]nftables.TableFamily{"ip": nftables.TableFamilyIPv4, "ip6": nftables.TableFamilyIPv6}

// familyOf is the nftables family of iptables command cmd.
func familyOf(cmd string) string {
	if cmd == "ip6tables" {
		return "ip6"
	}
	return "ip"
}

// kubeletTables are the tables kubeletChains are in, for both families.
func kubeletTables() []nftTable {
	var out []nftTable
	for _, c := range kubeletChains() {
		t := nftTable{familyOf(c.cmd), c.table}
		if !slices.Contains(out, t) {
			out = append(out, t)
		}
	}
	return out
}

// tablesPath is the state file in which the first node records which of
// kubeletTables existed before it started; the last node to stop removes
// it (after removeNewTables).
func tablesPath() string { return filepath.Join(Cache(), "nft-tables-before.json") }

// tablesBefore is what tablesPath holds.
type tablesBefore struct {
	Tables []nftTable `json:"tables"`
}

// listTables lists which of kubeletTables exist, by nftables (listing
// tables with iptables-nft may make them).
func listTables(nc *nftables.Conn) ([]nftTable, error) {
	out := []nftTable{} // [] in the record, not null, when none exists
	for fam, f := range families {
		ts, err := nc.ListTablesOfFamily(f)
		if err != nil {
			return nil, fmt.Errorf("list nftables tables of family %s: %w", fam, err)
		}
		for _, t := range ts {
			if nt := (nftTable{fam, t.Name}); slices.Contains(kubeletTables(), nt) {
				out = append(out, nt)
			}
		}
	}
	slices.SortFunc(out, func(a, b nftTable) int { return strings.Compare(a.String(), b.String()) })
	return out, nil
}

// recordTables writes tablesPath with the kubeletTables that exist now,
// unless it exists: then an earlier first node's record stands (its
// last node, a killed test process, never removed it; the tables its
// kubelet made are not "before").
func recordTables(nc *nftables.Conn, path string) error {
	if _, err := os.Stat(path); err == nil {
		return nil
	}
	ts, err := listTables(nc)
	if err != nil {
		return err
	}
	b, err := json.Marshal(tablesBefore{Tables: ts})
	if err != nil {
		return err
	}
	tmp := path + ".tmp"
	if err := writeFile(tmp, string(b)); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// readTables reads tablesPath; ok is false when it does not exist.
func readTables(path string) (ts []nftTable, ok bool, err error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	var st tablesBefore
	if err := json.Unmarshal(b, &st); err != nil {
		return nil, false, fmt.Errorf("%s: %w", path, err)
	}
	return st.Tables, true, nil
}

// firstKubelet records the tables (recordTables) when f, kubeletsLock,
// can be held exclusively and no kubelet process runs: this node's kubelet
// will be the first. When the lock is held, and the holder is a last
// node's teardown (which removes the record), it waits for that (a shared
// lock) and tries once more. It leaves the lock held, exclusive or
// shared, or none (a conversion that fails may drop it); the caller then
// takes it shared.
func firstKubelet(f *os.File) error {
	for try := range 2 {
		if try > 0 {
			if err := unix.Flock(int(f.Fd()), unix.LOCK_SH); err != nil {
				return err
			}
			if _, err := os.Stat(tablesPath()); err == nil {
				return nil // a running node's first node recorded them
			}
		}
		if unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB) != nil {
			continue
		}
		if anyKubelet() {
			return nil
		}
		nc, err := nftables.New()
		if err != nil {
			return fmt.Errorf("nftables: %w", err)
		}
		return recordTables(nc, tablesPath())
	}
	return nil
}

// newTables lists the kubeletTables that exist and are not in before.
func newTables(nc *nftables.Conn, before []nftTable) ([]nftTable, error) {
	now, err := listTables(nc)
	if err != nil {
		return nil, err
	}
	return slices.DeleteFunc(now, func(t nftTable) bool { return slices.Contains(before, t) }), nil
}

// removeNewTables deletes each of the kubeletTables that is not in
// before and holds no rule, no set and no chain but base chains; it
// leaves the others (a rule or chain there is someone's). It returns the
// tables it deleted.
func removeNewTables(nc *nftables.Conn, before []nftTable) ([]nftTable, error) {
	ts, err := newTables(nc, before)
	if err != nil {
		return nil, err
	}
	var gone []nftTable
	var errs []error
	for _, t := range ts {
		tbl := &nftables.Table{Name: t.Name, Family: families[t.Family]}
		empty, err := emptyTable(nc, tbl)
		if err != nil {
			errs = append(errs, fmt.Errorf("nftables table %s: %w", t, err))
			continue
		}
		if !empty {
			continue
		}
		nc.DelTable(tbl)
		if err := nc.Flush(); err != nil {
			errs = append(errs, fmt.Errorf("delete nftables table %s: %w", t, err))
			continue
		}
		gone = append(gone, t)
	}
	return gone, errors.Join(errs...)
}

// emptyTable reports whether t holds no set, no chain but base chains
// and no rule.
func emptyTable(nc *nftables.Conn, t *nftables.Table) (bool, error) {
	sets, err := nc.GetSets(t)
	if err != nil {
		return false, fmt.Errorf("list sets: %w", err)
	}
	if len(sets) > 0 {
		return false, nil
	}
	chains, err := nc.ListChainsOfTableFamily(t.Family)
	if err != nil {
		return false, fmt.Errorf("list chains: %w", err)
	}
	for _, c := range chains {
		if c.Table.Name != t.Name {
			continue
		}
		if c.Hooknum == nil {
			return false, nil // not a base chain
		}
		rules, err := nc.GetRules(t, c)
		if err != nil {
			return false, fmt.Errorf("list rules of chain %s: %w", c.Name, err)
		}
		if len(rules) > 0 {
			return false, nil
		}
	}
	return true, nil
}

// cleanNetfilter removes kubelet's chains and then the tables they made
// (removeNewTables against the record at path, which it then removes;
// without a record it deletes no table).
func cleanNetfilter(nc *nftables.Conn, path string) error {
	var errs []error
	for _, c := range kubeletChains() {
		errs = append(errs, c.remove(nc))
	}
	before, ok, err := readTables(path)
	if err != nil || !ok {
		return errors.Join(append(errs, err)...)
	}
	if _, err := removeNewTables(nc, before); err != nil {
		return errors.Join(append(errs, err)...)
	}
	if err := os.Remove(path); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// iptablesNFT reports whether iptables command cmd is the nf_tables
// backend (whose chains nftables lists), not the legacy one.
func iptablesNFT(cmd string) bool {
	out, err := exec.Command(cmd, "-V").Output()
	return err == nil && strings.Contains(string(out), "nf_tables")
}

// exists reports whether the chain exists. With the nf_tables backend it
// looks with nftables first and calls iptables only for a chain that is
// there: listing a table that does not exist has made it, with its base
// chains, in iptables-nft releases (1.8.9, here, does not: checked in a
// scratch network namespace), and a check must not make what it checks.
func (c chain) exists(nc *nftables.Conn) (bool, error) {
	if _, err := exec.LookPath(c.cmd); err != nil {
		return false, nil
	}
	if iptablesNFT(c.cmd) {
		fam := familyOf(c.cmd)
		chains, err := nc.ListChainsOfTableFamily(families[fam])
		if err != nil {
			return false, fmt.Errorf("list nftables chains of family %s: %w", fam, err)
		}
		if !slices.ContainsFunc(chains, func(ch *nftables.Chain) bool { return ch.Table.Name == c.table && ch.Name == c.name }) {
			return false, nil
		}
	}
	return exec.Command(c.cmd, "-w", "-t", c.table, "-n", "-L", c.name).Run() == nil, nil
}

// netfilterLeftovers lists kubelet's chains that exist and, when the node
// read the record of tables (readTables, at its start), the kubeletTables
// that exist and were not there before the first node started: for
// Leftovers, under lastKubelet.
func (n *Node) netfilterLeftovers() []string {
	nc, err := nftables.New()
	if err != nil {
		return []string{"nftables: " + err.Error()}
	}
	var out []string
	for _, c := range kubeletChains() {
		if ok, err := c.exists(nc); err != nil {
			out = append(out, err.Error())
		} else if ok {
			out = append(out, fmt.Sprintf("%s chain %s in table %s", c.cmd, c.name, c.table))
		}
	}
	if !n.tablesKnown {
		return out
	}
	ts, err := newTables(nc, n.tablesBefore)
	if err != nil {
		return append(out, err.Error())
	}
	for _, t := range ts {
		out = append(out, fmt.Sprintf("nftables table %s (not there before the first node started)", t))
	}
	return out
}
