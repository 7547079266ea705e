package usm

import (
	"testing"
)

// FuzzParseMessage: the envelope reader never panics, and what it accepts
// has its slices inside the packet.
func FuzzParseMessage(f *testing.F) {
	k := NewMaster(User{Name: "ops", Auth: SHA, AuthPass: "authpassphrase", Priv: DES, PrivPass: "privpassphrase"}).Localize([]byte("engine"))
	scoped := AppendScopedPDU(nil, []byte("engine"), nil, []byte{0xa0, 0x0b, 0x02, 0x01, 0x01, 0x02, 0x01, 0x00, 0x02, 0x01, 0x00, 0x30, 0x00})
	var scratch []byte
	for _, fl := range []byte{0, FlagAuth, FlagAuth | FlagPriv} {
		f.Add(AppendMessage(nil, &Header{MsgID: 1, MaxSize: 1500, Flags: fl | FlagReportable, EngineID: []byte("engine"), Boots: 1, Time: 2,
			UserName: []byte("ops"), Keys: k, Salt: []byte("12345678")}, scoped, &scratch))
	}
	f.Fuzz(func(t *testing.T, pkt []byte) {
		var m Message
		if ParseMessage(pkt, &m) != nil || m.SecModel != SecurityModelUSM {
			return
		}
		if m.AuthOffset < 0 || m.AuthOffset+len(m.AuthParams) > len(pkt) {
			t.Fatalf("auth params at %d+%d outside %d bytes", m.AuthOffset, len(m.AuthParams), len(pkt))
		}
		k.VerifyMessage(pkt, &m)
		if m.Encrypted {
			_, _ = k.Decrypt(nil, m.Data, uint32(m.Boots), uint32(m.Time), m.PrivParams)
		} else {
			_, _, _, _ = ScopedPDU(m.Data)
		}
	})
}
