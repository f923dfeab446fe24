package telemetry

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sluicehq/sluice/internal/store"
)

// The spool holds records the store could not take, as JSON lines
// (RecordJSON, one record a line; see writeSpoolLines) in files under one
// directory that belongs to one pipeline.
//
// File scheme. A file is named spool-<unix nanos, 20 digits>-<seq, 6
// digits>-<kind>.jsonl, so names sort in creation order. Kind "w" holds
// batches the writer could not store (exporters already saw them); kind
// "o" holds records that bypassed the writer because the queue was full or
// the pipeline was closed (exporters see them when they are replayed).
// Each kind is a lane with its own lock and current file, so a request
// spooling an overflow record never waits behind the writer's fsync.
// Appends go only to a lane's current file, opened lazily with O_EXCL
// under a fresh name. A file is sealed — synced, closed and never written
// again — when it grows past spoolRotateBytes, when a replay pass claims
// it, when an append to it fails (so later lines never follow a torn one)
// and at Close. Replay reads only sealed files, so it never races an
// append; every file left by an earlier process is sealed. After Close
// each append opens its lane's file, writes, syncs and closes it again, so
// late records still land without holding a descriptor.
type spool struct {
	dir    string
	rotate int64        // spoolRotateBytes; smaller in tests
	seq    atomic.Int64 // file name sequence
	lanes  [2]spoolLane // by kind
}

// spoolLane is one kind's current file.
type spoolLane struct {
	mu     sync.Mutex
	f      *os.File // nil when not open
	path   string   // the current file; "" when none
	size   int64
	closed bool         // after Close: open, write, sync, close per append
	buf    bytes.Buffer // encode buffer
}

// Spool file kinds.
const (
	kindWriter   = 0 // batches the writer could not store; already exported
	kindOverflow = 1 // records that bypassed the writer; not yet exported
)

var kindSuffix = [2]string{"w", "o"}

// spoolRotateBytes is the size past which the current file is sealed and
// the next append starts a new one.
const spoolRotateBytes = 64 << 20

// spoolEntry is a sealed file waiting for replay.
type spoolEntry struct {
	path string
	kind int
}

func newSpool(dir string) (*spool, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("telemetry: spool dir: %w", err)
	}
	return &spool{dir: dir, rotate: spoolRotateBytes}, nil
}

// append writes recs to the current file of kind, syncing it when sync is
// set (after Close every append syncs). If the write fails, the file is
// sealed and the records are written once more to a new file; the error
// is returned only when that fails too. A record that cannot be encoded
// (see writeSpoolLines) fails the call before anything is written. It
// keeps no reference to recs.
func (s *spool) append(kind int, recs []store.Record, sync bool) error {
	if len(recs) == 0 {
		return nil
	}
	l := &s.lanes[kind]
	l.mu.Lock()
	defer l.mu.Unlock()
	defer func() {
		if l.buf.Cap() > 1<<20 {
			l.buf = bytes.Buffer{} // do not keep a large batch's buffer around
		}
	}()
	l.buf.Reset()
	if err := writeSpoolLines(&l.buf, recs); err != nil {
		return err
	}
	b := l.buf.Bytes()
	err := s.write(kind, b, sync)
	if err != nil {
		l.seal()
		if err2 := s.write(kind, b, sync); err2 != nil {
			l.seal()
			err = errors.Join(err, err2)
		} else {
			err = nil
		}
	}
	return err
}

// write appends b to kind's current file, opening or rotating it as
// needed. The caller holds the lane's lock.
func (s *spool) write(kind int, b []byte, sync bool) error {
	l := &s.lanes[kind]
	if l.f != nil && l.size >= s.rotate {
		l.seal()
	}
	if l.path == "" {
		if err := s.create(kind); err != nil {
			return err
		}
	} else if l.f == nil { // closed: reopen the remembered file
		f, err := os.OpenFile(l.path, os.O_WRONLY|os.O_APPEND, 0o600)
		if err != nil {
			return fmt.Errorf("telemetry: spool open: %w", err)
		}
		l.f = f
	}
	n, err := l.f.Write(b)
	l.size += int64(n)
	if err == nil && (sync || l.closed) {
		err = l.f.Sync()
	}
	if l.closed {
		if cerr := l.f.Close(); err == nil {
			err = cerr
		}
		l.f = nil
	}
	if err != nil {
		return fmt.Errorf("telemetry: spool write: %w", err)
	}
	return nil
}

// create opens a new current file for kind under a name no other file
// has. The caller holds the lane's lock.
func (s *spool) create(kind int) error {
	l := &s.lanes[kind]
	stamp := time.Now().UnixNano()
	for range 100 {
		seq := s.seq.Add(1) % 1_000_000
		path := filepath.Join(s.dir, fmt.Sprintf("spool-%020d-%06d-%s.jsonl", stamp, seq, kindSuffix[kind]))
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE|os.O_EXCL, 0o600)
		if errors.Is(err, os.ErrExist) {
			continue
		}
		if err != nil {
			return fmt.Errorf("telemetry: spool create: %w", err)
		}
		syncDir(s.dir)
		l.f, l.path, l.size = f, path, 0
		return nil
	}
	return errors.New("telemetry: spool create: no free file name")
}

// seal syncs and closes the lane's current file, if open, and forgets it;
// the next append starts a new file. Errors are ignored: the bytes already
// written stay readable, and a torn last line is skipped at replay. The
// caller holds the lane's lock.
func (l *spoolLane) seal() {
	if l.f != nil {
		_ = l.f.Sync()
		_ = l.f.Close()
	}
	l.f, l.path, l.size = nil, "", 0
}

// claim returns every sealed spool file in the directory, oldest first.
// With withCurrent set it first seals the current files that hold data,
// so they are included; otherwise they stay open and are left out (replay
// claims them only once every older file is done, so while the store stays
// down no new files pile up).
func (s *spool) claim(withCurrent bool) ([]spoolEntry, error) {
	for i := range s.lanes {
		s.lanes[i].mu.Lock()
		defer s.lanes[i].mu.Unlock()
	}
	if withCurrent {
		for i := range s.lanes {
			if s.lanes[i].size > 0 {
				s.lanes[i].seal()
			}
		}
	}
	names, err := os.ReadDir(s.dir)
	if err != nil {
		return nil, fmt.Errorf("telemetry: spool list: %w", err)
	}
	var out []spoolEntry
	for _, de := range names {
		kind, ok := spoolKind(de.Name())
		if !ok || de.IsDir() {
			continue
		}
		path := filepath.Join(s.dir, de.Name())
		if path == s.lanes[kindWriter].path || path == s.lanes[kindOverflow].path {
			continue
		}
		out = append(out, spoolEntry{path: path, kind: kind})
	}
	slices.SortFunc(out, func(a, b spoolEntry) int { return strings.Compare(a.path, b.path) })
	return out, nil
}

// close seals the current files; appends after it sync and close per
// call.
func (s *spool) close() {
	for i := range s.lanes {
		l := &s.lanes[i]
		l.mu.Lock()
		path := l.path
		l.seal()
		l.path = path // late appends reopen it
		l.closed = true
		l.mu.Unlock()
	}
}

// spoolKind reports the kind of a spool file name, and false for any
// other name.
func spoolKind(name string) (int, bool) {
	if !strings.HasPrefix(name, "spool-") {
		return 0, false
	}
	switch {
	case strings.HasSuffix(name, "-w.jsonl"):
		return kindWriter, true
	case strings.HasSuffix(name, "-o.jsonl"):
		return kindOverflow, true
	}
	return 0, false
}

// syncDir makes a created or removed directory entry durable; failure is
// ignored (not every filesystem supports it).
func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		_ = d.Close()
	}
}
