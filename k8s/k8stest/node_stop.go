package k8stest

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/google/nftables"
	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// Containers lists the containers and pod sandboxes in the node's
// containerd (its k8s.io namespace, where the kubelet's live): the pause
// containers of sandboxes are containers there too.
func (n *Node) Containers(ctx context.Context) ([]string, error) {
	out, err := n.ctr(ctx, "containers", "list", "--quiet")
	if err != nil {
		return nil, err
	}
	return strings.Fields(out), nil
}

// WaitNoContainers waits until containerd holds no container or sandbox
// (kubelet removes those of deleted pods in its garbage collection, once
// a minute), or timeout passes.
func (n *Node) WaitNoContainers(ctx context.Context, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		ids, err := n.Containers(ctx)
		if err != nil {
			return err
		}
		if len(ids) == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("containerd still holds %v after %s", ids, timeout)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Second):
		}
	}
}

// chain is an iptables chain in a table, for iptables or ip6tables.
type chain struct{ cmd, table, name string }

// kubeletChains are the chains kubelet adds (pkg/kubelet's
// kubelet_network_linux.go): the hint and canary chains for both
// families, and IPv4's KUBE-FIREWALL, which INPUT and OUTPUT jump to.
func kubeletChains() []chain {
	var out []chain
	for _, cmd := range []string{"iptables", "ip6tables"} {
		out = append(out, chain{cmd, "mangle", "KUBE-IPTABLES-HINT"})
		for _, t := range []string{"mangle", "nat", "filter"} {
			out = append(out, chain{cmd, t, "KUBE-KUBELET-CANARY"})
		}
	}
	return append(out, chain{"iptables", "filter", "KUBE-FIREWALL"})
}

// Kubelet's iptables chains are every kubelet's: each makes them and
// re-creates them within a minute when they go. Every node holds a shared
// lock on kubeletsLock while its kubelet may run; the chains are removed
// (and checked for) only under the exclusive lock, by the last node to
// stop, and only when no kubelet process runs at all (a real one would
// own them).
func kubeletsLock() (*os.File, error) {
	if err := os.MkdirAll(Cache(), 0o755); err != nil {
		return nil, err
	}
	return os.OpenFile(filepath.Join(Cache(), "kubelets.lock"), os.O_CREATE|os.O_RDWR, 0o644)
}

// lastKubelet runs fn when no node holds kubeletsLock and no kubelet
// process runs, holding the lock exclusively; it reports whether it did.
func lastKubelet(fn func()) bool {
	f, err := kubeletsLock()
	if err != nil {
		return false
	}
	defer f.Close()
	if unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB) != nil || anyKubelet() {
		return false
	}
	fn()
	return true
}

// anyKubelet reports whether a kubelet process runs on the host.
func anyKubelet() bool {
	comms, _ := filepath.Glob("/proc/[0-9]*/comm")
	for _, f := range comms {
		if b, err := os.ReadFile(f); err == nil && strings.TrimSpace(string(b)) == "kubelet" {
			return true
		}
	}
	return false
}

func (c chain) remove(nc *nftables.Conn) error {
	if ok, err := c.exists(nc); !ok || err != nil {
		return err
	}
	if c.name == "KUBE-FIREWALL" {
		for _, from := range []string{"INPUT", "OUTPUT"} {
			for exec.Command(c.cmd, "-w", "-t", c.table, "-D", from, "-j", c.name).Run() == nil {
			}
		}
	}
	if out, err := exec.Command(c.cmd, "-w", "-t", c.table, "-F", c.name).CombinedOutput(); err != nil {
		return fmt.Errorf("%s -t %s -F %s: %w: %s", c.cmd, c.table, c.name, err, out)
	}
	if out, err := exec.Command(c.cmd, "-w", "-t", c.table, "-X", c.name).CombinedOutput(); err != nil {
		return fmt.Errorf("%s -t %s -X %s: %w: %s", c.cmd, c.table, c.name, err, out)
	}
	return nil
}

// fixedDirs are directories containerd and kubelet make at fixed paths,
// parents first: the shims' socket directory (containerd 1.6 has no
// setting for it) and kubelet's container log links. Like the iptables
// chains they are shared: the last node to stop removes them when empty.
var fixedDirs = []string{"/run/containerd", "/run/containerd/s", containerLogs}

// removeFixedDirs removes the fixedDirs that are empty, deepest first.
func removeFixedDirs() {
	for i := len(fixedDirs) - 1; i >= 0; i-- {
		_ = os.Remove(fixedDirs[i]) // only when empty
	}
}

// Stop stops the node and removes what it made: the Node object and any
// pod still bound to it, kubelet and kube-scheduler, what is left in
// containerd (tasks, containers, the sandboxes' network namespaces), then
// containerd, mounts under Dir, the bridge link, the address on lo, kubelet's
// cgroups, iptables chains and the nftables tables they made (by the last
// node to stop: see cleanNetfilter), container log links, and Dir. It is safe
// to call twice.
func (n *Node) Stop() error {
	if n.stopped {
		return nil
	}
	n.stopped = true
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	var errs []error
	if n.env != nil && n.env.Client != nil {
		errs = append(errs, n.deletePods(ctx))
		node := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: n.Name}}
		if err := n.env.Client.Delete(ctx, node); err != nil && !apierrors.IsNotFound(err) {
			errs = append(errs, fmt.Errorf("delete node: %w", err))
		}
	}
	var containerd *proc
	for i := len(n.procs) - 1; i >= 0; i-- {
		p := n.procs[i]
		if p.name == "containerd" {
			containerd = p
			continue
		}
		errs = append(errs, p.stop())
	}
	var netnses []string
	if containerd != nil && !containerd.exited() {
		netnses = n.removeContainers(ctx)
		errs = append(errs, containerd.stop())
	}
	n.killShims()
	errs = append(errs, n.killCgroupProcs(), n.unmountAll())
	for _, ns := range netnses {
		_ = unix.Unmount(ns, unix.MNT_DETACH)
		if err := os.Remove(ns); err != nil && !errors.Is(err, os.ErrNotExist) {
			errs = append(errs, err)
		}
	}
	if l, err := netlink.LinkByName(n.bridge); err == nil {
		if err := netlink.LinkDel(l); err != nil {
			errs = append(errs, fmt.Errorf("delete link %s: %w", n.bridge, err))
		}
	}
	if n.claimed {
		if lo, err := netlink.LinkByName("lo"); err == nil {
			if err := netlink.AddrDel(lo, n.addr()); err != nil && !errors.Is(err, unix.EADDRNOTAVAIL) {
				errs = append(errs, fmt.Errorf("remove %s from lo: %w", n.IP, err))
			}
		}
	}
	if n.kubelets != nil {
		n.kubelets.Close() // the shared lock goes with it
		n.kubelets = nil
	}
	lastKubelet(func() {
		nc, err := nftables.New()
		if err != nil {
			errs = append(errs, fmt.Errorf("nftables: %w", err))
		} else {
			errs = append(errs, cleanNetfilter(nc, tablesPath()))
		}
		removeFixedDirs()
	})
	errs = append(errs, n.removeCgroups(), n.removeLogLinks())
	if err := os.RemoveAll(n.Dir); err != nil {
		errs = append(errs, err)
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	if n.statePID != 0 {
		_ = os.Remove(statePath(n.statePID))
	}
	return nil
}

// deletePods deletes the pods bound to the node, at once, and waits
// (while kubelet runs) until they are gone.
func (n *Node) deletePods(ctx context.Context) error {
	var pl corev1.PodList
	if err := n.env.Client.List(ctx, &pl, client.MatchingFields{"spec.nodeName": n.Name}); err != nil {
		return fmt.Errorf("list the node's pods: %w", err)
	}
	var errs []error
	for i := range pl.Items {
		p := &pl.Items[i]
		if err := n.env.Client.Delete(ctx, p, client.GracePeriodSeconds(0)); err != nil && !apierrors.IsNotFound(err) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func (p *proc) stop() error {
	if p.exited() {
		return nil
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
		return nil
	case <-time.After(30 * time.Second):
	}
	_ = p.cmd.Process.Kill()
	<-p.done
	return fmt.Errorf("%s (PID %d) ignored SIGTERM for 30 s: killed", p.name, p.cmd.Process.Pid)
}

// removeContainers kills and deletes what is left in containerd once
// kubelet is stopped (nothing, after a clean run) and returns the network
// namespaces those sandboxes had, for removal.
func (n *Node) removeContainers(ctx context.Context) []string {
	ids, err := n.Containers(ctx)
	if err != nil {
		return nil
	}
	var netnses []string
	for _, id := range ids {
		if info, err := n.ctr(ctx, "containers", "info", id); err == nil {
			for _, line := range strings.Split(info, "\n") {
				if i := strings.Index(line, `"/var/run/netns/`); i >= 0 {
					netnses = append(netnses, strings.Trim(strings.TrimSpace(line[i:]), `",`))
				}
			}
		}
		_, _ = n.ctr(ctx, "tasks", "kill", "--signal", "SIGKILL", id)
		for range 50 {
			if _, err := n.ctr(ctx, "tasks", "delete", id); err != nil && strings.Contains(err.Error(), "not found") {
				break
			}
			time.Sleep(100 * time.Millisecond)
		}
		_, _ = n.ctr(ctx, "containers", "delete", id)
	}
	return netnses
}

// unmountAll lazily unmounts every mount point under Dir, deepest first.
func (n *Node) unmountAll() error {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return err
	}
	defer f.Close()
	var mps []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fs := strings.Fields(sc.Text())
		if len(fs) > 4 && (fs[4] == n.Dir || strings.HasPrefix(fs[4], n.Dir+"/")) {
			mps = append(mps, fs[4])
		}
	}
	sort.Sort(sort.Reverse(sort.StringSlice(mps)))
	var errs []error
	for _, mp := range mps {
		if err := unix.Unmount(mp, unix.MNT_DETACH); err != nil && !errors.Is(err, unix.EINVAL) {
			errs = append(errs, fmt.Errorf("unmount %s: %w", mp, err))
		}
	}
	return errors.Join(errs...)
}

// removeCgroups removes the cgroup tree kubelet made under cgroupRoot in
// every hierarchy, deepest first.
func (n *Node) removeCgroups() error {
	var errs []error
	for _, root := range n.cgroupDirs() {
		var dirs []string
		_ = filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
			if err == nil && d.IsDir() {
				dirs = append(dirs, p)
			}
			return nil
		})
		for i := len(dirs) - 1; i >= 0; i-- {
			if err := os.Remove(dirs[i]); err != nil && !errors.Is(err, os.ErrNotExist) {
				errs = append(errs, fmt.Errorf("cgroup %s: %w", dirs[i], err))
			}
		}
	}
	return errors.Join(errs...)
}

// containerLogs is where kubelet links each container's log (a fixed
// path, not under its root directory).
const containerLogs = "/var/log/containers"

// removeLogLinks removes the links in /var/log/containers that point
// into the node's pod log directory.
func (n *Node) removeLogLinks() error {
	links, err := n.logLinks()
	var errs []error
	for _, l := range links {
		if err := os.Remove(l); err != nil && !errors.Is(err, os.ErrNotExist) {
			errs = append(errs, err)
		}
	}
	return errors.Join(append(errs, err)...)
}

func (n *Node) logLinks() ([]string, error) {
	ents, err := os.ReadDir(containerLogs)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []string
	for _, e := range ents {
		l := filepath.Join(containerLogs, e.Name())
		if t, err := os.Readlink(l); err == nil && strings.HasPrefix(t, n.path("pod-logs")+"/") {
			out = append(out, l)
		}
	}
	return out, nil
}

// Leftovers lists what of the node is still on the host: for a test to
// check after Stop that nothing is.
func (n *Node) Leftovers() []string {
	var out []string
	for _, p := range n.procs {
		if !p.exited() {
			out = append(out, fmt.Sprintf("process %s (PID %d)", p.name, p.cmd.Process.Pid))
		} else if err := syscall.Kill(p.cmd.Process.Pid, 0); err == nil {
			out = append(out, fmt.Sprintf("PID %d (was %s) still exists", p.cmd.Process.Pid, p.name))
		}
	}
	if _, err := netlink.LinkByName(n.bridge); err == nil {
		out = append(out, "link "+n.bridge)
	}
	if as, err := netlink.AddrList(nil, unix.AF_INET); err == nil {
		for _, a := range as {
			if p := prefixOf(a.IPNet); p.IsValid() && (p.Contains(n.IP) || n.Pods.Overlaps(p)) {
				out = append(out, "address "+a.IPNet.String())
			}
		}
	}
	if _, err := os.Stat(n.Dir); err == nil {
		out = append(out, "directory "+n.Dir)
	}
	lastKubelet(func() {
		out = append(out, n.netfilterLeftovers()...)
		for _, d := range fixedDirs {
			if ents, err := os.ReadDir(d); err == nil && len(ents) == 0 {
				out = append(out, "directory "+d)
			}
		}
	})
	for _, d := range n.cgroupDirs() {
		if _, err := os.Stat(d); err == nil {
			out = append(out, "cgroup "+d)
		}
	}
	links, _ := n.logLinks()
	for _, l := range links {
		out = append(out, "log link "+l)
	}
	return out
}
