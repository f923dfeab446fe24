package store

import (
	"context"
	"fmt"
	"testing"
)

func BenchmarkKeyByHashSQLite(b *testing.B) { benchKeyByHash(b, openTest(b, sqliteConfig(b))) }

func BenchmarkKeyByHashPostgres(b *testing.B) { benchKeyByHash(b, openTest(b, postgresConfig(b))) }

// benchKeyByHash looks up keys by hash among 1,000, as authentication
// does on a key-cache miss.
func benchKeyByHash(b *testing.B, db *DB) {
	const n = 1000
	ctx := context.Background()
	hashes := make([][]byte, n)
	for i := range hashes {
		k := testKey(fmt.Sprintf("key_%04d", i), i)
		k.Models, k.Metadata = []string{"gpt-4o*"}, map[string]string{"owner": "team-a"}
		if err := db.CreateKey(ctx, &k); err != nil {
			b.Fatal(err)
		}
		hashes[i] = k.Hash
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if _, err := db.KeyByHash(ctx, hashes[i%n]); err != nil {
			b.Fatal(err)
		}
		i += 7
	}
}
