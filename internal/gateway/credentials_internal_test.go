package gateway

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sluicehq/sluice/internal/config"
	"github.com/sluicehq/sluice/internal/store"
	"github.com/sluicehq/sluice/internal/vault"
)

// poolFixture is a pool over a fresh SQLite store, its events and log.
type poolFixture struct {
	pool   *credPool
	db     *store.DB
	vault  *vault.Vault
	mu     sync.Mutex
	events []store.Event
	log    bytes.Buffer
}

func newPoolFixture(t testing.TB, creds ...store.Credential) *poolFixture {
	t.Helper()
	db, err := store.Open(context.Background(), store.Config{DSN: filepath.Join(t.TempDir(), "s.db")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	v, err := vault.New(bytes.Repeat([]byte{9}, vault.KeySize))
	if err != nil {
		t.Fatal(err)
	}
	f := &poolFixture{db: db, vault: v}
	for _, c := range creds {
		f.create(t, c, "key-"+c.ID+"-secret")
	}
	logger := slog.New(slog.NewTextHandler(&lockedBuf{mu: &f.mu, b: &f.log}, nil))
	f.pool, err = newCredPool(context.Background(), db, v, logger, time.Hour, func(e store.Event) {
		f.mu.Lock()
		defer f.mu.Unlock()
		f.events = append(f.events, e)
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(f.pool.Close)
	return f
}

type lockedBuf struct {
	mu *sync.Mutex
	b  *bytes.Buffer
}

func (l *lockedBuf) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

// create seals secret for c and stores it.
func (f *poolFixture) create(t testing.TB, c store.Credential, secret string) store.Credential {
	t.Helper()
	if c.Weight == 0 {
		c.Weight = 1
	}
	var err error
	if c.Sealed, err = f.vault.SealCredential(c.ID, c.Provider, secret); err != nil {
		t.Fatal(err)
	}
	c.MasterID, c.Last4 = f.vault.ID(), secret[len(secret)-4:]
	if err := f.db.CreateCredential(context.Background(), &c); err != nil {
		t.Fatal(err)
	}
	return c
}

func TestCredSetRoundRobin(t *testing.T) {
	f := newPoolFixture(t, store.Credential{ID: "c1", Provider: "p"}, store.Credential{ID: "c2", Provider: "p"},
		store.Credential{ID: "c3", Provider: "p"}, store.Credential{ID: "other", Provider: "q"})
	set := f.pool.forProvider("p", "")
	var got []string
	for range 6 {
		got = append(got, set.Pick().ID())
	}
	if strings.Join(got, ",") != "c1,c2,c3,c1,c2,c3" {
		t.Errorf("round robin: %v", got)
	}
	if f.pool.forProvider("none", "").Pick() != nil {
		t.Error("a provider without keys got one")
	}
	if (*credPool)(nil).forProvider("p", "") != nil {
		t.Error("a nil pool gave a non-nil source")
	}
}

func TestCredSetWeighted(t *testing.T) {
	f := newPoolFixture(t, store.Credential{ID: "a", Provider: "p", Weight: 5},
		store.Credential{ID: "b", Provider: "p", Weight: 2}, store.Credential{ID: "c", Provider: "p", Weight: 1})
	set := f.pool.forProvider("p", config.KeyWeighted)
	counts := map[string]int{}
	maxRun, run, prev := 0, 0, ""
	for range 8 * 100 {
		id := set.Pick().ID()
		counts[id]++
		if id == prev {
			run++
		} else {
			run = 1
		}
		prev, maxRun = id, max(maxRun, run)
	}
	// Every cycle of 8 picks gives exactly 5, 2 and 1.
	if counts["a"] != 500 || counts["b"] != 200 || counts["c"] != 100 {
		t.Errorf("weighted 5:2:1 over 800 picks: %v", counts)
	}
	// Spread, not in blocks: a weight-5 key is not picked 5 times running.
	if maxRun >= 5 {
		t.Errorf("longest run of one key: %d", maxRun)
	}
}

func TestCredPoolRejected(t *testing.T) {
	f := newPoolFixture(t, store.Credential{ID: "c1", Provider: "p", Name: "one"},
		store.Credential{ID: "c2", Provider: "p", Name: "two"})
	set := f.pool.forProvider("p", "")
	first := set.Pick()
	set.Rejected(first, 401)
	for range 4 {
		if c := set.Pick(); c == nil || c.ID() == first.ID() {
			t.Fatalf("after a refusal, picked %v", c)
		}
	}
	// The store gets it (asynchronously).
	deadline := time.Now().Add(5 * time.Second)
	for {
		c, err := f.db.GetCredential(context.Background(), first.ID())
		if err == nil && c.Disabled && strings.Contains(c.DisabledReason, "401") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the store never got the refusal: %+v %v", c, err)
		}
		time.Sleep(5 * time.Millisecond)
	}
	// A second report of the same key, and one of a version since
	// replaced, change nothing.
	set.Rejected(first, 403)
	second := set.Pick()
	c2, _ := f.db.GetCredential(context.Background(), second.ID())
	f.pool.Apply(c2) // a new version, e.g. after a PATCH
	set.Rejected(second, 401)
	if got := set.Pick(); got == nil || got.ID() != second.ID() {
		t.Errorf("a refusal of a replaced version disabled the new one: %v", got)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.events) != 1 || f.events[0].Kind != "credential.disabled" || f.events[0].Detail["usable_left"] != "1" {
		t.Errorf("events: %+v", f.events)
	}
	if strings.Contains(f.log.String(), "key-c1-secret") || !strings.Contains(f.log.String(), "credential=c1") {
		t.Errorf("log: %s", f.log.String())
	}
}

// A concurrent mix of picks, refusals, applies and refreshes: for the race
// detector.
func TestCredPoolConcurrent(t *testing.T) {
	f := newPoolFixture(t, store.Credential{ID: "c1", Provider: "p"}, store.Credential{ID: "c2", Provider: "p"})
	set := f.pool.forProvider("p", config.KeyWeighted)
	var wg sync.WaitGroup
	for i := range 4 {
		wg.Go(func() {
			for j := range 200 {
				if c := set.Pick(); c != nil && j%50 == 0 {
					set.Rejected(c, 401)
				}
				if i == 0 && j%20 == 0 {
					f.pool.refresh(context.Background())
				}
				if i == 1 && j%30 == 0 {
					c := f.create(t, store.Credential{ID: fmt.Sprintf("n%d", j), Provider: "p"}, "key-new-secret")
					f.pool.Apply(c)
				}
			}
		})
	}
	wg.Wait()
}

func BenchmarkCredSetPick(b *testing.B) {
	for _, sel := range []string{config.KeyRoundRobin, config.KeyWeighted} {
		b.Run(sel, func(b *testing.B) {
			var cs []store.Credential
			for i := range 4 {
				cs = append(cs, store.Credential{ID: fmt.Sprintf("c%d", i), Provider: "p", Weight: int64(i + 1)})
			}
			f := newPoolFixture(b, cs...)
			set := f.pool.forProvider("p", sel)
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if set.Pick() == nil {
						b.Fatal("no key")
					}
				}
			})
		})
	}
}

// Every stride visits each position of its cycle exactly once.
func TestGoldenStride(t *testing.T) {
	for total := uint64(1); total <= 500; total++ {
		st := goldenStride(total)
		seen := make([]bool, total)
		for i := range total {
			x := i * st % total
			if seen[x] {
				t.Fatalf("total %d, stride %d: position %d visited twice", total, st, x)
			}
			seen[x] = true
		}
	}
}

// Regression: Close checked and closed the stop channel in two steps, so
// two goroutines closing the pool at once (the gateway's Close racing a
// reload's, say) could both close it and panic. Every caller returns once
// the loop has ended.
func TestCredPoolCloseConcurrent(t *testing.T) {
	for range 20000 {
		p := &credPool{disables: make(chan credDisable, 1), stop: make(chan struct{}), done: make(chan struct{})}
		go p.run(time.Hour)
		start := make(chan struct{})
		var wg sync.WaitGroup
		panics := make(chan any, 8)
		for range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer func() {
					if r := recover(); r != nil {
						panics <- r
					}
				}()
				<-start
				p.Close()
				select {
				case <-p.done:
				default:
					panics <- "Close returned before the loop ended"
				}
			}()
		}
		close(start)
		wg.Wait()
		close(panics)
		for r := range panics {
			t.Fatalf("concurrent Close: %v", r)
		}
	}
	var p *credPool
	p.Close() // nil-safe
}
