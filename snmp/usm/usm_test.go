package usm

import (
	"bytes"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/gosnmp/gosnmp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var gosnmpAuth = map[AuthProtocol]gosnmp.SnmpV3AuthProtocol{
	MD5: gosnmp.MD5, SHA: gosnmp.SHA, SHA224: gosnmp.SHA224, SHA256: gosnmp.SHA256, SHA384: gosnmp.SHA384, SHA512: gosnmp.SHA512,
}

var gosnmpPriv = map[PrivProtocol]gosnmp.SnmpV3PrivProtocol{
	DES: gosnmp.DES, AES: gosnmp.AES, AES192: gosnmp.AES192, AES256: gosnmp.AES256, AES192C: gosnmp.AES192C, AES256C: gosnmp.AES256C,
}

// TestLocalizeMatchesGosnmp checks every auth × priv pair against
// gosnmp's InitSecurityKeys, an independent implementation.
func TestLocalizeMatchesGosnmp(t *testing.T) {
	engineID := EngineID(42, 7)
	for a := MD5; a <= SHA512; a++ {
		for p := DES; p <= AES256C; p++ {
			t.Run(a.String()+"/"+p.String(), func(t *testing.T) {
				u := User{Name: "u", Auth: a, AuthPass: "authpassphrase", Priv: p, PrivPass: "privpassphrase"}
				require.NoError(t, u.Validate())
				k := NewMaster(u).Localize(engineID)
				sp := &gosnmp.UsmSecurityParameters{
					AuthoritativeEngineID: string(engineID), UserName: "u",
					AuthenticationProtocol: gosnmpAuth[a], AuthenticationPassphrase: "authpassphrase",
					PrivacyProtocol: gosnmpPriv[p], PrivacyPassphrase: "privpassphrase",
				}
				require.NoError(t, sp.InitSecurityKeys())
				assert.Equal(t, sp.SecretKey, k.AuthKey(), "auth key")
				want := sp.PrivacyKey
				if p == DES { // gosnmp keeps all of Kul and uses 16 bytes
					want = want[:16]
				}
				assert.Equal(t, want, k.PrivKey(), "priv key")
			})
		}
	}
}

// TestRFC3414Vectors checks password-to-key and localisation against
// RFC 3414 A.3.
func TestRFC3414Vectors(t *testing.T) {
	engineID := []byte{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2}
	for _, tc := range []struct {
		p   AuthProtocol
		ku  string
		kul string
	}{
		{MD5, "9faf3283884e92834ebc9847d8edd963", "526f5eed9fcce26f8964c2930787d82b"},
		{SHA, "9fb5cc0381497b3793528939ff788d5d79145211", "6695febc9288e36282235fc7151f128497b38f3f"},
	} {
		ku := PasswordToKey(tc.p, "maplesyrup")
		assert.Equal(t, tc.ku, fmt.Sprintf("%x", ku), tc.p.String())
		assert.Equal(t, tc.kul, fmt.Sprintf("%x", Localize(tc.p, ku, engineID)), tc.p.String())
	}
}

func TestEncryptRoundTrip(t *testing.T) {
	plain := bytes.Repeat([]byte("scoped pdu bytes "), 9)[:150]
	for p := DES; p <= AES256C; p++ {
		k := NewMaster(User{Name: "u", Auth: SHA, AuthPass: "authpassphrase", Priv: p, PrivPass: "privpassphrase"}).Localize([]byte("engine"))
		salt := []byte{1, 2, 3, 4, 5, 6, 7, 8}
		ct := k.Encrypt(nil, plain, 3, 1000, salt)
		assert.NotEqual(t, plain, ct[:len(plain)], p.String())
		got, err := k.Decrypt(nil, ct, 3, 1000, salt)
		require.NoError(t, err)
		assert.Equal(t, plain, got[:len(plain)], p.String())
		other, err := k.Decrypt(nil, ct, 3, 1001, salt)
		require.NoError(t, err)
		if p != DES { // DES ignores boots and time
			assert.NotEqual(t, plain, other[:len(plain)], p.String())
		}
		_, err = k.Decrypt(nil, ct, 3, 1000, salt[:7])
		require.ErrorIs(t, err, ErrDecrypt)
	}
}

func TestMessageRoundTripAndTamper(t *testing.T) {
	u := User{Name: "ops", Auth: SHA256, AuthPass: "authpassphrase", Priv: AES, PrivPass: "privpassphrase"}
	eid := EngineID(1, 2)
	k := NewMaster(u).Localize(eid)
	// GetRequest, request-id 7, varbind {1.3.6.1, NULL}.
	pdu := []byte{0xa0, 0x14, 0x02, 0x01, 0x07, 0x02, 0x01, 0x00, 0x02, 0x01, 0x00, 0x30, 0x09, 0x30, 0x07, 0x06, 0x03, 0x2b, 0x06, 0x01, 0x05, 0x00}
	scoped := AppendScopedPDU(nil, eid, []byte("ctx"), pdu)
	var scratch []byte
	msg := AppendMessage(nil, &Header{MsgID: 99, MaxSize: 65507, Flags: FlagAuth | FlagPriv | FlagReportable,
		EngineID: eid, Boots: 4, Time: 500, UserName: []byte("ops"), Keys: k, Salt: []byte("saltsalt")}, scoped, &scratch)
	var m Message
	require.NoError(t, ParseMessage(msg, &m))
	assert.Equal(t, int64(99), m.MsgID)
	assert.Equal(t, AuthPriv, m.Level())
	assert.Equal(t, eid, m.EngineID)
	assert.Equal(t, int64(4), m.Boots)
	assert.Equal(t, int64(500), m.Time)
	assert.True(t, m.Encrypted)
	assert.True(t, k.VerifyMessage(msg, &m))
	plain, err := k.Decrypt(nil, m.Data, 4, 500, m.PrivParams)
	require.NoError(t, err)
	ce, cn, gotPDU, err := ScopedPDU(plain)
	require.NoError(t, err)
	assert.Equal(t, eid, ce)
	assert.Equal(t, "ctx", string(cn))
	assert.Equal(t, pdu, gotPDU)
	for i := range msg {
		bad := bytes.Clone(msg)
		bad[i] ^= 0x01
		var bm Message
		if ParseMessage(bad, &bm) != nil {
			continue
		}
		assert.False(t, k.VerifyMessage(bad, &bm), "byte %d flipped still verifies", i)
	}
	// gosnmp decodes it too (it does not check the MAC).
	g := &gosnmp.GoSNMP{Version: gosnmp.Version3, SecurityModel: gosnmp.UserSecurityModel, MsgFlags: gosnmp.AuthPriv,
		SecurityParameters: &gosnmp.UsmSecurityParameters{UserName: "ops", AuthenticationProtocol: gosnmp.SHA256,
			AuthenticationPassphrase: "authpassphrase", PrivacyProtocol: gosnmp.AES, PrivacyPassphrase: "privpassphrase",
			AuthoritativeEngineID: string(eid), Logger: gosnmp.NewLogger(nil)}, Logger: gosnmp.NewLogger(nil)}
	require.NoError(t, g.SecurityParameters.(*gosnmp.UsmSecurityParameters).InitSecurityKeys())
	pkt, err := g.SnmpDecodePacket(bytes.Clone(msg))
	require.NoError(t, err)
	assert.Equal(t, uint32(99), pkt.MsgID)
	assert.Equal(t, uint32(7), pkt.RequestID)
	assert.Equal(t, "ctx", pkt.ContextName)
}

func TestParseUser(t *testing.T) {
	for _, tc := range []struct {
		in      string
		want    User
		wantErr string
	}{
		{"ro", User{Name: "ro"}, ""},
		{"a:sha-256:authpass1", User{Name: "a", Auth: SHA256, AuthPass: "authpass1"}, ""},
		{"a:SHA:authpass1:AES-256-C:privpass1", User{Name: "a", Auth: SHA, AuthPass: "authpass1", Priv: AES256C, PrivPass: "privpass1"}, ""},
		{"a:md5:short", User{}, "shorter than 8"},
		{"a:authpass1:SHA", User{}, "field 2 is not an auth protocol"},
		{"a:SHA:authpass1:privpass1:AES", User{}, "field 4 is not a priv protocol"},
		{"a:SHA", User{}, "2 fields"},
		{":SHA:authpass1", User{}, "name"},
	} {
		got, err := ParseUser(tc.in)
		if tc.wantErr != "" {
			require.ErrorIs(t, err, ErrBadUser, tc.in)
			assert.Contains(t, err.Error(), tc.wantErr, tc.in)
			assert.NotContains(t, err.Error(), "authpass1", "errors never show a passphrase")
			assert.NotContains(t, err.Error(), "privpass1", "errors never show a passphrase")
			continue
		}
		require.NoError(t, err, tc.in)
		assert.Equal(t, tc.want, got, tc.in)
	}
}

func TestSecretsNeverPrint(t *testing.T) {
	u := User{Name: "a", Auth: SHA, AuthPass: "topsecret1", Priv: AES, PrivPass: "topsecret2"}
	j, err := json.Marshal(u)
	require.NoError(t, err)
	for _, s := range []string{fmt.Sprint(u), fmt.Sprintf("%+v %#v %v %s %q", u, u, u.AuthPass, u.PrivPass, u.AuthPass), string(j), u.String()} {
		assert.NotContains(t, s, "topsecret")
	}
}

func TestClock(t *testing.T) {
	t0 := time.Unix(1000, 0)
	c := NewClock(t0)
	et := c.Load()
	assert.Equal(t, uint32(1), et.Boots)
	assert.Equal(t, uint32(90), et.At(t0.Add(90*time.Second+500*time.Millisecond), 0))
	assert.Equal(t, uint32(290), et.At(t0.Add(90*time.Second), 200*time.Second))
	assert.Equal(t, uint32(0), et.At(t0.Add(90*time.Second), -time.Hour))
	c.Reboot(t0.Add(time.Hour))
	et = c.Load()
	assert.Equal(t, uint32(2), et.Boots)
	assert.Equal(t, uint32(5), et.At(t0.Add(time.Hour+5*time.Second), 0))
}

func TestStatOf(t *testing.T) {
	for s := StatUnsupportedSecLevels; s <= StatDecryptionErrors; s++ {
		assert.Equal(t, s, StatOf(s.OID()))
	}
	assert.Equal(t, Stat(0), StatOf([]uint32{1, 3, 6, 1, 2, 1, 1, 1, 0}))
}
