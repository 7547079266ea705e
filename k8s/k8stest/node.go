package k8stest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
)

// PauseImage is the pod sandbox image a Node imports: the pause binary
// scripts/k8s-binaries.sh builds from kubernetes' pause.c, FROM scratch.
const PauseImage = "snmpchaos.local/pause:test"

// nodePool is where a Node's /24 comes from: 198.19.240.0/20, the part of
// the benchmarking range netns mode never gives to agents (its link nets
// are in 198.19.255.0/24, which spoils the whole /20 for it), minus the
// apiserver's service range (ServiceRange) and the link nets.
var nodePool = netip.MustParsePrefix("198.19.240.0/20")

// Node is a real node joined to an Env's apiserver: a containerd of its
// own (root, state and socket in a directory of its own, the cgroupfs
// driver), a kubelet (cgroup v1 allowed: failCgroupV1 false) and a
// kube-scheduler, all started by the test and stopped by PID. Pods get
// addresses from a /24 of 198.19.240.0/20 through the CNI bridge plugin
// (a bridge of the node's own, host-local addresses), routed from the
// host; the node's own address is one of that /24 put on lo (kubelet
// refuses a loopback address as the node IP, but not another address on
// lo; this kernel has no dummy links). Everything it made on the host
// is removed by Stop: processes, links, state directories, cgroups,
// the address on lo, kubelet's iptables chains and the nftables tables
// they made (by the last node to stop, when no other kubelet runs: they
// are every kubelet's; a table that was there before the first node
// started stays), log links. When a test process is killed, the next
// Node removes what its node left (its state is saved in the cache
// directory while it runs). One Node a process.
type Node struct {
	// Name is the Node object's name.
	Name string
	// IP is the node's address (on lo).
	IP netip.Addr
	// Pods is the prefix pod addresses come from.
	Pods netip.Prefix
	// Dir holds the node's state (containerd, kubelet, CNI, logs).
	Dir string

	env        *Env
	socket     string
	claimed    bool
	statePID   int      // whose state file (node_sweep.go) to remove, once stopped
	kubelets   *os.File // kubeletsLock, held shared while kubelet may run
	bridge     string
	cgroupRoot string
	procs      []*proc
	stopped    bool
	// tablesBefore are the kubeletTables that existed before the first
	// node started (tablesKnown: read from its record), for Leftovers.
	tablesBefore []nftTable
	tablesKnown  bool
}

// NodeBinaries are what a Node runs, and Need checks: kubelet,
// kube-scheduler and pause from the cache, Debian's containerd, its shim,
// ctr and runc, and the CNI plugins.
func NodeBinaries() []string {
	a := Assets()
	out := []string{filepath.Join(a, "kubelet"), filepath.Join(a, "kube-scheduler"), filepath.Join(a, "pause")}
	for _, b := range []string{"containerd", "containerd-shim-runc-v2", "ctr", "runc"} {
		p, err := exec.LookPath(b)
		if err != nil {
			p = "/usr/bin/" + b // missing: Need names it
		}
		out = append(out, p)
	}
	for _, p := range []string{"bridge", "host-local", "loopback"} {
		out = append(out, filepath.Join(cniBin, p))
	}
	return out
}

const cniBin = "/usr/lib/cni"

// NeedNode skips t (fails it under CI=true) unless a Node can start here:
// root and NodeBinaries.
func NeedNode(t testing.TB) {
	t.Helper()
	if os.Geteuid() != 0 {
		msg := "a node (containerd, kubelet, a pod network) needs root"
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	Need(t, NodeBinaries()...)
}

// StartNode starts a node joined to e with images imported into its
// containerd (besides PauseImage) and waits until the Node is Ready; it
// is stopped in t's cleanup (or earlier by Stop).
func StartNode(t testing.TB, e *Env, images ...Image) *Node {
	t.Helper()
	NeedNode(t)
	n, err := startNode(t.Context(), e, images)
	if n != nil {
		t.Cleanup(func() {
			if t.Failed() {
				n.logState(t)
			}
			if err := n.Stop(); err != nil {
				t.Errorf("k8stest: node: %v", err)
			}
		})
	}
	if err != nil {
		t.Fatalf("k8stest: node: %v", err)
	}
	return n
}

func startNode(ctx context.Context, e *Env, images []Image) (*Node, error) {
	pid := os.Getpid()
	dir, err := os.MkdirTemp("", "sck-node-")
	if err != nil {
		return nil, err
	}
	n := &Node{
		Name: "snmpchaos-node-" + strconv.Itoa(pid), Dir: dir, env: e,
		socket:     filepath.Join(dir, "containerd.sock"),
		bridge:     "sckb" + strconv.Itoa(pid),
		cgroupRoot: "/snmpchaos-node-" + strconv.Itoa(pid),
	}
	if err := sweepDeadNodes(); err != nil {
		return n, err
	}
	if err := n.claimAddresses(); err != nil {
		return n, err
	}
	n.statePID = pid
	if err := n.saveState(); err != nil {
		return n, err
	}
	for _, step := range []func(context.Context) error{n.startContainerd, func(ctx context.Context) error { return n.importImages(ctx, images) }, n.startKubelet, n.startScheduler, n.waitReady} {
		if err := step(ctx); err != nil {
			return n, err
		}
	}
	return n, nil
}

// claimAddresses picks a /24 of nodePool that no route or address of this
// host overlaps (under a lock shared with other test processes), and puts
// the node's address (its .254) on lo, which claims it.
func (n *Node) claimAddresses() error {
	if err := os.MkdirAll(Cache(), 0o755); err != nil {
		return err
	}
	lock, err := os.OpenFile(filepath.Join(Cache(), "node.lock"), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return err
	}
	defer lock.Close()
	if err := unix.Flock(int(lock.Fd()), unix.LOCK_EX); err != nil {
		return err
	}
	var used []netip.Prefix
	rs, err := netlink.RouteListFiltered(unix.AF_INET, &netlink.Route{Table: unix.RT_TABLE_UNSPEC}, netlink.RT_FILTER_TABLE)
	if err != nil {
		return fmt.Errorf("list routes: %w", err)
	}
	for _, r := range rs {
		if r.Dst != nil {
			used = append(used, prefixOf(r.Dst))
		}
	}
	as, err := netlink.AddrList(nil, unix.AF_INET)
	if err != nil {
		return fmt.Errorf("list addresses: %w", err)
	}
	for _, a := range as {
		used = append(used, prefixOf(a.IPNet))
	}
	used = append(used, netip.MustParsePrefix(ServiceRange), netip.MustParsePrefix("198.19.255.0/24"))
	base := nodePool.Addr().As4()
	for i := range 1 << (24 - nodePool.Bits()) {
		b := base
		b[2] += byte(i)
		p := netip.PrefixFrom(netip.AddrFrom4(b), 24)
		if overlapsAny(p, used) {
			continue
		}
		b[3] = 254
		n.IP, n.Pods = netip.AddrFrom4(b), netip.PrefixFrom(p.Addr(), 25)
		break
	}
	if !n.IP.IsValid() {
		return fmt.Errorf("no free /24 in %s for a node", nodePool)
	}
	lo, err := netlink.LinkByName("lo")
	if err != nil {
		return err
	}
	if err := netlink.AddrAdd(lo, n.addr()); err != nil {
		return fmt.Errorf("address %s on lo: %w", n.IP, err)
	}
	n.claimed = true
	return nil
}

// addr is the node's address as it is on lo.
func (n *Node) addr() *netlink.Addr {
	return &netlink.Addr{IPNet: &net.IPNet{IP: n.IP.AsSlice(), Mask: net.CIDRMask(32, 32)}}
}

func prefixOf(ipn *net.IPNet) netip.Prefix {
	a, ok := netip.AddrFromSlice(ipn.IP)
	if !ok {
		return netip.Prefix{}
	}
	ones, _ := ipn.Mask.Size()
	return netip.PrefixFrom(a.Unmap(), ones).Masked()
}

func overlapsAny(p netip.Prefix, ps []netip.Prefix) bool {
	for _, q := range ps {
		if q.IsValid() && q.Bits() > 0 && p.Overlaps(q) {
			return true
		}
	}
	return false
}

func (n *Node) path(elem ...string) string { return filepath.Join(append([]string{n.Dir}, elem...)...) }

func (n *Node) startContainerd(ctx context.Context) error {
	cni := fmt.Sprintf(`{"cniVersion": "0.4.0", "name": "snmpchaos-%d", "plugins": [{
  "type": "bridge", "bridge": %q, "isGateway": true, "ipMasq": false,
  "ipam": {"type": "host-local", "ranges": [[{"subnet": %q}]], "dataDir": %q}
}]}`, os.Getpid(), n.bridge, n.Pods.String(), n.path("cni", "ipam"))
	cfg := fmt.Sprintf(`version = 2
root = %q
state = %q
disabled_plugins = ["io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper"]
[grpc]
  address = %q
[ttrpc]
  address = %q
[plugins."io.containerd.internal.v1.opt"]
  path = %q
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = %q
  # Kubelet asks -998 for sandboxes; lowering a score needs
  # CAP_SYS_RESOURCE, which this host withholds even from root.
  restrict_oom_score_adj = true
  # The pods' network namespaces under the state directory, not in
  # /var/run/netns, so that they go with it.
  netns_mounts_under_state_dir = true
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = %q
    conf_dir = %q
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        Root = %q
`, n.path("containerd", "root"), n.path("containerd", "state"), n.socket, n.socket+".ttrpc", n.path("containerd", "opt"),
		PauseImage, cniBin, n.path("cni", "conf"), n.path("runc"))
	if err := writeFile(n.path("cni", "conf", "10-snmpchaos.conflist"), cni); err != nil {
		return err
	}
	if err := writeFile(n.path("containerd.toml"), cfg); err != nil {
		return err
	}
	if err := n.start("containerd", "containerd", "--config", n.path("containerd.toml")); err != nil {
		return err
	}
	return n.waitFor(ctx, "containerd's socket", time.Minute, func() error {
		_, err := n.ctr(ctx, "version")
		return err
	})
}

// ctr runs ctr against the node's containerd, in the k8s.io namespace.
func (n *Node) ctr(ctx context.Context, args ...string) (string, error) {
	out, err := exec.CommandContext(ctx, "ctr", append([]string{"--address", n.socket, "--namespace", "k8s.io"}, args...)...).CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("ctr %s: %w: %s", strings.Join(args, " "), err, out)
	}
	return string(out), nil
}

func (n *Node) importImages(ctx context.Context, images []Image) error {
	pause := Image{Name: PauseImage, Files: map[string]string{"/pause": filepath.Join(Assets(), "pause")}, Entrypoint: []string{"/pause"}, User: "65535:65535"}
	for i, im := range append([]Image{pause}, images...) {
		f := n.path("images", strconv.Itoa(i)+".tar")
		if err := os.MkdirAll(filepath.Dir(f), 0o755); err != nil {
			return err
		}
		if err := im.WriteArchive(f); err != nil {
			return err
		}
		if _, err := n.ctr(ctx, "images", "import", "--snapshotter", "overlayfs", f); err != nil {
			return fmt.Errorf("import %s: %w", im.Name, err)
		}
	}
	return nil
}

func (n *Node) startKubelet(ctx context.Context) error {
	f, err := kubeletsLock()
	if err != nil {
		return err
	}
	n.kubelets = f
	if err := firstKubelet(f); err != nil {
		return err
	}
	if err := unix.Flock(int(f.Fd()), unix.LOCK_SH); err != nil {
		return err
	}
	if n.tablesBefore, n.tablesKnown, err = readTables(tablesPath()); err != nil {
		return err
	}
	u, err := n.env.env.ControlPlane.AddUser(envtest.User{Name: "snmpchaos-node", Groups: []string{"system:masters"}}, nil)
	if err != nil {
		return err
	}
	kc, err := u.KubeConfig()
	if err != nil {
		return err
	}
	if err := writeFile(n.path("kubeconfig"), string(kc)); err != nil {
		return err
	}
	if err := n.makeCgroupRoot(); err != nil {
		return err
	}
	port, err := freePort(n.IP)
	if err != nil {
		return err
	}
	cfg := fmt.Sprintf(`apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
cgroupDriver: cgroupfs
failCgroupV1: false
cgroupRoot: %s
containerRuntimeEndpoint: unix://%s
address: %s
port: %d
readOnlyPort: 0
healthzPort: 0
authentication: {anonymous: {enabled: false}, webhook: {enabled: false}}
authorization: {mode: AlwaysAllow}
failSwapOn: false
podLogsDir: %s
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
evictionHard: {memory.available: "1Mi", nodefs.available: "1%%", imagefs.available: "1%%", nodefs.inodesFree: "1%%"}
fileCheckFrequency: 1h
nodeStatusUpdateFrequency: 2s
registerNode: true
`, n.cgroupRoot, n.socket, n.IP, port, n.path("pod-logs"))
	if err := writeFile(n.path("kubelet.yaml"), cfg); err != nil {
		return err
	}
	return n.start("kubelet", filepath.Join(Assets(), "kubelet"), "--config", n.path("kubelet.yaml"), "--kubeconfig", n.path("kubeconfig"),
		"--root-dir", n.path("kubelet"), "--cert-dir", n.path("kubelet", "pki"), "--hostname-override", n.Name, "--node-ip", n.IP.String(), "--v", "1")
}

// cgroupHierarchies are the cgroup hierarchies' mount points: the one
// of cgroup v2 (GitHub's runners), or each v1 controller's (this host).
func cgroupHierarchies() []string {
	if _, err := os.Stat("/sys/fs/cgroup/cgroup.controllers"); err == nil {
		return []string{"/sys/fs/cgroup"}
	}
	var out []string
	ents, _ := os.ReadDir("/sys/fs/cgroup")
	for _, e := range ents {
		if e.IsDir() {
			out = append(out, filepath.Join("/sys/fs/cgroup", e.Name()))
		}
	}
	return out
}

// cgroupDirs are the node's cgroupRoot in every hierarchy.
func (n *Node) cgroupDirs() []string {
	var out []string
	for _, h := range cgroupHierarchies() {
		out = append(out, filepath.Join(h, n.cgroupRoot))
	}
	return out
}

// makeCgroupRoot makes cgroupRoot in every hierarchy (kubelet wants it
// there), a v1 cpuset's CPUs and memory nodes those of the root.
func (n *Node) makeCgroupRoot() error {
	for _, d := range n.cgroupDirs() {
		if err := os.Mkdir(d, 0o755); err != nil && !errors.Is(err, os.ErrExist) {
			return fmt.Errorf("cgroup %s: %w", d, err)
		}
		h := filepath.Dir(d)
		if filepath.Base(h) != "cpuset" {
			continue
		}
		for _, f := range []string{"cpuset.cpus", "cpuset.mems"} {
			b, err := os.ReadFile(filepath.Join(h, f))
			if err != nil {
				return err
			}
			if err := os.WriteFile(filepath.Join(d, f), b, 0o644); err != nil {
				return fmt.Errorf("cgroup %s: %w", filepath.Join(d, f), err)
			}
		}
	}
	return nil
}

func (n *Node) startScheduler(context.Context) error {
	return n.start("kube-scheduler", filepath.Join(Assets(), "kube-scheduler"), "--kubeconfig", n.path("kubeconfig"),
		"--authentication-kubeconfig", n.path("kubeconfig"), "--authorization-kubeconfig", n.path("kubeconfig"),
		"--secure-port", "0", "--leader-elect=false", "--v", "1")
}

// waitReady waits until the Node reports Ready.
func (n *Node) waitReady(ctx context.Context) error {
	return n.waitFor(ctx, "node "+n.Name+" Ready", 3*time.Minute, func() error {
		var node corev1.Node
		if err := n.env.Client.Get(ctx, client.ObjectKey{Name: n.Name}, &node); err != nil {
			return err
		}
		for _, c := range node.Status.Conditions {
			if c.Type == corev1.NodeReady {
				if c.Status == corev1.ConditionTrue {
					return n.untaint(ctx, &node)
				}
				return fmt.Errorf("%s: %s", c.Reason, c.Message)
			}
		}
		return errors.New("no Ready condition yet")
	})
}

// untaint removes the not-ready taint kubelet registers the node with:
// the node lifecycle controller's job in a cluster (no controller manager
// runs here), without which the scheduler places no pod on the node.
func (n *Node) untaint(ctx context.Context, node *corev1.Node) error {
	var keep []corev1.Taint
	for _, t := range node.Spec.Taints {
		if t.Key != corev1.TaintNodeNotReady {
			keep = append(keep, t)
		}
	}
	if len(keep) == len(node.Spec.Taints) {
		return nil
	}
	node.Spec.Taints = keep
	return n.env.Client.Update(ctx, node)
}
