package vault

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"testing"
)

// testKey is a fixed master key for the tests.
var testKey = bytes.Repeat([]byte{0x42}, KeySize)

func mustVault(t testing.TB, key []byte) *Vault {
	t.Helper()
	v, err := New(key)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// parseCases are master-key values and whether they parse; the fuzzer is
// seeded with them.
var parseCases = []struct {
	name, in string
	ok       bool
}{
	{"hex lower", hex.EncodeToString(testKey), true},
	{"hex upper", strings.ToUpper(hex.EncodeToString(testKey)), true},
	{"hex with newline", hex.EncodeToString(testKey) + "\n", true},
	{"base64 std", base64.StdEncoding.EncodeToString(testKey), true},
	{"base64 raw std", base64.RawStdEncoding.EncodeToString(testKey), true},
	{"base64 url", base64.URLEncoding.EncodeToString(bytes.Repeat([]byte{0xfb}, KeySize)), true},
	{"base64 raw url", base64.RawURLEncoding.EncodeToString(bytes.Repeat([]byte{0xfb}, KeySize)), true},
	{"empty", "", false},
	{"spaces", "   ", false},
	{"hex too short", hex.EncodeToString(testKey[:31]), false},
	{"hex too long", hex.EncodeToString(append(testKey, 1)), false},
	{"hex not hex", strings.Repeat("zz", KeySize), false},
	{"base64 of 31 bytes", base64.StdEncoding.EncodeToString(testKey[:31]), false},
	{"base64 of 33 bytes", base64.StdEncoding.EncodeToString(append(testKey, 1)), false},
	{"passphrase", "correct horse battery staple", false},
}

func TestParseMasterKey(t *testing.T) {
	want := mustVault(t, testKey).ID()
	for _, tc := range parseCases {
		t.Run(tc.name, func(t *testing.T) {
			v, err := ParseMasterKey(tc.in)
			if tc.ok != (err == nil) {
				t.Fatalf("ParseMasterKey(%q) error = %v, want ok=%v", tc.in, err, tc.ok)
			}
			if err != nil {
				if !errors.Is(err, ErrBadMasterKey) {
					t.Errorf("error %v does not wrap ErrBadMasterKey", err)
				}
				if s := strings.TrimSpace(tc.in); len(s) >= 4 && strings.Contains(err.Error(), s) {
					t.Errorf("error echoes the value: %v", err)
				}
				if !strings.Contains(err.Error(), EnvMasterKey) {
					t.Errorf("error does not name %s: %v", EnvMasterKey, err)
				}
				return
			}
			if strings.Contains(tc.name, "hex") || strings.Contains(tc.name, "std") {
				if v.ID() != want {
					t.Errorf("ID %s, want %s (same key bytes)", v.ID(), want)
				}
			}
		})
	}
}

// A rejected value must never appear in the error, whatever its shape:
// regression guard for a "got %q" slipping into the message.
func TestParseMasterKeyNeverEchoes(t *testing.T) {
	secret := "my-super-secret-master-passphrase-that-is-wrong"
	_, err := ParseMasterKey(secret)
	if err == nil || strings.Contains(err.Error(), secret) || strings.Contains(err.Error(), "super-secret") {
		t.Fatalf("err = %v", err)
	}
}

func TestIDIsFingerprintNotKey(t *testing.T) {
	v := mustVault(t, testKey)
	if len(v.ID()) != 16 {
		t.Errorf("ID %q: want 16 hex digits", v.ID())
	}
	if strings.Contains(hex.EncodeToString(testKey), v.ID()) {
		t.Errorf("ID %q is part of the key", v.ID())
	}
	other := mustVault(t, bytes.Repeat([]byte{0x43}, KeySize))
	if other.ID() == v.ID() {
		t.Error("two keys share an ID")
	}
	for _, s := range []string{fmt.Sprint(v), fmt.Sprintf("%+v", v), fmt.Sprintf("%#v", v), fmt.Sprintf("%v", *v)} {
		if strings.Contains(s, hex.EncodeToString(testKey)) || strings.Contains(s, string(testKey)) {
			t.Errorf("formatting the vault shows the key: %s", s)
		}
	}
}

func TestSealOpenRoundTrip(t *testing.T) {
	v := mustVault(t, testKey)
	secret := "sk-proj-abcdefghijklmnopqrstuvwxyz0123456789"
	sealed, err := v.SealCredential("cred_1", "openai", secret)
	if err != nil {
		t.Fatal(err)
	}
	if len(sealed) != len(secret)+Overhead {
		t.Errorf("sealed is %d bytes, want %d", len(sealed), len(secret)+Overhead)
	}
	if bytes.Contains(sealed, []byte(secret)) || bytes.Contains(sealed, []byte(secret[len(secret)-8:])) {
		t.Fatal("the sealed value holds the secret in clear")
	}
	got, err := v.OpenCredential("cred_1", "openai", sealed)
	if err != nil || got != secret {
		t.Fatalf("OpenCredential = %q, %v", got, err)
	}
	again, _ := v.SealCredential("cred_1", "openai", secret)
	if bytes.Equal(again, sealed) {
		t.Error("two seals of one secret are equal: the nonce is not random")
	}
}

func TestOpenRefuses(t *testing.T) {
	v := mustVault(t, testKey)
	sealed, err := v.SealCredential("cred_1", "openai", "sk-secret-value-1234")
	if err != nil {
		t.Fatal(err)
	}
	flipped := bytes.Clone(sealed)
	flipped[len(flipped)/2] ^= 1
	for _, tc := range []struct {
		name         string
		v            *Vault
		id, provider string
		sealed       []byte
	}{
		{"wrong master key", mustVault(t, bytes.Repeat([]byte{7}, KeySize)), "cred_1", "openai", sealed},
		{"copied to another row", v, "cred_2", "openai", sealed},
		{"another provider", v, "cred_1", "anthropic", sealed},
		{"id and provider shifted", v, "cred_1o", "penai", sealed},
		{"altered", v, "cred_1", "openai", flipped},
		{"truncated", v, "cred_1", "openai", sealed[:len(sealed)-1]},
		{"shorter than the overhead", v, "cred_1", "openai", sealed[:Overhead-1]},
		{"empty", v, "cred_1", "openai", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.v.OpenCredential(tc.id, tc.provider, tc.sealed)
			if !errors.Is(err, ErrOpen) || got != "" {
				t.Fatalf("OpenCredential = %q, %v; want ErrOpen", got, err)
			}
		})
	}
}

func TestNewRefusesWrongLength(t *testing.T) {
	for _, n := range []int{0, 16, 24, 31, 33} {
		if _, err := New(make([]byte, n)); !errors.Is(err, ErrBadMasterKey) {
			t.Errorf("New(%d bytes) = %v, want ErrBadMasterKey", n, err)
		}
	}
}
