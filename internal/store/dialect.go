package store

import (
	"strconv"
	"strings"
)

// dialect is everything that differs between SQLite and PostgreSQL. The
// schema lives in per-driver migration files; queries are shared and only
// their placeholders and the migration lock differ.
type dialect struct {
	name string
	// numbered placeholders: $1, $2, … (postgres) instead of ? (sqlite).
	numbered bool
	// migrations is the directory of migrationFiles holding this
	// driver's migrations.
	migrations string
	// migrationLock, when not empty, runs first in every migration
	// transaction and serialises migrators across processes until the
	// transaction ends. SQLite needs none: its migration transactions
	// begin IMMEDIATE, which takes the database's write lock.
	migrationLock string
}

var (
	sqliteDialect = dialect{
		name:       DriverSQLite,
		migrations: "migrations/sqlite",
	}
	postgresDialect = dialect{
		name:       DriverPostgres,
		numbered:   true,
		migrations: "migrations/postgres",
		// The key is an arbitrary constant that names Sluice's migrator;
		// the lock is per database, so every schema in it shares it.
		migrationLock: "SELECT pg_advisory_xact_lock(7268459230161405952)",
	}
)

// stmt builds one SQL statement and its arguments with the dialect's
// placeholders. The zero value is not usable; start with d.stmt().
type stmt struct {
	d    dialect
	sb   strings.Builder
	args []any
}

func (d dialect) stmt() *stmt { return &stmt{d: d} }

// sql appends SQL text verbatim.
func (s *stmt) sql(text string) *stmt {
	s.sb.WriteString(text)
	return s
}

// arg appends a placeholder for v.
func (s *stmt) arg(v any) *stmt {
	s.args = append(s.args, v)
	if s.d.numbered {
		s.sb.WriteByte('$')
		s.sb.WriteString(strconv.Itoa(len(s.args)))
	} else {
		s.sb.WriteByte('?')
	}
	return s
}

// list appends "(p1, p2, …)" with one placeholder per value.
func (s *stmt) list(vals []any) *stmt {
	s.sb.WriteByte('(')
	for i, v := range vals {
		if i > 0 {
			s.sb.WriteString(", ")
		}
		s.arg(v)
	}
	s.sb.WriteByte(')')
	return s
}

func (s *stmt) String() string { return s.sb.String() }
