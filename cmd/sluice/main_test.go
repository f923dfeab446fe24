package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func runArgs(t *testing.T, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	var out, errOut bytes.Buffer
	err = run(context.Background(), args, &out, &errOut)
	return out.String(), errOut.String(), err
}

func writeFile(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "sluice.yaml")
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestConfigCheck(t *testing.T) {
	t.Setenv("MOCK_KEY", "sk-very-secret-value")
	good := writeFile(t, `
providers:
  - { name: mock-a, type: openai, base_url: http://127.0.0.1:9101/v1, api_key: "${MOCK_KEY}" }
models:
  - name: chat-default
    targets: [ { provider: mock-a, model: gpt-4o-mini } ]
`)
	out, _, err := runArgs(t, "config", "check", good)
	if err != nil || !strings.Contains(out, "ok (1 providers, 1 models)") {
		t.Fatalf("check good file: %q, %v", out, err)
	}
	out, _, err = runArgs(t, "config", "check", "--print", good)
	if err != nil || !strings.Contains(out, "mock-a") || strings.Contains(out, "sk-very-secret-value") {
		t.Fatalf("--print: %v\n%s", err, out)
	}

	bad := writeFile(t, `
server:
  lisen: 127.0.0.1:8080
models:
  - name: m
    targets: [ { provider: nowhere, model: x } ]
`)
	_, _, err = runArgs(t, "config", "check", bad)
	if err == nil {
		t.Fatal("a bad file passed the check")
	}
	for _, want := range []string{"sluice.yaml:3", "server.lisen", "sluice.yaml:6", "nowhere"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
}

func TestServeRefusesABadConfig(t *testing.T) {
	bad := writeFile(t, "providers: [ { name: x, type: nosuchtype } ]\n")
	_, _, err := runArgs(t, "serve", "--config", bad)
	if err == nil || !strings.Contains(err.Error(), "nosuchtype") {
		t.Fatalf("serve with a bad config: %v", err)
	}
}

func TestUsageAndHelp(t *testing.T) {
	if _, errOut, err := runArgs(t); err == nil || !strings.Contains(errOut, "sluice serve") {
		t.Errorf("no command: err=%v usage=%q", err, errOut)
	}
	if _, _, err := runArgs(t, "frobnicate"); err == nil || !strings.Contains(err.Error(), "frobnicate") {
		t.Errorf("unknown command: %v", err)
	}
	for _, cmd := range [][]string{{"serve", "--help"}, {"mock", "--help"}, {"config", "check", "--help"}} {
		_, errOut, err := runArgs(t, cmd...)
		if !errors.Is(err, flag.ErrHelp) || !strings.Contains(errOut, "Usage:") {
			t.Errorf("%v: err=%v output=%q", cmd, err, errOut)
		}
	}
	out, _, err := runArgs(t, "version")
	if err != nil || !strings.HasPrefix(out, "sluice ") {
		t.Errorf("version: %q %v", out, err)
	}
}

func TestEmbeddedDefaultStaysOnLoopback(t *testing.T) {
	for _, addr := range []string{"0.0.0.0:8080", ":8080", "[::]:8080", "192.0.2.1:8080"} {
		_, _, err := runArgs(t, "serve", "--listen", addr)
		if err == nil || !strings.Contains(err.Error(), "loopback") {
			t.Errorf("--listen %s with the embedded default: %v", addr, err)
		}
	}
	for _, addr := range []string{"127.0.0.1:1", "localhost:1", "[::1]:1"} {
		if !loopback(addr) {
			t.Errorf("loopback(%q) = false", addr)
		}
	}
}
