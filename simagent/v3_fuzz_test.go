package simagent

import (
	"net"
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/snmpchaos/snmpchaos/snmp/usm"
	"github.com/stretchr/testify/require"
)

// FuzzV3Request feeds SNMPv3 messages to an agent through Fleet.handle: no
// input may crash it, and whatever it sends must be a v3 message its own
// reader accepts, from its engine.
func FuzzV3Request(f *testing.F) {
	users := []usm.User{
		{Name: "ops", Auth: usm.SHA, AuthPass: "authpass1", Priv: usm.AES, PrivPass: "privpass1"},
		{Name: "des", Auth: usm.MD5, AuthPass: "authpass1", Priv: usm.DES, PrivPass: "privpass1"},
		{Name: "ro"},
	}
	fl, err := Start(f.Context(), Config{Listen: netip.AddrPortFrom(netip.AddrFrom4([4]byte{127, 22, 250, 1}), 0), Store: testStore(f), Seed: 1, Users: users, Clock: frozen()})
	require.NoError(f, err)
	f.Cleanup(func() { require.NoError(f, fl.Close()) })
	a := fl.agents[0]
	eid := fl.EngineID(0)
	boots, et := fl.EngineTime(0)
	get := []byte{0xa0, 0x14, 0x02, 0x01, 0x07, 0x02, 0x01, 0x00, 0x02, 0x01, 0x00, 0x30, 0x09, 0x30, 0x07, 0x06, 0x03, 0x2b, 0x06, 0x01, 0x05, 0x00}
	bulk := slices.Clone(get)
	bulk[0], bulk[10] = 0xa5, 5
	for _, u := range users {
		k := usm.NewMaster(u).Localize(eid)
		for _, pdu := range [][]byte{get, bulk} {
			var scratch []byte
			f.Add(usm.AppendMessage(nil, &usm.Header{MsgID: 5, MaxSize: 1500, Flags: byte(u.Level()) | usm.FlagReportable, EngineID: eid,
				Boots: boots, Time: et, UserName: []byte(u.Name), Keys: k, Salt: []byte("saltsalt")}, usm.AppendScopedPDU(nil, eid, nil, pdu), &scratch))
		}
	}
	var scratch []byte
	f.Add(usm.AppendMessage(nil, &usm.Header{MsgID: 9, MaxSize: 1500, Flags: usm.FlagReportable}, usm.AppendScopedPDU(nil, nil, nil, get), &scratch))

	sink, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 22, 250, 9)})
	require.NoError(f, err)
	f.Cleanup(func() { _ = sink.Close() })
	dst := sink.LocalAddr().(*net.UDPAddr).AddrPort()
	w := &worker{buf: make([]byte, 65536), oob: make([]byte, oobSize), woob: make([]byte, oobSize)}
	buf := make([]byte, 65536)
	f.Fuzz(func(t *testing.T, pkt []byte) {
		sent := a.c.responses.Load()
		fl.handle(w, fl.socks[0], a, slices.Clone(pkt), dst)
		for range a.c.responses.Load() - sent {
			require.NoError(t, sink.SetReadDeadline(time.Now().Add(10*time.Second)))
			n, _, err := sink.ReadFromUDPAddrPort(buf)
			require.NoError(t, err)
			var m usm.Message
			require.NoError(t, usm.ParseMessage(buf[:n], &m), "reply % x", buf[:n])
			require.Equal(t, eid, m.EngineID)
		}
	})
}
