package usm

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/des" //nolint:gosec // DES is an SNMPv3 privacy protocol (RFC 3414 8.1)
	"crypto/hmac"
	"crypto/md5" //nolint:gosec // HMAC-MD5-96 is an SNMPv3 auth protocol (RFC 3414 6)
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/subtle"
	"hash"
	"sync"
)

func (p AuthProtocol) newHash() func() hash.Hash {
	switch p {
	case MD5:
		return md5.New
	case SHA:
		return sha1.New
	case SHA224:
		return sha256.New224
	case SHA256:
		return sha256.New
	case SHA384:
		return sha512.New384
	case SHA512:
		return sha512.New
	}
	return nil
}

// PasswordToKey is Ku of RFC 3414 A.2: the hash of the passphrase repeated
// to 1 MiB. It is the costly step; its result does not depend on the
// engine, so compute it once per user.
func PasswordToKey(p AuthProtocol, pass Secret) []byte {
	h := p.newHash()()
	var chunk [64]byte
	n := len(pass)
	for i, j := 0, 0; i < 1<<20; i += 64 {
		for k := range chunk {
			chunk[k] = pass[j%n]
			j++
		}
		h.Write(chunk[:])
	}
	return h.Sum(nil)
}

// Localize is Kul of RFC 3414 A.2: H(Ku || engineID || Ku).
func Localize(p AuthProtocol, ku, engineID []byte) []byte {
	h := p.newHash()()
	h.Write(ku)
	h.Write(engineID)
	h.Write(ku)
	return h.Sum(nil)
}

// Master is a user with its passphrases turned into Ku: what is needed to
// localise its keys to any engine cheaply.
type Master struct {
	User   User
	authKu []byte
	privKu []byte
}

// NewMaster hashes u's passphrases (about a millisecond or two each).
func NewMaster(u User) *Master {
	m := &Master{User: u}
	if u.Auth != NoAuth {
		m.authKu = PasswordToKey(u.Auth, u.AuthPass)
	}
	if u.Priv != NoPriv {
		m.privKu = PasswordToKey(u.Auth, u.PrivPass)
	}
	return m
}

// Keys are a user's keys localised to one engine, with the MAC and cipher
// state built once. Safe for concurrent use.
type Keys struct {
	User     *User
	EngineID string
	auth     []byte
	priv     []byte
	macs     sync.Pool // hash.Hash (HMAC)
	block    cipher.Block
}

// Localize returns m's keys for engineID. For AES-192-C and AES-256-C it
// hashes a passphrase again (the Reeder extension localises Kul as a
// passphrase); for every other protocol it is two short hashes.
func (m *Master) Localize(engineID []byte) *Keys {
	u := m.User
	k := &Keys{User: &m.User, EngineID: string(engineID)}
	if u.Auth == NoAuth {
		return k
	}
	k.auth = Localize(u.Auth, m.authKu, engineID)
	newHash := u.Auth.newHash()
	k.macs.New = func() any { return hmac.New(newHash, k.auth) }
	if u.Priv == NoPriv {
		return k
	}
	kul := Localize(u.Auth, m.privKu, engineID)
	for len(kul) < u.Priv.KeyLen() {
		switch u.Priv {
		case AES192C, AES256C: // Reeder: Kul || Kul(passphrase = Kul)
			kul = append(kul, Localize(u.Auth, PasswordToKey(u.Auth, Secret(kul)), engineID)...)
		default: // Blumenthal: Kul || H(Kul) || H(Kul || H(Kul)) ...
			h := newHash()
			h.Write(kul)
			kul = h.Sum(kul)
		}
	}
	k.priv = kul[:u.Priv.KeyLen()]
	var err error
	if u.Priv == DES {
		k.block, err = des.NewCipher(k.priv[:8]) //nolint:gosec
	} else {
		k.block, err = aes.NewCipher(k.priv)
	}
	if err != nil { // cannot happen: key lengths are fixed above
		panic("usm: " + err.Error())
	}
	return k
}

// AuthKey and PrivKey return copies of the localised keys, for tests and
// for handing to other codecs.
func (k *Keys) AuthKey() []byte { return append([]byte(nil), k.auth...) }

// PrivKey returns a copy of the localised privacy key.
func (k *Keys) PrivKey() []byte { return append([]byte(nil), k.priv...) }

// MAC appends the truncated MAC of msg to dst.
func (k *Keys) MAC(dst, msg []byte) []byte {
	m := k.macs.Get().(hash.Hash)
	m.Reset()
	m.Write(msg)
	var sum [64]byte
	s := m.Sum(sum[:0])
	k.macs.Put(m)
	return append(dst, s[:k.User.Auth.MACLen()]...)
}

// Verify reports whether mac is the MAC of msg, in constant time.
func (k *Keys) Verify(msg, mac []byte) bool {
	var buf [64]byte
	want := k.MAC(buf[:0], msg)
	return len(mac) == len(want) && subtle.ConstantTimeCompare(want, mac) == 1
}
