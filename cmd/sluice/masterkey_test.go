package main

import (
	"bytes"
	"errors"
	"log/slog"
	"strings"
	"testing"

	"github.com/sluicehq/sluice/internal/vault"
)

func TestMasterKey(t *testing.T) {
	const good = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"
	for _, tc := range []struct {
		name, env string
		unlocked  bool
		fails     bool
	}{
		{"unset", "", false, false},
		{"hex", good, true, false},
		{"malformed", "not-a-master-key-but-a-long-passphrase", false, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv(vault.EnvMasterKey, tc.env)
			var logs bytes.Buffer
			v, err := masterKey(slog.New(slog.NewTextHandler(&logs, nil)))
			if tc.fails != (err != nil) || tc.unlocked != (v != nil) {
				t.Fatalf("masterKey = %v, %v", v, err)
			}
			if err != nil && (!errors.Is(err, vault.ErrBadMasterKey) || strings.Contains(err.Error(), tc.env)) {
				t.Errorf("error %v: want ErrBadMasterKey without the value", err)
			}
			if tc.env != "" && strings.Contains(logs.String(), tc.env) {
				t.Errorf("the master key was logged: %s", logs.String())
			}
			if v != nil && !strings.Contains(logs.String(), "master_id="+v.ID()) {
				t.Errorf("the log lacks the fingerprint: %s", logs.String())
			}
			if v == nil && !tc.fails && !strings.Contains(logs.String(), "vault locked") {
				t.Errorf("the log does not say the vault is locked: %s", logs.String())
			}
		})
	}
}
