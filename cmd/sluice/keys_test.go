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
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/sluicehq/sluice/internal/auth"
	"github.com/sluicehq/sluice/internal/store"
)

// keysEnv is a config file whose store lives in a fresh directory, and
// that store opened for checking what the CLI did.
type keysEnv struct {
	config string
	db     *store.DB
}

func newKeysEnv(t *testing.T) keysEnv {
	t.Helper()
	dir := t.TempDir()
	cfg := writeFile(t, "server:\n  data_dir: "+filepath.Join(dir, "data")+"\n")
	db, err := store.Open(context.Background(), store.Config{DSN: filepath.Join(dir, "data", "sluice.db")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	ctx := context.Background()
	for _, ten := range []string{"ten_a", "ten_b"} {
		if err := db.CreateTenant(ctx, &store.Tenant{ID: ten, Name: ten}); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.CreateTeam(ctx, &store.Team{ID: "team_a", TenantID: "ten_a", Name: "a"}); err != nil {
		t.Fatal(err)
	}
	return keysEnv{config: cfg, db: db}
}

// create runs "keys create" and returns the secret, failing the test
// unless stdout is exactly that one line.
func (e keysEnv) create(t *testing.T, args ...string) string {
	t.Helper()
	out, errOut, err := runArgs(t, append([]string{"keys", "create", "--config", e.config}, args...)...)
	if err != nil {
		t.Fatalf("keys create %v: %v", args, err)
	}
	secret, ok := auth.ParseKey(strings.TrimSuffix(out, "\n"))
	if !ok || strings.Count(out, "\n") != 1 {
		t.Fatalf("keys create stdout = %q, want one key secret line", out)
	}
	if !strings.Contains(errOut, "shown only this once") || strings.Contains(errOut, secret) {
		t.Errorf("keys create stderr = %q, want a once-only note without the secret", errOut)
	}
	return secret
}

// byHash looks a secret up as the gateway does.
func (e keysEnv) byHash(t *testing.T, secret string) (store.Key, error) {
	t.Helper()
	return e.db.KeyByHash(context.Background(), auth.HashKey(secret))
}

func TestKeysCreate(t *testing.T) {
	e := newKeysEnv(t)
	before := time.Now()
	tests := []struct {
		name string
		args []string
		want store.Key
		ttl  time.Duration // ExpiresAt is now+ttl when set
	}{
		{name: "gateway key with defaults", args: []string{"--name", "ci"}, want: store.Key{Name: "ci"}},
		{
			name: "every attribute",
			args: []string{"--name", "svc", "--tenant", "ten_a", "--team", "team_a", "--role", "member",
				"--models", "gpt-4o*, mock/*", "--rpm", "60", "--tpm", "10000", "--expires", "720h"},
			want: store.Key{Name: "svc", TenantID: "ten_a", TeamID: "team_a", Role: "member",
				Policy: store.Policy{Models: []string{"gpt-4o*", "mock/*"}, RPM: 60, TPM: 10000}},
			ttl: 720 * time.Hour,
		},
		{name: "team implies its tenant", args: []string{"--name", "t", "--team", "team_a"},
			want: store.Key{Name: "t", TenantID: "ten_a", TeamID: "team_a"}},
		{name: "role gateway is the empty role", args: []string{"--name", "g", "--role", "gateway"},
			want: store.Key{Name: "g"}},
		{name: "owner admin key", args: []string{"--name", "root", "--role", "owner"},
			want: store.Key{Name: "root", Role: "owner"}},
		{name: "RFC 3339 expiry", args: []string{"--name", "x", "--expires", "2999-01-02T03:04:05Z"},
			want: store.Key{Name: "x", ExpiresAt: time.Date(2999, 1, 2, 3, 4, 5, 0, time.UTC)}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			secret := e.create(t, tc.args...)
			got, err := e.byHash(t, secret)
			if err != nil {
				t.Fatalf("KeyByHash(new secret): %v", err)
			}
			if !strings.HasPrefix(got.ID, "key_") || got.Prefix != auth.DisplayPrefix(secret) {
				t.Errorf("ID %q, prefix %q; want key_…, %q", got.ID, got.Prefix, auth.DisplayPrefix(secret))
			}
			if tc.ttl > 0 {
				if lo, hi := before.Add(tc.ttl), time.Now().Add(tc.ttl); got.ExpiresAt.Before(lo.Truncate(time.Microsecond)) || got.ExpiresAt.After(hi) {
					t.Errorf("ExpiresAt %v, want between %v and %v", got.ExpiresAt, lo, hi)
				}
				got.ExpiresAt = time.Time{}
			}
			ignore := cmpopts.IgnoreFields(store.Key{}, "ID", "Prefix", "Hash", "CreatedAt", "UpdatedAt", "LastUsedAt")
			if diff := cmp.Diff(got, tc.want, ignore, cmpopts.EquateApproxTime(0)); diff != "" {
				t.Errorf("stored key (-got +want):\n%s", diff)
			}
		})
	}
}

func TestKeysCreateRefusesBadInput(t *testing.T) {
	e := newKeysEnv(t)
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no name", nil, "--name is required"},
		{"blank name", []string{"--name", "  "}, "--name is required"},
		{"unknown role", []string{"--name", "x", "--role", "root"}, `--role "root"`},
		{"negative rpm", []string{"--name", "x", "--rpm", "-1"}, "must not be negative"},
		{"rpm not a number", []string{"--name", "x", "--rpm", "many"}, "-rpm"},
		{"empty model glob", []string{"--name", "x", "--models", "a,,b"}, "empty model glob"},
		{"bad expiry", []string{"--name", "x", "--expires", "soon"}, "neither a duration"},
		{"expiry in the past", []string{"--name", "x", "--expires", "2001-01-01T00:00:00Z"}, "in the past"},
		{"negative duration", []string{"--name", "x", "--expires", "-1h"}, "not a positive duration"},
		{"unknown tenant", []string{"--name", "x", "--tenant", "ten_zz"}, `no tenant "ten_zz"`},
		{"unknown team", []string{"--name", "x", "--team", "team_zz"}, `no team "team_zz"`},
		{"team of another tenant", []string{"--name", "x", "--tenant", "ten_b", "--team", "team_a"}, `belongs to tenant "ten_a"`},
		{"positional argument", []string{"ci"}, `unexpected argument "ci"`},
		{"unknown flag", []string{"--name", "x", "--colour", "red"}, "-colour"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out, _, err := runArgs(t, append([]string{"keys", "create", "--config", e.config}, tc.args...)...)
			if err == nil || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "\n") {
				t.Errorf("err = %v, want one line containing %q", err, tc.want)
			}
			if out != "" {
				t.Errorf("stdout = %q, want nothing", out)
			}
		})
	}
	if n, err := e.db.CountKeys(context.Background()); err != nil || n != 0 {
		t.Errorf("after refused creates the store holds %d keys (%v), want 0", n, err)
	}
}

func TestKeysList(t *testing.T) {
	e := newKeysEnv(t)
	ci := e.create(t, "--name", "ci")
	team := e.create(t, "--name", "team-key", "--team", "team_a", "--expires", "2999-01-01T00:00:00Z")
	gone := e.create(t, "--name", "old\tname")
	ids := map[string]string{}
	for _, s := range []string{ci, team, gone} {
		k, err := e.byHash(t, s)
		if err != nil {
			t.Fatal(err)
		}
		ids[s] = k.ID
	}
	if _, _, err := runArgs(t, "keys", "revoke", "--config", e.config, ids[gone]); err != nil {
		t.Fatal(err)
	}
	later := func() time.Time { return time.Date(3000, 1, 1, 0, 0, 0, 0, time.UTC) }
	tests := []struct {
		name      string
		args      []string
		now       func() time.Time
		want, not []string // substrings of stdout
	}{
		{name: "active keys", args: nil,
			want: []string{"ID  ", "STATUS", ids[ci], ids[team], "ci", "team-key", auth.DisplayPrefix(ci), "gateway", "ten_a", "team_a", "2999-01-01T00:00:00Z", "active"},
			not:  []string{ids[gone], "revoked"}},
		{name: "all shows revoked, names quoted", args: []string{"--all"},
			want: []string{ids[gone], "revoked", `"old\tname"`}},
		{name: "by tenant", args: []string{"--tenant", "ten_a"}, want: []string{ids[team]}, not: []string{ids[ci]}},
		{name: "by team", args: []string{"--team", "team_a"}, want: []string{ids[team]}, not: []string{ids[ci]}},
		{name: "expired by the clock", args: nil, now: later, want: []string{"expired"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			c := &keysCLI{stdout: &out, stderr: &errOut, now: time.Now}
			if tc.now != nil {
				c.now = tc.now
			}
			if err := c.run(context.Background(), append([]string{"list", "--config", e.config}, tc.args...)); err != nil {
				t.Fatal(err)
			}
			for _, s := range []string{ci, team, gone} {
				if strings.Contains(out.String(), s) {
					t.Fatalf("list shows a secret:\n%s", out.String())
				}
			}
			for _, w := range tc.want {
				if !strings.Contains(out.String(), w) {
					t.Errorf("list lacks %q:\n%s", w, out.String())
				}
			}
			for _, n := range tc.not {
				if strings.Contains(out.String(), n) {
					t.Errorf("list shows %q:\n%s", n, out.String())
				}
			}
		})
	}
}

func TestKeysRevoke(t *testing.T) {
	e := newKeysEnv(t)
	secret := e.create(t, "--name", "ci")
	k, err := e.byHash(t, secret)
	if err != nil {
		t.Fatal(err)
	}
	out, _, err := runArgs(t, "keys", "revoke", k.ID, "--config", e.config) // flags may follow the ID
	if err != nil || !strings.Contains(out, "revoked "+k.ID) {
		t.Fatalf("revoke: %q, %v", out, err)
	}
	if got, err := e.byHash(t, secret); err != nil || !got.Disabled {
		t.Errorf("after revoke KeyByHash = disabled %v, %v; want a disabled key", got.Disabled, err)
	}
	if _, errOut, err := runArgs(t, "keys", "revoke", "--config", e.config, k.ID); err != nil || !strings.Contains(errOut, "already revoked") {
		t.Errorf("second revoke: %q, %v; want success saying already revoked", errOut, err)
	}
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"unknown ID", []string{"key_nosuchkey"}, `no key "key_nosuchkey"`},
		{"no ID", nil, "expected a key ID"},
		{"two IDs", []string{k.ID, "key_other"}, `unexpected argument "key_other"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := runArgs(t, append([]string{"keys", "revoke", "--config", e.config}, tc.args...)...)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want %q", err, tc.want)
			}
		})
	}
}

func TestKeysRotate(t *testing.T) {
	e := newKeysEnv(t)
	first := e.create(t, "--name", "ci", "--rpm", "5")
	k, err := e.byHash(t, first)
	if err != nil {
		t.Fatal(err)
	}
	rotate := func(args ...string) string {
		t.Helper()
		out, errOut, err := runArgs(t, append([]string{"keys", "rotate", "--config", e.config}, args...)...)
		secret, ok := auth.ParseKey(strings.TrimSuffix(out, "\n"))
		if err != nil || !ok || strings.Contains(errOut, secret) {
			t.Fatalf("rotate %v: stdout %q, stderr %q, %v", args, out, errOut, err)
		}
		return secret
	}

	before := time.Now()
	second := rotate("--grace", "24h", k.ID)
	after := time.Now()
	for _, s := range []string{first, second} {
		got, err := e.byHash(t, s)
		if err != nil || got.ID != k.ID || got.RPM != 5 {
			t.Fatalf("within the grace KeyByHash = %q rpm %d, %v; want %q rpm 5", got.ID, got.RPM, err, k.ID)
		}
	}
	got, _ := e.byHash(t, second)
	if lo, hi := before.Add(24*time.Hour).Truncate(time.Microsecond), after.Add(24*time.Hour); got.PrevUntil.Before(lo) || got.PrevUntil.After(hi) {
		t.Errorf("PrevUntil = %v, want between %v and %v", got.PrevUntil, lo, hi)
	}
	if got.Prefix != auth.DisplayPrefix(second) {
		t.Errorf("prefix %q, want %q", got.Prefix, auth.DisplayPrefix(second))
	}

	third := rotate(k.ID, "--grace", "0")
	if _, err := e.byHash(t, third); err != nil {
		t.Errorf("KeyByHash(new secret) after --grace 0: %v", err)
	}
	for name, s := range map[string]string{"first": first, "second": second} {
		if _, err := e.byHash(t, s); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("KeyByHash(%s secret) after rotating with --grace 0: %v, want not found", name, err)
		}
	}

	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"negative grace", []string{"--grace", "-1h", k.ID}, "negative"},
		{"unknown ID", []string{"key_nosuchkey"}, `no key "key_nosuchkey"`},
		{"no ID", nil, "expected a key ID"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, _, err := runArgs(t, append([]string{"keys", "rotate", "--config", e.config}, tc.args...)...)
			if err == nil || !strings.Contains(err.Error(), tc.want) || out != "" {
				t.Errorf("stdout %q, err = %v; want nothing and %q", out, err, tc.want)
			}
		})
	}
	if _, _, err := runArgs(t, "keys", "revoke", "--config", e.config, k.ID); err != nil {
		t.Fatal(err)
	}
	if out, _, err := runArgs(t, "keys", "rotate", "--config", e.config, k.ID); err == nil || !strings.Contains(err.Error(), "revoked") || out != "" {
		t.Errorf("rotating a revoked key: %q, %v; want a refusal", out, err)
	}
}

func TestKeysAuditTrail(t *testing.T) {
	e := newKeysEnv(t)
	k, err := e.byHash(t, e.create(t, "--name", "ci"))
	if err != nil {
		t.Fatal(err)
	}
	for _, cmd := range []string{"rotate", "revoke"} {
		if _, _, err := runArgs(t, "keys", cmd, "--config", e.config, k.ID); err != nil {
			t.Fatal(err)
		}
	}
	entries, _, err := e.db.QueryAudit(context.Background(), store.AuditFilter{Target: k.ID})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, a := range entries {
		got = append(got, a.Actor+" "+a.Action)
	}
	want := []string{"cli key.revoke", "cli key.rotate", "cli key.create"} // newest first
	if diff := cmp.Diff(got, want, cmpopts.SortSlices(func(a, b string) bool { return a < b })); diff != "" {
		t.Errorf("audit entries (-got +want):\n%s", diff)
	}
}

// The embedded default keeps keys in ./data, and only create makes a store.
func TestKeysWithoutConfigUseDataDir(t *testing.T) {
	t.Chdir(t.TempDir())
	if _, _, err := runArgs(t, "keys", "list"); err == nil || !strings.Contains(err.Error(), "no store at") {
		t.Fatalf("list before any store: %v, want a no-store error", err)
	}
	if _, err := os.Stat("data"); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("list made ./data: %v", err)
	}
	out, errOut, err := runArgs(t, "keys", "create", "--name", "local")
	if err != nil || !strings.Contains(errOut, "first admin key") {
		t.Fatalf("first create in an empty store: %v; stderr %q should say serve makes no admin key now", err, errOut)
	}
	if _, errOut, err := runArgs(t, "keys", "create", "--name", "second"); err != nil || strings.Contains(errOut, "first admin key") {
		t.Errorf("second create: %v; stderr %q repeats the first-admin note", err, errOut)
	}
	if _, err := os.Stat(filepath.Join("data", "sluice.db")); err != nil {
		t.Fatalf("create did not use ./data/sluice.db: %v", err)
	}
	list, _, err := runArgs(t, "keys", "list")
	if err != nil || !strings.Contains(list, "local") || strings.Contains(list, strings.TrimSpace(out)) {
		t.Errorf("list: %v\n%s", err, list)
	}
}

func TestKeysUsage(t *testing.T) {
	if _, errOut, err := runArgs(t, "keys"); err == nil || !strings.Contains(errOut, "sluice keys create") {
		t.Errorf("keys without a subcommand: %v, usage %q", err, errOut)
	}
	if _, _, err := runArgs(t, "keys", "delete"); err == nil || !strings.Contains(err.Error(), `"delete"`) {
		t.Errorf("unknown subcommand: %v", err)
	}
	for _, sub := range []string{"create", "list", "revoke", "rotate"} {
		_, errOut, err := runArgs(t, "keys", sub, "--help")
		if !errors.Is(err, flag.ErrHelp) || !strings.Contains(errOut, "--config") {
			t.Errorf("keys %s --help: %v, %q", sub, err, errOut)
		}
	}
}

// expiresCases seed both TestParseExpires and FuzzParseExpires.
var expiresCases = []struct {
	name, in string
	want     time.Time
	err      string
}{
	{name: "empty is never", in: ""},
	{name: "duration", in: "720h", want: fixedNow.Add(720 * time.Hour)},
	{name: "mixed duration", in: "1h30m", want: fixedNow.Add(90 * time.Minute)},
	{name: "RFC 3339 UTC", in: "2031-02-03T04:05:06Z", want: time.Date(2031, 2, 3, 4, 5, 6, 0, time.UTC)},
	{name: "RFC 3339 offset", in: "2031-02-03T04:05:06+02:00", want: time.Date(2031, 2, 3, 2, 5, 6, 0, time.UTC)},
	{name: "zero duration", in: "0s", err: "not a positive duration"},
	{name: "negative duration", in: "-5m", err: "not a positive duration"},
	{name: "now is not in the future", in: "2030-01-01T00:00:00Z", err: "in the past"},
	{name: "days are not a Go duration", in: "30d", err: "neither a duration"},
	{name: "date only", in: "2031-02-03", err: "neither a duration"},
}

var fixedNow = time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)

func TestParseExpires(t *testing.T) {
	for _, tc := range expiresCases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseExpires(tc.in, fixedNow)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("parseExpires(%q) = %v, %v; want error %q", tc.in, got, err, tc.err)
				}
				return
			}
			if err != nil || !got.Equal(tc.want) {
				t.Errorf("parseExpires(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
			}
		})
	}
}

func FuzzParseExpires(f *testing.F) {
	for _, tc := range expiresCases {
		f.Add(tc.in)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := parseExpires(s, fixedNow)
		switch {
		case err != nil && !got.IsZero():
			t.Errorf("parseExpires(%q) failed but returned %v", s, got)
		case err == nil && s != "" && !got.After(fixedNow):
			t.Errorf("parseExpires(%q) = %v, not after now", s, got)
		case err == nil && s == "" && !got.IsZero():
			t.Errorf("parseExpires(\"\") = %v, want never", got)
		}
	})
}

var modelsCases = []struct {
	name, in string
	want     []string
	err      bool
}{
	{name: "empty is every model", in: ""},
	{name: "spaces are every model", in: "  "},
	{name: "one", in: "gpt-4o*", want: []string{"gpt-4o*"}},
	{name: "trimmed list", in: " gpt-4o* , mock/* ", want: []string{"gpt-4o*", "mock/*"}},
	{name: "empty entry", in: "a,,b", err: true},
	{name: "trailing comma", in: "a,", err: true},
	{name: "only a comma", in: ",", err: true},
}

func TestParseModels(t *testing.T) {
	for _, tc := range modelsCases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseModels(tc.in)
			if (err != nil) != tc.err {
				t.Fatalf("parseModels(%q) error = %v, want error %v", tc.in, err, tc.err)
			}
			if diff := cmp.Diff(got, tc.want); diff != "" {
				t.Errorf("parseModels(%q) (-got +want):\n%s", tc.in, diff)
			}
		})
	}
}

func FuzzParseModels(f *testing.F) {
	for _, tc := range modelsCases {
		f.Add(tc.in)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := parseModels(s)
		if err != nil {
			return
		}
		for _, m := range got {
			if m == "" || m != strings.TrimSpace(m) || strings.Contains(m, ",") {
				t.Errorf("parseModels(%q) gave entry %q", s, m)
			}
		}
		if len(got) > 0 && len(got) != strings.Count(s, ",")+1 {
			t.Errorf("parseModels(%q) = %q: entries lost", s, got)
		}
		again, err := parseModels(strings.Join(got, ","))
		if diff := cmp.Diff(again, got); err != nil || diff != "" {
			t.Errorf("parseModels(%q) does not round-trip: %v (-again +first):\n%s", s, err, diff)
		}
	})
}

func TestParseOnly(t *testing.T) {
	tests := []struct {
		name  string
		args  []string
		n     int
		grace string
		pos   []string
		err   string
	}{
		{name: "flag first", args: []string{"--grace", "1h", "key_a"}, n: 1, grace: "1h0m0s", pos: []string{"key_a"}},
		{name: "flag after", args: []string{"key_a", "--grace", "2h"}, n: 1, grace: "2h0m0s", pos: []string{"key_a"}},
		{name: "dash dash keeps a dashed ID", args: []string{"--", "-odd"}, n: 1, grace: "0s", pos: []string{"-odd"}},
		{name: "missing", args: []string{"--grace", "1h"}, n: 1, err: "expected a key ID"},
		{name: "extra", args: []string{"a", "b"}, n: 1, err: `unexpected argument "b"`},
		{name: "none wanted", args: []string{"a"}, n: 0, err: `unexpected argument "a"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fs := flag.NewFlagSet("t", flag.ContinueOnError)
			fs.SetOutput(new(bytes.Buffer))
			grace := fs.Duration("grace", 0, "")
			err := parseOnly(fs, tc.args, tc.n)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff([]string{grace.String()}, []string{tc.grace}); diff != "" {
				t.Errorf("grace (-got +want):\n%s", diff)
			}
			if diff := cmp.Diff(fs.Args(), tc.pos); diff != "" {
				t.Errorf("positional (-got +want):\n%s", diff)
			}
		})
	}
}

// The same commands against PostgreSQL, when the test database is given.
func TestKeysPostgres(t *testing.T) {
	if os.Getenv("SLUICE_TEST_POSTGRES") == "" {
		t.Skip("SLUICE_TEST_POSTGRES is not set (e.g. postgres://postgres@127.0.0.1:5432/test?sslmode=disable)")
	}
	cfg := writeFile(t, "server:\n  data_dir: "+t.TempDir()+"\nstore:\n  driver: postgres\n  dsn: ${SLUICE_TEST_POSTGRES}\n")
	db, err := store.Open(context.Background(), store.Config{Driver: "postgres", DSN: os.Getenv("SLUICE_TEST_POSTGRES")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	e := keysEnv{config: cfg, db: db}
	out, errOut, err := runArgs(t, "keys", "create", "--config", cfg, "--name", "pg-ci", "--rpm", "7")
	secret, ok := auth.ParseKey(strings.TrimSpace(out))
	if err != nil || !ok || strings.Contains(errOut, "postgres://") {
		t.Fatalf("create: stdout %q, stderr %q, %v; want a secret and no DSN", out, errOut, err)
	}
	k, err := e.byHash(t, secret)
	if err != nil || k.Name != "pg-ci" || k.RPM != 7 {
		t.Fatalf("KeyByHash after create: %q rpm %d, %v", k.Name, k.RPM, err)
	}
	t.Cleanup(func() { db.DeleteKey(context.Background(), k.ID) })
	if list, _, err := runArgs(t, "keys", "list", "--config", cfg); err != nil || !strings.Contains(list, k.ID) || strings.Contains(list, secret) {
		t.Errorf("list: %v\n%s", err, list)
	}
	if _, _, err := runArgs(t, "keys", "revoke", "--config", cfg, k.ID); err != nil {
		t.Fatal(err)
	}
	if got, err := e.byHash(t, secret); err != nil || !got.Disabled {
		t.Errorf("after revoke: disabled %v, %v", got.Disabled, err)
	}
}
