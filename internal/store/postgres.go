package store

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"
)

// Pool sizes for PostgreSQL: enough for the log writer, the admin API and
// a few concurrent dashboards per replica, small enough that several
// replicas stay under the server's default max_connections (100).
const (
	postgresMaxOpen = 16
	postgresMaxIdle = 4
)

// openPostgres opens a connection pool for dsn and pings it. Errors never
// contain dsn or its password.
func openPostgres(ctx context.Context, dsn string) (*DB, error) {
	if dsn == "" {
		return nil, errors.New("store: open postgres: the DSN is empty")
	}
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		var pe *pgconn.ParseConfigError
		if errors.As(err, &pe) {
			// Its message quotes the connection string, redacted only on
			// a best-effort basis: say nothing of it.
			return nil, errors.New("store: open postgres: the DSN cannot be parsed (it is not shown: it may hold a password)")
		}
		return nil, redactDSN(fmt.Errorf("store: open postgres: %w", err), dsn)
	}
	db := stdlib.OpenDB(*cfg)
	db.SetMaxOpenConns(postgresMaxOpen)
	db.SetMaxIdleConns(postgresMaxIdle)
	db.SetConnMaxIdleTime(5 * time.Minute)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, redactDSN(fmt.Errorf("store: open postgres: %w", err), dsn)
	}
	return &DB{d: postgresDialect, w: db, r: db, now: time.Now, dsn: dsn}, nil
}

// redactDSN returns err unchanged when its message holds neither dsn nor
// the password in it. Otherwise it returns a new error whose message has
// each occurrence replaced by "xxxxx"; that error does not wrap err, whose
// own message would still leak.
func redactDSN(err error, dsn string) error {
	msg := err.Error()
	red := msg
	for _, s := range dsnSecrets(dsn) {
		red = strings.ReplaceAll(red, s, "xxxxx")
	}
	if red == msg {
		return err
	}
	return errors.New(red)
}

// dsnSecrets lists the strings of dsn that must not be shown: the DSN
// itself and its password, raw and escaped, from either the URL form
// (postgres://user:pass@host/db?password=…) or the keyword/value form
// (host=… password=…). Longest first, so a password inside the DSN is
// not replaced before the whole DSN is.
func dsnSecrets(dsn string) []string {
	secrets := []string{dsn}
	add := func(p string) {
		if len(p) > 0 {
			secrets = append(secrets, p, url.QueryEscape(p), url.PathEscape(p))
		}
	}
	if u, err := url.Parse(dsn); err == nil && (u.Scheme == "postgres" || u.Scheme == "postgresql") {
		if p, ok := u.User.Password(); ok {
			add(p)
		}
		add(u.Query().Get("password"))
	}
	if _, rest, ok := strings.Cut(dsn, "password="); ok {
		add(kvValue(rest))
	}
	slices.SortFunc(secrets, func(a, b string) int { return len(b) - len(a) })
	return secrets
}

// kvValue reads the value at the start of s in a keyword/value
// connection string: up to the first space, or 'quoted' with \' and \\
// escapes.
func kvValue(s string) string {
	if !strings.HasPrefix(s, "'") {
		v, _, _ := strings.Cut(s, " ")
		return v
	}
	var b strings.Builder
	for i := 1; i < len(s); i++ {
		switch c := s[i]; {
		case c == '\\' && i+1 < len(s):
			i++
			b.WriteByte(s[i])
		case c == '\'':
			return b.String()
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}
