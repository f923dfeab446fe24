package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
	"unicode"

	"github.com/sluicehq/sluice/internal/auth"
	"github.com/sluicehq/sluice/internal/config"
	"github.com/sluicehq/sluice/internal/store"
)

const keysUsage = `Usage:
  sluice keys create [--config FILE] --name NAME [--tenant ID] [--team ID] [--role ROLE]
                     [--models GLOB,GLOB] [--rpm N] [--tpm N] [--expires 720h|RFC3339]
  sluice keys list   [--config FILE] [--tenant ID] [--team ID] [--all]
  sluice keys revoke [--config FILE] ID
  sluice keys rotate [--config FILE] [--grace 24h] ID

create and rotate print the new secret alone on stdout, once.
`

// keysCLI runs "sluice keys". now is the clock for expiry times, rotation
// grace ends and the list's status column; the store keeps its own clock.
type keysCLI struct {
	stdout, stderr io.Writer
	now            func() time.Time
}

func cmdKeys(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return (&keysCLI{stdout: stdout, stderr: stderr, now: time.Now}).run(ctx, args)
}

func (c *keysCLI) run(ctx context.Context, args []string) error {
	if len(args) == 0 {
		fmt.Fprint(c.stderr, keysUsage)
		return errors.New("keys: expected a subcommand: create, list, revoke or rotate")
	}
	switch args[0] {
	case "create":
		return c.create(ctx, args[1:])
	case "list":
		return c.list(ctx, args[1:])
	case "revoke":
		return c.revoke(ctx, args[1:])
	case "rotate":
		return c.rotate(ctx, args[1:])
	case "help", "-h", "--help":
		fmt.Fprint(c.stdout, keysUsage)
		return nil
	}
	fmt.Fprint(c.stderr, keysUsage)
	return fmt.Errorf("keys: unknown subcommand %q", args[0])
}

func (c *keysCLI) create(ctx context.Context, args []string) error {
	fs := newFlags("keys create", "sluice keys create [--config FILE] --name NAME [flags]", c.stderr)
	cfgPath := configFlag(fs)
	name := fs.String("name", "", "a name to tell the key apart (required)")
	tenant := fs.String("tenant", "", "tenant `ID`; default: the team's tenant, else the default tenant")
	team := fs.String("team", "", "team `ID` (must exist)")
	role := fs.String("role", "", "admin role: owner, admin, member or viewer; empty or \"gateway\" for a gateway key")
	models := fs.String("models", "", "comma-separated model `globs` the key may call, e.g. \"gpt-4o*,mock/*\"; empty: all")
	rpm := fs.Int64("rpm", 0, "requests per minute; 0: no limit")
	tpm := fs.Int64("tpm", 0, "tokens per minute; 0: no limit")
	expires := fs.String("expires", "", "expiry: a duration from now (720h) or an RFC 3339 time; empty: never")
	if err := parseOnly(fs, args, 0); err != nil {
		return fmt.Errorf("keys create: %w", err)
	}
	k := &store.Key{ID: auth.NewID("key_"), Name: *name, TenantID: *tenant, TeamID: *team,
		Policy: store.Policy{RPM: *rpm, TPM: *tpm}}
	var err error
	switch {
	case strings.TrimSpace(*name) == "":
		return errors.New("keys create: --name is required")
	case *role != "gateway" && !auth.ValidRole(*role):
		return fmt.Errorf("keys create: --role %q: want owner, admin, member, viewer or gateway", *role)
	case *rpm < 0 || *tpm < 0:
		return errors.New("keys create: --rpm and --tpm must not be negative")
	}
	if *role != "gateway" {
		k.Role = *role
	}
	if k.Models, err = parseModels(*models); err != nil {
		return fmt.Errorf("keys create: --models: %w", err)
	}
	if k.ExpiresAt, err = parseExpires(*expires, c.now()); err != nil {
		return fmt.Errorf("keys create: --expires: %w", err)
	}
	cfg, db, err := c.open(ctx, *cfgPath, true)
	if err != nil {
		return fmt.Errorf("keys create: %w", err)
	}
	defer db.Close()
	if err := c.checkOwners(ctx, db, k); err != nil {
		return fmt.Errorf("keys create: %w", err)
	}
	secret, err := auth.NewKey()
	if err != nil {
		return fmt.Errorf("keys create: %w", err)
	}
	k.Hash, k.Prefix = auth.HashKey(secret), auth.DisplayPrefix(secret)
	n, err := db.CountKeys(ctx)
	if err != nil {
		return fmt.Errorf("keys create: %w", err)
	}
	if err := db.CreateKey(ctx, k); err != nil {
		return fmt.Errorf("keys create: %w", err)
	}
	fmt.Fprintln(c.stdout, secret)
	fmt.Fprintf(c.stderr, "sluice: created %s %s (%s) in %s.\n"+
		"sluice: the key above is shown only this once; store it now.\n",
		roleName(k.Role), k.ID, strconv.Quote(k.Name), storeName(cfg))
	if n == 0 && k.Role != auth.RoleOwner {
		// serve makes its first admin key only in a store without keys.
		fmt.Fprintln(c.stderr, "sluice: note: sluice serve will not create a first admin key now; "+
			"make one with: sluice keys create --role owner --name admin")
	}
	c.audit(ctx, db, "key.create", k.ID, map[string]string{"name": k.Name, "role": k.Role, "tenant": k.TenantID, "team": k.TeamID})
	return nil
}

// checkOwners makes sure the tenant and team k names exist and agree,
// filling in k.TenantID from the team when it is empty.
func (c *keysCLI) checkOwners(ctx context.Context, db *store.DB, k *store.Key) error {
	if k.TenantID != "" {
		if _, err := db.GetTenant(ctx, k.TenantID); errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("no tenant %q", k.TenantID)
		} else if err != nil {
			return err
		}
	}
	if k.TeamID == "" {
		return nil
	}
	t, err := db.GetTeam(ctx, k.TeamID)
	if errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("no team %q", k.TeamID)
	} else if err != nil {
		return err
	}
	switch {
	case k.TenantID == "":
		k.TenantID = t.TenantID
	case k.TenantID != t.TenantID:
		return fmt.Errorf("team %q belongs to %s, not to tenant %q", k.TeamID, tenantName(t.TenantID), k.TenantID)
	}
	return nil
}

func (c *keysCLI) list(ctx context.Context, args []string) error {
	fs := newFlags("keys list", "sluice keys list [--config FILE] [--tenant ID] [--team ID] [--all]", c.stderr)
	cfgPath := configFlag(fs)
	f := store.KeyFilter{Limit: 1000}
	fs.StringVar(&f.TenantID, "tenant", "", "only keys of this tenant `ID`")
	fs.StringVar(&f.TeamID, "team", "", "only keys of this team `ID`")
	fs.BoolVar(&f.IncludeDisabled, "all", false, "include revoked keys")
	if err := parseOnly(fs, args, 0); err != nil {
		return fmt.Errorf("keys list: %w", err)
	}
	_, db, err := c.open(ctx, *cfgPath, false)
	if err != nil {
		return fmt.Errorf("keys list: %w", err)
	}
	defer db.Close()
	var keys []store.Key
	for {
		page, next, err := db.ListKeys(ctx, f)
		if err != nil {
			return fmt.Errorf("keys list: %w", err)
		}
		keys = append(keys, page...)
		if next == "" {
			break
		}
		f.Cursor = next
	}
	now := c.now()
	tw := tabwriter.NewWriter(c.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tNAME\tPREFIX\tROLE\tTENANT\tTEAM\tCREATED\tEXPIRES\tSTATUS")
	for _, k := range keys {
		expires, status := "never", "active"
		if !k.ExpiresAt.IsZero() {
			expires = k.ExpiresAt.UTC().Format(time.RFC3339)
			if !now.Before(k.ExpiresAt) {
				status = "expired"
			}
		}
		if k.Disabled {
			status = "revoked"
		}
		role := k.Role
		if role == "" {
			role = "gateway"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", cell(k.ID), cell(k.Name), cell(k.Prefix), role,
			cell(k.TenantID), cell(k.TeamID), k.CreatedAt.UTC().Format(time.RFC3339), expires, status)
	}
	if len(keys) == 0 {
		fmt.Fprintln(c.stderr, "sluice: no keys match")
	}
	return tw.Flush()
}

func (c *keysCLI) revoke(ctx context.Context, args []string) error {
	fs := newFlags("keys revoke", "sluice keys revoke [--config FILE] ID", c.stderr)
	cfgPath := configFlag(fs)
	if err := parseOnly(fs, args, 1); err != nil {
		return fmt.Errorf("keys revoke: %w", err)
	}
	cfg, db, k, err := c.openKey(ctx, *cfgPath, fs.Arg(0))
	if err != nil {
		return fmt.Errorf("keys revoke: %w", err)
	}
	defer db.Close()
	if k.Disabled {
		fmt.Fprintf(c.stderr, "sluice: key %s was already revoked\n", k.ID)
		return nil
	}
	k.Disabled = true
	if err := db.UpdateKey(ctx, &k); err != nil {
		return fmt.Errorf("keys revoke: %w", err)
	}
	fmt.Fprintf(c.stdout, "revoked %s (%s)\n", k.ID, strconv.Quote(k.Name))
	fmt.Fprintf(c.stderr, "sluice: running gateways refuse it within auth.key_refresh (%s)\n", cfg.Auth.KeyRefresh)
	c.audit(ctx, db, "key.revoke", k.ID, nil)
	return nil
}

func (c *keysCLI) rotate(ctx context.Context, args []string) error {
	fs := newFlags("keys rotate", "sluice keys rotate [--config FILE] [--grace 24h] ID", c.stderr)
	cfgPath := configFlag(fs)
	grace := fs.Duration("grace", 24*time.Hour, "how long the previous secret keeps working; 0: not at all")
	if err := parseOnly(fs, args, 1); err != nil {
		return fmt.Errorf("keys rotate: %w", err)
	}
	if *grace < 0 {
		return fmt.Errorf("keys rotate: --grace %s is negative", *grace)
	}
	_, db, k, err := c.openKey(ctx, *cfgPath, fs.Arg(0))
	if err != nil {
		return fmt.Errorf("keys rotate: %w", err)
	}
	defer db.Close()
	if k.Disabled {
		return fmt.Errorf("keys rotate: key %s is revoked; create a new key instead", k.ID)
	}
	now := c.now()
	lostPrev := len(k.PrevHash) > 0 && k.PrevUntil.After(now)
	secret, err := auth.NewKey()
	if err != nil {
		return fmt.Errorf("keys rotate: %w", err)
	}
	k.PrevHash, k.PrevUntil = k.Hash, now.Add(*grace)
	if *grace == 0 {
		k.PrevHash, k.PrevUntil = nil, time.Time{}
	}
	k.Hash, k.Prefix = auth.HashKey(secret), auth.DisplayPrefix(secret)
	if err := db.UpdateKey(ctx, &k); err != nil {
		return fmt.Errorf("keys rotate: %w", err)
	}
	fmt.Fprintln(c.stdout, secret)
	if *grace == 0 {
		fmt.Fprintf(c.stderr, "sluice: rotated %s; the previous secret no longer works.\n", k.ID)
	} else {
		fmt.Fprintf(c.stderr, "sluice: rotated %s; the previous secret works until %s.\n", k.ID, k.PrevUntil.UTC().Format(time.RFC3339))
	}
	if lostPrev {
		fmt.Fprintln(c.stderr, "sluice: the secret replaced by the last rotation stopped working now.")
	}
	if !k.ExpiresAt.IsZero() && !now.Before(k.ExpiresAt) {
		fmt.Fprintf(c.stderr, "sluice: note: the key expired at %s; the new secret does not work either.\n", k.ExpiresAt.UTC().Format(time.RFC3339))
	}
	fmt.Fprintln(c.stderr, "sluice: the key above is shown only this once; store it now.")
	c.audit(ctx, db, "key.rotate", k.ID, map[string]string{"grace": grace.String()})
	return nil
}

// configFlag adds the --config flag every keys subcommand takes.
func configFlag(fs *flag.FlagSet) *string {
	return fs.String("config", "", "YAML config `file` naming the store; without it, the embedded default's (./data/sluice.db)")
}

// parseOnly parses args into fs, letting flags follow positional arguments
// (`rotate ID --grace 0`) up to a "--", and fails unless exactly n
// positional arguments remain; they are then fs.Arg(0) and on.
func parseOnly(fs *flag.FlagSet, args []string, n int) error {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return err
		}
		rest := fs.Args()
		if len(rest) == 0 {
			break
		}
		if used := len(args) - len(rest); used > 0 && args[used-1] == "--" {
			pos = append(pos, rest...)
			break
		}
		pos, args = append(pos, rest[0]), rest[1:]
	}
	switch {
	case len(pos) > n:
		return fmt.Errorf("unexpected argument %q", pos[n])
	case len(pos) < n:
		return errors.New("expected a key ID")
	}
	return fs.Parse(append([]string{"--"}, pos...)) // fs.Args() = pos
}

// open loads the config at path (the embedded default when path is "")
// and opens its store. Unless create is set, a SQLite file that does not
// exist yet is an error rather than a new empty store. The caller closes
// the DB.
func (c *keysCLI) open(ctx context.Context, path string, create bool) (*config.Config, *store.DB, error) {
	var cfg *config.Config
	var err error
	if path != "" {
		cfg, err = config.Load(path)
	} else {
		cfg, err = config.Default(os.Getenv)
	}
	if err != nil {
		return nil, nil, err
	}
	if cfg.Store.Driver == store.DriverSQLite && !create {
		if _, err := os.Stat(cfg.Store.DSN.Value()); errors.Is(err, fs.ErrNotExist) {
			return nil, nil, fmt.Errorf("no store at %s: run in the directory sluice serve runs in, or pass --config",
				cfg.Store.DSN.Value())
		}
	}
	db, err := store.Open(ctx, store.Config{Driver: cfg.Store.Driver, DSN: cfg.Store.DSN.Value()})
	if err != nil {
		return nil, nil, err
	}
	return cfg, db, nil
}

// openKey opens the store like open and reads the key with id; the caller
// closes the DB, which is nil when err is not.
func (c *keysCLI) openKey(ctx context.Context, path, id string) (*config.Config, *store.DB, store.Key, error) {
	cfg, db, err := c.open(ctx, path, false)
	if err != nil {
		return nil, nil, store.Key{}, err
	}
	k, err := db.GetKey(ctx, id)
	if err != nil {
		db.Close()
		if errors.Is(err, store.ErrNotFound) {
			return nil, nil, store.Key{}, fmt.Errorf("no key %s", strconv.Quote(id))
		}
		return nil, nil, store.Key{}, err
	}
	return cfg, db, k, nil
}

// audit records a key change made from the command line. The change has
// happened by then, so a failure is a warning, not the command's error.
func (c *keysCLI) audit(ctx context.Context, db *store.DB, action, target string, detail map[string]string) {
	for k, v := range detail {
		if v == "" {
			delete(detail, k)
		}
	}
	e := store.AuditEntry{Actor: "cli", Action: action, Target: target, Detail: detail}
	if err := db.AppendAudit(ctx, []store.AuditEntry{e}); err != nil {
		fmt.Fprintf(c.stderr, "sluice: warning: the audit entry for %s was not written: %v\n", target, err)
	}
}

// parseModels splits a comma-separated list of model globs, trimming
// spaces around each. "" (or only spaces) is no list: every model. An
// empty entry ("a,,b", "a,") is an error.
func parseModels(s string) ([]string, error) {
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	var out []string
	for m := range strings.SplitSeq(s, ",") {
		m = strings.TrimSpace(m)
		if m == "" {
			return nil, fmt.Errorf("empty model glob in %s", strconv.Quote(s))
		}
		out = append(out, m)
	}
	return out, nil
}

// parseExpires reads an expiry: "" is never (the zero time); a Go duration
// ("720h") is that long after now and must be positive; otherwise an RFC
// 3339 time, which must be after now.
func parseExpires(s string, now time.Time) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if d, err := time.ParseDuration(s); err == nil {
		if d <= 0 {
			return time.Time{}, fmt.Errorf("%s is not a positive duration", strconv.Quote(s))
		}
		return now.Add(d), nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%s is neither a duration (720h) nor an RFC 3339 time (2030-01-02T15:04:05Z)", strconv.Quote(s))
	}
	if !t.After(now) {
		return time.Time{}, fmt.Errorf("%s is in the past", strconv.Quote(s))
	}
	return t, nil
}

// cell makes stored text safe for one table cell: "-" when empty, quoted
// when it holds anything unprintable (tabs, line breaks, escapes).
func cell(s string) string {
	if s == "" {
		return "-"
	}
	if strings.ContainsFunc(s, func(r rune) bool { return !unicode.IsPrint(r) }) {
		return strconv.Quote(s)
	}
	return s
}

// roleName describes a key by its role.
func roleName(role string) string {
	if role == "" {
		return "gateway key"
	}
	return role + " admin key"
}

// tenantName names a tenant in messages; "" is the default tenant.
func tenantName(id string) string {
	if id == "" {
		return "the default tenant"
	}
	return "tenant " + strconv.Quote(id)
}

// storeName says where keys went without showing a PostgreSQL DSN, which
// may hold a password.
func storeName(cfg *config.Config) string {
	if cfg.Store.Driver == store.DriverSQLite {
		return cfg.Store.DSN.Value()
	}
	return "the " + cfg.Store.Driver + " store"
}
