package usm

import (
	"encoding/binary"
	"errors"
)

// ErrDecrypt is a message that cannot be decrypted: bad privacy
// parameters, a ciphertext of the wrong length, or (seen by the caller) a
// plaintext that is not a ScopedPDU.
var ErrDecrypt = errors.New("usm: decryption error")

// Encrypt appends the encryption of plain to dst, as RFC 3414 8.1.1 (DES-CBC)
// or RFC 3826 3.1 (AES-CFB128) with the authoritative engine's boots and
// time and the 8-byte salt (msgPrivacyParameters). DES pads to 8 bytes.
func (k *Keys) Encrypt(dst, plain []byte, boots, engineTime uint32, salt []byte) []byte {
	if k.User.Priv == DES {
		var iv [8]byte
		for i := range iv {
			iv[i] = k.priv[8+i] ^ salt[i]
		}
		n := (len(plain) + 7) &^ 7
		start := len(dst)
		dst = append(dst, plain...)
		for len(dst)-start < n {
			dst = append(dst, 0)
		}
		out := dst[start:]
		prev := iv[:]
		for i := 0; i < n; i += 8 {
			b := out[i : i+8]
			for j := range 8 {
				b[j] ^= prev[j]
			}
			k.block.Encrypt(b, b)
			prev = b
		}
		return dst
	}
	var iv [16]byte
	aesIV(&iv, boots, engineTime, salt)
	start := len(dst)
	dst = append(dst, plain...)
	k.cfb(dst[start:], iv, true)
	return dst
}

// Decrypt appends the decryption of ct to dst. DES output keeps its padding.
func (k *Keys) Decrypt(dst, ct []byte, boots, engineTime uint32, salt []byte) ([]byte, error) {
	if len(salt) != 8 {
		return dst, ErrDecrypt
	}
	if k.User.Priv == DES {
		if len(ct)%8 != 0 {
			return dst, ErrDecrypt
		}
		var prev [8]byte
		for i := range prev {
			prev[i] = k.priv[8+i] ^ salt[i]
		}
		start := len(dst)
		dst = append(dst, ct...)
		out := dst[start:]
		for i := 0; i < len(out); i += 8 {
			var c [8]byte
			copy(c[:], out[i:i+8])
			k.block.Decrypt(out[i:i+8], out[i:i+8])
			for j := range 8 {
				out[i+j] ^= prev[j]
			}
			prev = c
		}
		return dst, nil
	}
	var iv [16]byte
	aesIV(&iv, boots, engineTime, salt)
	start := len(dst)
	dst = append(dst, ct...)
	k.cfb(dst[start:], iv, false)
	return dst, nil
}

func aesIV(iv *[16]byte, boots, engineTime uint32, salt []byte) {
	binary.BigEndian.PutUint32(iv[0:], boots)
	binary.BigEndian.PutUint32(iv[4:], engineTime)
	copy(iv[8:], salt)
}

// cfb runs AES-CFB128 over b in place.
func (k *Keys) cfb(b []byte, iv [16]byte, encrypt bool) {
	var ks [16]byte
	for i := 0; i < len(b); i += 16 {
		k.block.Encrypt(ks[:], iv[:])
		n := min(16, len(b)-i)
		blk := b[i : i+n]
		if encrypt {
			for j := range blk {
				blk[j] ^= ks[j]
			}
			copy(iv[:], blk)
		} else {
			copy(iv[:], blk)
			for j := range blk {
				blk[j] ^= ks[j]
			}
		}
	}
}
