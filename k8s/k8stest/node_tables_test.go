package k8stest

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/google/nftables"
	"github.com/stretchr/testify/assert"
	"golang.org/x/sys/unix"
)

// inScratchNetns runs fn on a goroutine locked to an OS thread in a
// network namespace of its own, with an nftables connection to it:
// commands fn starts (iptables) run there too. The thread is never
// unlocked, so it ends with the goroutine and the namespace with it.
// fn must not call t.FailNow (require): it runs on another goroutine.
func inScratchNetns(t *testing.T, fn func(nc *nftables.Conn)) {
	t.Helper()
	if os.Geteuid() != 0 {
		if os.Getenv("CI") == "true" {
			t.Fatal("a network namespace needs root")
		}
		t.Skip("a network namespace needs root")
	}
	for _, cmd := range []string{"iptables", "ip6tables"} {
		p, err := exec.LookPath(cmd)
		if err != nil {
			p = "/usr/sbin/" + cmd // missing: Need names it
		}
		Need(t, p)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		runtime.LockOSThread()
		if err := unix.Unshare(unix.CLONE_NEWNET); err != nil {
			t.Errorf("unshare the network namespace: %v", err)
			return
		}
		fd, err := unix.Open("/proc/thread-self/ns/net", unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			t.Errorf("open the network namespace: %v", err)
			return
		}
		defer unix.Close(fd)
		nc, err := nftables.New(nftables.WithNetNSFd(fd))
		if err != nil {
			t.Errorf("nftables: %v", err)
			return
		}
		fn(nc)
	}()
	<-done
}

// ipt runs an iptables command (in the caller thread's namespace).
func ipt(t *testing.T, cmd string, args ...string) bool {
	t.Helper()
	out, err := exec.Command(cmd, append([]string{"-w"}, args...)...).CombinedOutput()
	return assert.NoError(t, err, "%s %s: %s", cmd, strings.Join(args, " "), out)
}

// makeKubeletChains makes the chains kubelet makes, and the jumps to
// KUBE-FIREWALL.
func makeKubeletChains(t *testing.T) {
	for _, c := range kubeletChains() {
		ipt(t, c.cmd, "-t", c.table, "-N", c.name)
		if c.name == "KUBE-FIREWALL" {
			ipt(t, c.cmd, "-t", c.table, "-A", c.name, "-j", "RETURN")
			ipt(t, c.cmd, "-t", c.table, "-A", "INPUT", "-j", c.name)
			ipt(t, c.cmd, "-t", c.table, "-A", "OUTPUT", "-j", c.name)
		}
	}
}

func tableNames(ts []nftTable) []string {
	var out []string
	for _, t := range ts {
		out = append(out, t.String())
	}
	return out
}

// TestChainExistsMakesNoTable checks kubelet's chains for in a namespace
// with no table, and checks that no table came of it; then that they are
// found once made.
func TestChainExistsMakesNoTable(t *testing.T) {
	inScratchNetns(t, func(nc *nftables.Conn) {
		for _, c := range kubeletChains() {
			ok, err := c.exists(nc)
			assert.NoError(t, err)
			assert.False(t, ok, "%s %s %s in a new namespace", c.cmd, c.table, c.name)
		}
		ts, err := listTables(nc)
		assert.NoError(t, err)
		assert.Empty(t, ts, "tables the checks made")

		makeKubeletChains(t)
		for _, c := range kubeletChains() {
			ok, err := c.exists(nc)
			assert.NoError(t, err)
			assert.True(t, ok, "%s %s %s once made", c.cmd, c.table, c.name)
		}
		ts, err = listTables(nc)
		assert.NoError(t, err)
		assert.ElementsMatch(t, tableNames(kubeletTables()), tableNames(ts))
	})
}

// TestCleanNetfilterDeletesOnlyNewEmptyTables records the tables with ip
// mangle there (empty) before, makes kubelet's chains, a rule of someone
// else's in ip6 filter and a chain in ip6 nat, and checks that
// cleanNetfilter removes kubelet's chains and deletes ip nat, ip filter
// and ip6 mangle (new, empty once the chains are gone: filter with its
// base chains INPUT and OUTPUT) but keeps ip mangle (there before), ip6
// filter and ip6 nat (they hold something) with what they hold; and that
// without a record it deletes no table.
func TestCleanNetfilterDeletesOnlyNewEmptyTables(t *testing.T) {
	record := filepath.Join(t.TempDir(), "tables.json")
	inScratchNetns(t, func(nc *nftables.Conn) {
		ipt(t, "iptables", "-t", "mangle", "-N", "EMPTIED")
		ipt(t, "iptables", "-t", "mangle", "-X", "EMPTIED")
		assert.NoError(t, recordTables(nc, record))
		makeKubeletChains(t)
		ipt(t, "ip6tables", "-t", "filter", "-A", "INPUT", "-s", "::2", "-j", "ACCEPT")
		ipt(t, "ip6tables", "-t", "nat", "-N", "SOMEONES")
		assert.NoError(t, recordTables(nc, record), "a second record")
		before, ok, err := readTables(record)
		assert.NoError(t, err)
		assert.True(t, ok)
		assert.Equal(t, []string{"ip mangle"}, tableNames(before), "the first record stands")

		assert.NoError(t, cleanNetfilter(nc, record))
		for _, c := range kubeletChains() {
			ok, err := c.exists(nc)
			assert.NoError(t, err)
			assert.False(t, ok, "%s %s %s after cleanNetfilter", c.cmd, c.table, c.name)
		}
		ts, err := listTables(nc)
		assert.NoError(t, err)
		assert.Equal(t, []string{"ip mangle", "ip6 filter", "ip6 nat"}, tableNames(ts))
		ipt(t, "ip6tables", "-t", "filter", "-C", "INPUT", "-s", "::2", "-j", "ACCEPT")
		ipt(t, "ip6tables", "-t", "nat", "-n", "-L", "SOMEONES")
		_, err = os.Stat(record)
		assert.ErrorIs(t, err, os.ErrNotExist, "the record is removed")

		makeKubeletChains(t)
		assert.NoError(t, cleanNetfilter(nc, record))
		ts, err = listTables(nc)
		assert.NoError(t, err)
		assert.ElementsMatch(t, tableNames(kubeletTables()), tableNames(ts), "no record: no table deleted")
	})
}
