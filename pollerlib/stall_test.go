package pollerlib

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gosnmp/gosnmp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// stallChildEnv makes the test binary the poller of
// TestStalledPollerListensOn: one Get of the agent at the address it holds.
const stallChildEnv = "POLLERLIB_STALL_CHILD"

// stallWait is the child's one attempt: long enough that the parent stops
// the child inside it even on a loaded machine.
const stallWait = 3 * time.Second

// TestStalledPollerListensOn: a poller whose process is descheduled past
// its last attempt's expiry (here stopped with SIGSTOP, as a loaded machine
// would hold it off the CPU) while the agent's answer arrives does not
// call the request lost when it runs again: its own stall is not silence
// it heard. The child sends one request (no retries); the parent, the
// agent, stops it, waits past the attempt's expiry, answers, and lets it
// go on.
func TestStalledPollerListensOn(t *testing.T) {
	if addr := os.Getenv(stallChildEnv); addr != "" {
		stallChild(addr)
		return
	}
	conn, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	require.NoError(t, err)
	defer conn.Close()
	cmd := exec.Command(os.Args[0], "-test.run=^TestStalledPollerListensOn$")
	cmd.Env = append(os.Environ(), stallChildEnv+"="+conn.LocalAddr().String())
	out, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	pid := cmd.Process.Pid
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()

	require.NoError(t, conn.SetReadDeadline(time.Now().Add(time.Minute)))
	buf := make([]byte, 1500)
	n, from, err := conn.ReadFromUDP(buf)
	require.NoError(t, err, "the child's request")
	sentAt := time.Now()
	require.NoError(t, syscall.Kill(pid, syscall.SIGSTOP))
	require.Eventually(t, func() bool { return processState(pid) == "T" }, time.Minute, 5*time.Millisecond, "the child stops")
	stopped := time.Since(sentAt)
	if stopped >= stallWait {
		t.Skipf("the child was stopped %s after its request, past its %s attempt: this machine is too loaded for the test", stopped, stallWait)
	}
	// The stall, the stimulus: the child stays stopped past its attempt's
	// expiry, and the answer reaches its socket meanwhile.
	time.Sleep(stallWait + time.Second - time.Since(sentAt))
	_, err = conn.WriteToUDP(answer(t, buf[:n]), from)
	require.NoError(t, err)
	require.NoError(t, syscall.Kill(pid, syscall.SIGCONT))

	sc := bufio.NewScanner(out)
	var result string
	for sc.Scan() {
		if r, ok := strings.CutPrefix(sc.Text(), "RESULT "); ok {
			result = r
		}
	}
	require.NoError(t, cmd.Wait())
	assert.Equal(t, "ok 1", result, "the answer that came while the poller was stopped is taken, not a timeout")
}

// stallChild is the child: one Get, one attempt of stallWait, its result
// printed as "RESULT ok N" or "RESULT error: ...".
func stallChild(addr string) {
	p, err := New(WithTimeouts(stallWait, stallWait, stallWait), WithRetries(0))
	if err != nil {
		fmt.Println("RESULT error:", err)
		return
	}
	defer func() { _ = p.Close(context.Background()) }()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	vbs, err := p.Get(ctx, Target{Addr: addr}, MustParseOID(".1.3.6.1.2.1.1.3.0"))
	if err != nil {
		fmt.Println("RESULT error:", err)
		return
	}
	fmt.Println("RESULT ok", len(vbs))
}

// processState is the state letter of /proc/PID/stat ("T": stopped).
func processState(pid int) string {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return ""
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 || i+3 > len(s) {
		return ""
	}
	return s[i+2 : i+3]
}

// answer is a GetResponse to request with sysUpTime, through gosnmp's
// codec.
func answer(t *testing.T, request []byte) []byte {
	t.Helper()
	g := &gosnmp.GoSNMP{Version: gosnmp.Version2c, Community: "public"}
	req, err := g.SnmpDecodePacket(request)
	require.NoError(t, err)
	resp := &gosnmp.SnmpPacket{
		Version: req.Version, Community: req.Community, PDUType: gosnmp.GetResponse, RequestID: req.RequestID,
		Variables: []gosnmp.SnmpPDU{{Name: ".1.3.6.1.2.1.1.3.0", Type: gosnmp.TimeTicks, Value: uint32(42)}},
	}
	b, err := resp.MarshalMsg()
	require.NoError(t, err)
	return b
}
