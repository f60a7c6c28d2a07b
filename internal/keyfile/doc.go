// Package keyfile keeps a small secret key in a local file: the ledger's
// credential-fingerprint key and the access logs' pseudonym key. The key is
// created (mode 0600, 32 random bytes, hex) on first use and never leaves
// the machine: it is not in the object store, so the archive alone cannot
// be tested against guessed secrets or card numbers.
package keyfile
