package vault

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
)

// EnvMasterKey names the environment variable holding the master key.
const EnvMasterKey = "SLUICE_MASTER_KEY"

// KeySize is the master key's length in bytes (AES-256).
const KeySize = 32

// NonceSize is the length of the random nonce that starts every sealed
// value.
const NonceSize = 12

// Overhead is how much longer a sealed value is than its plaintext: the
// nonce and GCM's 16-byte tag.
const Overhead = NonceSize + 16

var (
	// ErrBadMasterKey is wrapped by ParseMasterKey's errors. They say what
	// is wrong with the value's shape, never the value.
	ErrBadMasterKey = errors.New("vault: invalid " + EnvMasterKey)
	// ErrOpen is returned by Open for a value it cannot open: sealed under
	// another master key, bound to another row, truncated or altered.
	// The causes are deliberately not told apart.
	ErrOpen = errors.New("vault: cannot open the sealed value (another master key, another row, or altered data)")
)

// Vault seals and opens values under one master key. It is safe for
// concurrent use. Its String form is its ID: formatting a Vault never
// prints the key.
type Vault struct {
	aead cipher.AEAD
	id   string
}

// New returns a vault for key, which must be KeySize bytes. The vault
// keeps no reference to key.
func New(key []byte) (*Vault, error) {
	if len(key) != KeySize {
		return nil, fmt.Errorf("%w: want %d bytes, got %d", ErrBadMasterKey, KeySize, len(key))
	}
	block, err := aes.NewCipher(key)
	if err != nil { // cannot happen for 32 bytes
		return nil, fmt.Errorf("vault: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("vault: %w", err)
	}
	return &Vault{aead: aead, id: fingerprint(key)}, nil
}

// fingerprint is the master key's ID: the first 8 bytes of
// SHA-256("sluice-master-id:" + key), in hex. It names the key (which
// stored values it sealed) without revealing it.
func fingerprint(key []byte) string {
	h := sha256.New()
	h.Write([]byte("sluice-master-id:"))
	h.Write(key)
	return hex.EncodeToString(h.Sum(nil)[:8])
}

// ParseMasterKey reads a master key as an operator writes it in
// SLUICE_MASTER_KEY: exactly KeySize bytes given as 64 hex digits or as
// base64 (standard or URL alphabet, padded or not). Surrounding
// whitespace (a trailing newline from a file) is ignored. Errors wrap
// ErrBadMasterKey and describe only the value's length and shape.
func ParseMasterKey(s string) (*Vault, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, fmt.Errorf("%w: it is empty; set it to 32 random bytes as 64 hex digits (openssl rand -hex 32)", ErrBadMasterKey)
	}
	if len(s) == 2*KeySize {
		if key, err := hex.DecodeString(s); err == nil {
			return New(key)
		}
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if key, err := enc.DecodeString(s); err == nil && len(key) == KeySize {
			return New(key)
		}
	}
	return nil, fmt.Errorf("%w: a value of %d characters that is neither 64 hex digits nor base64 of 32 bytes; "+
		"generate one with: openssl rand -hex 32", ErrBadMasterKey, len(s))
}

// ID returns the master key's fingerprint (16 hex digits): stored with
// every value it seals, so values sealed under another key can be found.
func (v *Vault) ID() string { return v.id }

// String returns "vault " + ID; it never holds the key.
func (v *Vault) String() string { return "vault " + v.id }

// GoString is String, so %#v does not print the cipher's internals.
func (v *Vault) GoString() string { return v.String() }

// Seal encrypts plaintext bound to aad (which is authenticated, not
// stored): nonce || ciphertext || tag, len(plaintext)+Overhead bytes.
func (v *Vault) Seal(plaintext, aad []byte) ([]byte, error) {
	out := make([]byte, NonceSize, len(plaintext)+Overhead)
	if _, err := rand.Read(out); err != nil {
		return nil, fmt.Errorf("vault: random nonce: %w", err)
	}
	return v.aead.Seal(out, out, plaintext, aad), nil
}

// Open decrypts a value made by Seal with the same master key and aad, or
// fails with ErrOpen.
func (v *Vault) Open(sealed, aad []byte) ([]byte, error) {
	if len(sealed) < Overhead {
		return nil, ErrOpen
	}
	pt, err := v.aead.Open(nil, sealed[:NonceSize], sealed[NonceSize:], aad)
	if err != nil {
		return nil, ErrOpen
	}
	return pt, nil
}

// CredentialAAD is the associated data that binds a provider credential's
// sealed key to its row: its ID and provider. A sealed value copied to
// another row (or a row whose provider was changed) does not open.
func CredentialAAD(id, provider string) []byte {
	// The ID is length-prefixed, so no pair of (id, provider) strings
	// shares another pair's encoding.
	const tag = "sluice-credential/v1\x00"
	b := make([]byte, 0, len(tag)+binary.MaxVarintLen64+len(id)+len(provider))
	b = append(b, tag...)
	b = binary.AppendUvarint(b, uint64(len(id)))
	b = append(b, id...)
	return append(b, provider...)
}

// SealCredential seals secret for the credential id of provider.
func (v *Vault) SealCredential(id, provider, secret string) ([]byte, error) {
	return v.Seal([]byte(secret), CredentialAAD(id, provider))
}

// OpenCredential opens the sealed secret of the credential id of provider.
func (v *Vault) OpenCredential(id, provider string, sealed []byte) (string, error) {
	pt, err := v.Open(sealed, CredentialAAD(id, provider))
	if err != nil {
		return "", err
	}
	return string(pt), nil
}
