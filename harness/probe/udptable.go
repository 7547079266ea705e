package probe

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"strconv"
	"strings"
)

// The UDP socket tables, udp and udp6 under /proc/net (this process's
// namespace) or /proc/PID/net (another process's), read the same way by
// ReadProc and PIDReader.
//
// How the kernel serves them (fs/seq_file.c seq_read_iter and
// net/ipv4/udp.c udp_seq_start, udp_get_idx, udp4_seq_show, Linux 6.x;
// checked with strace on a 6.18 kernel with 4 KiB pages):
//
//   - Every read() finds its place again: seq_read_iter calls
//     udp_seq_start with the number of the next line, and udp_get_idx
//     walks the hash table from bucket 0 counting that many sockets of the
//     namespace and family. It then prints lines into the seq_file's own
//     buffer until that buffer is full, the caller's is, or the table ends,
//     and copies that out. One read() returns at most one such buffer.
//   - That buffer is one page (m->size = PAGE_SIZE) and grows only when a
//     single line does not fit in it. A udp line is 128 bytes (padded to
//     127 and a newline) and a full buffer counts as an overflow, so one
//     read() returns at most 31 lines (3968 bytes) however large the
//     caller's buffer: one read() with a 256 KiB buffer of a table of 3,000
//     sockets returned 3968 bytes.
//   - Within one read() the walk goes bucket by bucket, each under its own
//     lock, along the bucket's list: every socket that stays open through
//     that read() is printed. Between two read() calls only the count from
//     bucket 0 finds the place, so a socket earlier in the table closing in
//     between makes the next read() skip a line (one opening repeats one).
//     Sockets of other namespaces are not counted, so only this
//     namespace's churn shifts it.
//
// So a large buffer does not make a large table one pass: it takes one
// read() per 31 lines whatever the buffer (3,000 sockets: 98 read() calls
// with a 1 MiB buffer, 111 with os.ReadFile, whose first reads of 512,
// 768, 896, ... bytes are each one more count from bucket 0). What it
// does give: a table that comes back in one read() (the header and up to
// 30 sockets with 4 KiB pages) is one pass and is read once; a larger one
// is read again (procTableReads) until a read finds none of the wanted
// sockets the earlier reads missed, so the union holds every wanted socket
// that stayed open through the reads.

// procTableReads bounds the reads of one table that took more than one
// read() call: at least 2 such reads, at most procTableReads (two make
// tests at once lost 3 of a poller's 30 sockets to one read of a large
// table; the second read found them).
const procTableReads = 4

// The read buffer of a table starts at tableBufStart bytes (about 500
// sockets) and doubles when a table fills it, up to tableBufMax (about
// 520,000 sockets); a larger table is an error (errTableTooLarge).
const (
	tableBufStart = 64 << 10
	tableBufMax   = 64 << 20
)

// errTableTooLarge is wrapped when a table does not fit in tableBufMax.
var errTableTooLarge = errors.New("harness: UDP socket table too large to read")

// readUDPTables returns the sockets among inodes in dir's udp and udp6
// tables (dir is /proc/net or /proc/PID/net; udp6 may be absent). buf is
// the read buffer, kept by the caller between calls (it may hold nil).
func readUDPTables(dir string, inodes map[uint64]bool, buf *[]byte) (map[uint64]UDPSocket, error) {
	out := make(map[uint64]UDPSocket)
	for _, name := range []string{"udp", "udp6"} {
		path := dir + "/" + name
		for k := range procTableReads {
			data, reads, err := readTableFile(path, *buf, tableBufMax)
			*buf = data
			if err != nil {
				if name == "udp6" && errors.Is(err, os.ErrNotExist) {
					break // no IPv6
				}
				return nil, err
			}
			n := len(out)
			parseUDPTable(data, inodes, out)
			if reads <= 1 || (k > 0 && len(out) == n) {
				break // one pass, or nothing new
			}
		}
	}
	return out, nil
}

// readTableFile reads the file at path whole, into buf when it is large
// enough (see readTable).
func readTableFile(path string, buf []byte, limit int) ([]byte, int, error) {
	f, err := os.Open(path)
	if err != nil {
		return buf, 0, err
	}
	defer f.Close()
	if cap(buf) < tableBufStart && limit >= tableBufStart {
		buf = make([]byte, 0, tableBufStart)
	}
	return readTable(f, path, buf, limit)
}

// readTable reads r (named name, for errors) to its end into buf[:0],
// doubling buf when a read fills it, and returns the bytes and how many
// read calls returned some. The content must be smaller than limit bytes:
// a read that fills limit bytes fails with errTableTooLarge.
func readTable(r io.Reader, name string, buf []byte, limit int) ([]byte, int, error) {
	buf = buf[:0]
	reads := 0
	for {
		if len(buf) == cap(buf) {
			if cap(buf) >= limit {
				return buf, reads, fmt.Errorf("%w: %s has %d bytes or more (%d lines) after %d reads, the bound is %d bytes",
					errTableTooLarge, name, len(buf), bytes.Count(buf, []byte{'\n'}), reads, limit)
			}
			grown := make([]byte, len(buf), min(max(2*cap(buf), 4096), limit))
			copy(grown, buf)
			buf = grown
		}
		n, err := r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if n > 0 {
			reads++
		}
		switch {
		case errors.Is(err, io.EOF):
			return buf, reads, nil
		case err != nil:
			return buf, reads, fmt.Errorf("%s: %w", name, err)
		case n == 0:
			return buf, reads, nil // a reader that returns nothing has ended
		}
	}
}

// parseUDPTable adds the sockets of a /proc/net/udp{,6} table whose inode
// is in inodes to out.
func parseUDPTable(data []byte, inodes map[uint64]bool, out map[uint64]UDPSocket) {
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 4096), 1<<20)
	first := true
	for sc.Scan() {
		if first { // header
			first = false
			continue
		}
		f := strings.Fields(sc.Text())
		if len(f) < 10 {
			continue
		}
		ino, err := strconv.ParseUint(f[9], 10, 64)
		if err != nil || !inodes[ino] {
			continue
		}
		u := UDPSocket{Inode: ino, Local: parseProcAddr(f[1]), Remote: parseProcAddr(f[2])}
		if _, rx, ok := strings.Cut(f[4], ":"); ok {
			u.RxQueue, _ = strconv.ParseUint(rx, 16, 64)
		}
		if len(f) > 12 {
			u.Drops, _ = strconv.ParseUint(f[12], 10, 64)
		}
		out[ino] = u
	}
}

// parseProcAddr reads "0100007F:0035" (IPv4) or a 32-hex-digit IPv6
// address with a port: each 32-bit word is in host (little-endian) order.
func parseProcAddr(s string) netip.AddrPort {
	h, p, ok := strings.Cut(s, ":")
	if !ok {
		return netip.AddrPort{}
	}
	port, err := strconv.ParseUint(p, 16, 16)
	if err != nil {
		return netip.AddrPort{}
	}
	b, err := hex.DecodeString(h)
	if err != nil || (len(b) != 4 && len(b) != 16) {
		return netip.AddrPort{}
	}
	for i := 0; i+4 <= len(b); i += 4 {
		b[i], b[i+1], b[i+2], b[i+3] = b[i+3], b[i+2], b[i+1], b[i]
	}
	a, _ := netip.AddrFromSlice(b)
	return netip.AddrPortFrom(a.Unmap(), uint16(port))
}
