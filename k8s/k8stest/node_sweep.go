package k8stest

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// nodeState is what a Node made on the host, saved while it runs so that
// the next Node removes what a killed test process left (its kubelet,
// scheduler and containerd end with it: they get SIGTERM when it dies).
type nodeState struct {
	PID        int    `json:"pid"`
	Dir        string `json:"dir"`
	IP         string `json:"ip"`
	Bridge     string `json:"bridge"`
	CgroupRoot string `json:"cgroupRoot"`
}

func statePath(pid int) string {
	return filepath.Join(Cache(), "nodes", strconv.Itoa(pid)+".json")
}

func (n *Node) saveState() error {
	b, err := json.Marshal(nodeState{PID: os.Getpid(), Dir: n.Dir, IP: n.IP.String(), Bridge: n.bridge, CgroupRoot: n.cgroupRoot})
	if err != nil {
		return err
	}
	return writeFile(statePath(os.Getpid()), string(b))
}

// sweepDeadNodes stops what the nodes of test processes that no longer
// run left on the host.
func sweepDeadNodes() error {
	files, _ := filepath.Glob(filepath.Join(Cache(), "nodes", "*.json"))
	var errs []error
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		var st nodeState
		if err := json.Unmarshal(b, &st); err != nil || st.PID <= 0 || st.PID == os.Getpid() {
			continue
		}
		if err := syscall.Kill(st.PID, 0); !errors.Is(err, syscall.ESRCH) {
			continue // alive (or a new process with its PID: leave it)
		}
		ip, err := netip.ParseAddr(st.IP)
		if err != nil || !strings.HasPrefix(filepath.Base(st.Dir), "sck-node-") {
			continue
		}
		dead := &Node{Dir: st.Dir, IP: ip, bridge: st.Bridge, cgroupRoot: st.CgroupRoot, claimed: true,
			socket: filepath.Join(st.Dir, "containerd.sock"), statePID: st.PID}
		if err := dead.Stop(); err != nil {
			errs = append(errs, fmt.Errorf("leftovers of node of PID %d: %w", st.PID, err))
		}
	}
	return errors.Join(errs...)
}

// killCgroupProcs kills every process in the node's cgroup tree (its
// pods' processes: none once kubelet removed the pods) and waits until
// they are gone.
func (n *Node) killCgroupProcs() error {
	deadline := time.Now().Add(30 * time.Second)
	for {
		var pids []int
		for _, root := range n.cgroupDirs() {
			_ = filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
				if err != nil || d.IsDir() || d.Name() != "cgroup.procs" {
					return nil
				}
				b, _ := os.ReadFile(p)
				for _, f := range strings.Fields(string(b)) {
					if pid, err := strconv.Atoi(f); err == nil {
						pids = append(pids, pid)
					}
				}
				return nil
			})
		}
		if len(pids) == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("processes %v in cgroup %s outlived SIGKILL", pids, n.cgroupRoot)
		}
		for _, pid := range pids {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// killShims kills the containerd shims serving the node's containerd
// (found by its socket on their command lines): none after a clean stop.
func (n *Node) killShims() {
	cmdlines, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	for _, f := range cmdlines {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		args := strings.Split(string(b), "\x00")
		if !strings.HasPrefix(filepath.Base(args[0]), "containerd-shim") || !strings.Contains(string(b), n.socket) {
			continue
		}
		if pid, err := strconv.Atoi(filepath.Base(filepath.Dir(f))); err == nil {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
		// A killed shim leaves its socket: containerd 1.6 names it
		// /run/containerd/s/<sha256 of address/namespace/id>.
		flag := map[string]string{}
		for i := 1; i+1 < len(args); i++ {
			if strings.HasPrefix(args[i], "-") {
				flag[strings.TrimLeft(args[i], "-")] = args[i+1]
			}
		}
		if flag["namespace"] != "" && flag["id"] != "" {
			sum := sha256.Sum256([]byte(filepath.Join(n.socket, flag["namespace"], flag["id"])))
			_ = os.Remove(filepath.Join("/run/containerd/s", hex.EncodeToString(sum[:])))
		}
	}
}
