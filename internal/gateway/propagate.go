package gateway

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sluicehq/sluice/internal/store"
)

// Topic bits of propagator.out and propagator.in.
const (
	topicKeys uint32 = 1 << iota
	topicScopes
	topicCredentials
	topicAll = topicKeys | topicScopes | topicCredentials
)

// topicNames are the store topics of the bits, in the order they are sent.
var topicNames = []struct {
	bit  uint32
	name string
}{{topicKeys, store.TopicKeys}, {topicScopes, store.TopicScopes}, {topicCredentials, store.TopicCredentials}}

// topicBits maps a topic heard to its bits; TopicAll is every one. An
// unknown topic (from a newer replica) maps to 0: nothing here caches it.
func topicBits(topic string) uint32 {
	if topic == store.TopicAll {
		return topicAll
	}
	for _, t := range topicNames {
		if t.name == topic {
			return t.bit
		}
	}
	return 0
}

// Bounds of the propagator's store calls.
const (
	notifyTimeout = 2 * time.Second
	reloadTimeout = 10 * time.Second
)

// propagator carries changes between replicas sharing a PostgreSQL
// store. It announces what this gateway's admin API changed (keys, teams
// and tenants, provider keys) with store.DB.Notify, and on hearing a
// topic (store.DB.Listen) refreshes the matching cache at once instead of
// at its next periodic refresh, which stays as the safety net. With
// SQLite both ends are no-ops. Announcing never blocks the admin request:
// topics are collected into bits and sent by one goroutine, which also
// applies the topics heard, so several changes in a row cost one message
// each topic.
type propagator struct {
	db    *store.DB
	keys  *keyCache
	creds *credPool // nil-safe
	log   *slog.Logger

	out, in atomic.Uint32 // topic bits waiting to be sent, and heard
	wake    chan struct{} // capacity 1: work is waiting
	// unlisten stops the listener; a no-op when Listen failed.
	unlisten func()
	stop     chan struct{}
	done     chan struct{}
	once     sync.Once
}

// startPropagation starts announcing and listening on db. When the
// listener cannot start, changes made through other replicas still arrive
// with the periodic refreshes; that is logged, not returned.
func startPropagation(db *store.DB, keys *keyCache, creds *credPool, log *slog.Logger) *propagator {
	p := &propagator{db: db, keys: keys, creds: creds, log: log, wake: make(chan struct{}, 1),
		unlisten: func() {}, stop: make(chan struct{}), done: make(chan struct{})}
	ctx, cancel := context.WithTimeout(context.Background(), reloadTimeout)
	defer cancel()
	stop, err := db.Listen(ctx, p.heard)
	if err != nil {
		log.Warn("cluster: cannot listen for changes made through other replicas; they arrive with the periodic refresh (auth.key_refresh)",
			"error", err)
	} else {
		p.unlisten = stop
	}
	go p.run()
	return p
}

// publish queues topic bits for announcing. Nil-safe; never blocks.
func (p *propagator) publish(bits uint32) {
	if p == nil {
		return
	}
	p.out.Or(bits)
	p.signal()
}

// heard is the listener's callback: it queues the topic for run.
func (p *propagator) heard(topic string) {
	if topic == store.TopicAll {
		p.log.Info("cluster: change notifications reconnected; reloading keys, teams, tenants and provider keys")
	}
	if bits := topicBits(topic); bits != 0 {
		p.in.Or(bits)
		p.signal()
	}
}

func (p *propagator) signal() {
	select {
	case p.wake <- struct{}{}:
	default:
	}
}

func (p *propagator) run() {
	defer close(p.done)
	for {
		select {
		case <-p.stop:
			p.send(p.out.Swap(0)) // changes made just before Close
			return
		case <-p.wake:
			p.send(p.out.Swap(0))
			p.apply(p.in.Swap(0))
		}
	}
}

// send announces each topic of bits.
func (p *propagator) send(bits uint32) {
	for _, t := range topicNames {
		if bits&t.bit == 0 {
			continue
		}
		ctx, cancel := context.WithTimeout(context.Background(), notifyTimeout)
		err := p.db.Notify(ctx, t.name)
		cancel()
		if err != nil {
			p.log.Warn("cluster: announcing a change failed; other replicas see it at their next periodic refresh",
				"topic", t.name, "error", err)
		}
	}
}

// apply refreshes the caches of the topics in bits: the key cache and
// the credential pool in their own loops, teams and tenants here.
func (p *propagator) apply(bits uint32) {
	if bits&topicKeys != 0 {
		p.keys.Kick()
	}
	if bits&topicCredentials != 0 {
		p.creds.Kick()
	}
	if bits&topicScopes != 0 {
		ctx, cancel := context.WithTimeout(context.Background(), reloadTimeout)
		err := p.keys.ReloadScopes(ctx)
		cancel()
		if err != nil {
			p.log.Warn("cluster: reloading teams and tenants after a change elsewhere failed; the periodic refresh retries",
				"error", err)
		}
	}
}

// close stops listening, sends what is still queued and waits for the
// goroutine. Nil-safe and idempotent.
func (p *propagator) close() {
	if p == nil {
		return
	}
	p.once.Do(func() {
		p.unlisten()
		close(p.stop)
	})
	<-p.done
}

// onKeyChanged is the admin API's KeyChanged: the key cache takes the
// change at once and the other replicas hear of it.
func (g *Gateway) onKeyChanged(k store.Key) {
	g.keys.Apply(k)
	g.prop.publish(topicKeys)
}

// onScopesChanged is the admin API's ScopesChanged: the other replicas
// hear of it, and this one re-reads its teams and tenants.
func (g *Gateway) onScopesChanged(ctx context.Context) error {
	g.prop.publish(topicScopes)
	return g.keys.ReloadScopes(ctx)
}

// onCredentialChanged is the admin API's CredentialChanged: the pool
// takes the change at once and the other replicas hear of it.
func (g *Gateway) onCredentialChanged(c store.Credential, deleted bool) {
	g.credentialChanged(c, deleted)
	g.prop.publish(topicCredentials)
}
