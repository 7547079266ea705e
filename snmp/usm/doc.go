// Package usm is the User-based Security Model of SNMPv3 (RFC 3414, with
// the SHA-2 MACs of RFC 7860 and AES of RFC 3826): users and their
// protocols, password-to-key and key localisation, message authentication,
// encryption, engine IDs and the agent-side engine clock and usmStats
// counters, and a zero-copy reader and writer of the v3 message envelope.
//
// It serves both sides of snmpchaos: simagent's agents (authoritative
// engines) and pollerlib's v3 sessions (non-authoritative). It depends on
// nothing else in snmpchaos. Key localisation matches gosnmp's
// UsmSecurityParameters.InitSecurityKeys (checked in the tests) but costs
// one password hash per user instead of one per (engine, user) for the
// common protocols, and keeps localised keys out of gosnmp's global cache.
//
// Passphrases are Secret values: they never print.
package usm
