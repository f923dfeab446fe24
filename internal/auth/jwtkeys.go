package auth

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"strings"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// minRSABits is the smallest RSA modulus accepted from any source.
const minRSABits = 2048

// verifyKey is one public key a token may be checked against.
type verifyKey struct {
	kid string // "" for static keys and JWKS keys without one
	alg string // the JWK's "alg", "" = any algorithm that fits the key
	key any    // *rsa.PublicKey, *ecdsa.PublicKey or ed25519.PublicKey
}

// keySet is one fetched JWKS. It is immutable once published.
type keySet struct {
	keys      []verifyKey
	fetchedAt time.Time
}

// hasKid reports whether any key carries kid; false for a nil set.
func (s *keySet) hasKid(kid string) bool {
	if s == nil {
		return false
	}
	for _, k := range s.keys {
		if k.kid == kid {
			return true
		}
	}
	return false
}

// verifyWith tries sig against the JWKS keys that fit kid and alg, then
// against every static key that fits alg, and returns the payload of the
// first that verifies. tried counts the keys attempted. A token without kid
// is tried against every fitting JWKS key; a JWKS key without kid is tried
// for any token kid.
func verifyWith(sig *jose.JSONWebSignature, set *keySet, static []verifyKey, kid, alg string) (payload []byte, tried int) {
	if set != nil {
		for _, k := range set.keys {
			if kid != "" && k.kid != "" && k.kid != kid || !k.fits(alg) {
				continue
			}
			tried++
			if p, err := sig.Verify(k.key); err == nil {
				return p, tried
			}
		}
	}
	for _, k := range static {
		if !k.fits(alg) {
			continue
		}
		tried++
		if p, err := sig.Verify(k.key); err == nil {
			return p, tried
		}
	}
	return nil, tried
}

// fits reports whether k may verify a signature made with alg: the key type
// (and EC curve) must match, and so must the JWK's own "alg" when it has one.
func (k verifyKey) fits(alg string) bool {
	if k.alg != "" && k.alg != alg {
		return false
	}
	switch key := k.key.(type) {
	case *rsa.PublicKey:
		return strings.HasPrefix(alg, "RS") || strings.HasPrefix(alg, "PS")
	case *ecdsa.PublicKey:
		switch alg {
		case "ES256":
			return key.Curve == elliptic.P256()
		case "ES384":
			return key.Curve == elliptic.P384()
		case "ES512":
			return key.Curve == elliptic.P521()
		}
	case ed25519.PublicKey:
		return alg == "EdDSA"
	}
	return false
}

// publicKey checks that key is a usable signature-verification key and
// returns it unchanged.
func publicKey(key any) (any, error) {
	switch k := key.(type) {
	case *rsa.PublicKey:
		if k == nil || k.N == nil {
			return nil, errors.New("empty rsa key")
		}
		if k.N.BitLen() < minRSABits {
			return nil, fmt.Errorf("rsa key of %d bits is too small (minimum %d)", k.N.BitLen(), minRSABits)
		}
		return k, nil
	case *ecdsa.PublicKey:
		if k == nil {
			return nil, errors.New("empty ec key")
		}
		switch k.Curve {
		case elliptic.P256(), elliptic.P384(), elliptic.P521():
			return k, nil
		}
		return nil, errors.New("unsupported ec curve")
	case ed25519.PublicKey:
		// go-jose's JWK encoder refuses wrong sizes and low-order points.
		if _, err := (jose.JSONWebKey{Key: k}).MarshalJSON(); err != nil {
			return nil, errors.New("unusable ed25519 key (wrong size or low-order point)")
		}
		return k, nil
	}
	return nil, fmt.Errorf("unsupported key type %T", key)
}

// parsePEMKeys reads every PEM block of text as a public key. Private keys
// are refused rather than silently reduced to their public half: they do
// not belong in gateway config.
func parsePEMKeys(text string) ([]verifyKey, error) {
	var keys []verifyKey
	rest := []byte(text)
	for {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}
		var key any
		var err error
		switch block.Type {
		case "PUBLIC KEY":
			key, err = x509.ParsePKIXPublicKey(block.Bytes)
		case "RSA PUBLIC KEY":
			key, err = x509.ParsePKCS1PublicKey(block.Bytes)
		case "CERTIFICATE":
			var cert *x509.Certificate
			if cert, err = x509.ParseCertificate(block.Bytes); err == nil {
				key = cert.PublicKey
			}
		default:
			return nil, fmt.Errorf("pem block %q is not a public key or certificate", block.Type)
		}
		if err != nil {
			return nil, fmt.Errorf("parse %s: %w", strings.ToLower(block.Type), err)
		}
		if key, err = publicKey(key); err != nil {
			return nil, err
		}
		keys = append(keys, verifyKey{key: key})
	}
	if len(keys) == 0 {
		return nil, errors.New("no PEM block found")
	}
	return keys, nil
}

// parseJWK turns one JWKS entry into a verifyKey. Encryption keys, symmetric
// keys and anything go-jose or publicKey rejects are errors (the caller
// skips them); a private JWK is reduced to its public half.
func parseJWK(raw []byte) (verifyKey, error) {
	var jwk jose.JSONWebKey
	if err := jwk.UnmarshalJSON(raw); err != nil {
		return verifyKey{}, err
	}
	if jwk.Use != "" && jwk.Use != "sig" {
		return verifyKey{}, fmt.Errorf("key use %q is not sig", jwk.Use)
	}
	if jwk.Algorithm != "" && !supportedAlgorithms[jwk.Algorithm] {
		return verifyKey{}, fmt.Errorf("key alg %q is not supported", jwk.Algorithm)
	}
	pub := jwk.Public()
	key, err := publicKey(pub.Key)
	if err != nil {
		return verifyKey{}, err
	}
	return verifyKey{kid: jwk.KeyID, alg: jwk.Algorithm, key: key}, nil
}
