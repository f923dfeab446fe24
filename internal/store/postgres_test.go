package store

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestDSNSecrets(t *testing.T) {
	for _, tc := range []struct {
		name string
		dsn  string
		want []string // besides the DSN itself
	}{
		{"url", "postgres://u:s3cret@h/db", []string{"s3cret"}},
		{"url escaped", "postgres://u:p%40ss%2Fw@h/db", []string{"p%40ss%2Fw", "p%40ss%2Fw", "p@ss/w"}},
		{"url query", "postgresql://u@h/db?password=qp&sslmode=disable", []string{"qp"}},
		{"url without password", "postgres://u@h/db", nil},
		{"keyword/value", "host=h password=kv user=u", []string{"kv"}},
		{"keyword/value quoted", `host=h password='a b\'c' user=u`, []string{"a b'c"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := dsnSecrets(tc.dsn)
			if got[0] != tc.dsn {
				t.Errorf("first secret %q, want the DSN (the longest)", got[0])
			}
			for _, w := range tc.want {
				found := false
				for _, g := range got {
					found = found || g == w
				}
				if !found {
					t.Errorf("secrets %q lack %q", got, w)
				}
			}
		})
	}
}

func TestRedactDSN(t *testing.T) {
	dsn := "postgres://u:s3cret@h/db"
	for _, tc := range []struct {
		name      string
		err       error
		want      string
		keepChain bool
	}{
		{"clean", context.DeadlineExceeded, "context deadline exceeded", true},
		{"password", errors.New("auth s3cret failed"), "auth xxxxx failed", false},
		{"whole dsn", errors.New("cannot use " + dsn), "cannot use xxxxx", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := redactDSN(tc.err, dsn)
			if d := cmp.Diff(got.Error(), tc.want); d != "" {
				t.Errorf("message (-got +want):\n%s", d)
			}
			if errors.Is(got, tc.err) != tc.keepChain {
				t.Errorf("errors.Is(redacted, original) = %v, want %v", !tc.keepChain, tc.keepChain)
			}
		})
	}
}

// TestOpenPostgresHidesPassword opens DSNs that cannot work: no error may
// show the password. It needs no server.
func TestOpenPostgresHidesPassword(t *testing.T) {
	for _, tc := range []struct {
		name string
		dsn  string
	}{
		{"nothing listening", "postgres://sluice:s3cretpw@127.0.0.1:1/db?connect_timeout=2"},
		{"unparsable", "postgres://sluice:s3cretpw@127.0.0.1:99999999/db"},
		{"bad option", "postgres://sluice:s3cretpw@127.0.0.1/db?sslmode=s3cretpw"},
		{"keyword/value", "host=127.0.0.1 port=1 password=s3cretpw connect_timeout=2"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			_, err := Open(ctx, Config{Driver: DriverPostgres, DSN: tc.dsn})
			if err == nil {
				t.Fatal("Open succeeded")
			}
			if strings.Contains(err.Error(), "s3cretpw") {
				t.Errorf("error shows the password: %v", err)
			}
			if !strings.HasPrefix(err.Error(), "store: open postgres") {
				t.Errorf("error %q lacks the store prefix", err)
			}
		})
	}
}
