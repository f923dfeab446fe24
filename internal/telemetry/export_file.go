package telemetry

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"

	"github.com/sluicehq/sluice/internal/store"
)

// FileExporter appends records to a file as JSON lines: one record a
// line in the admin API's form, bodies included when they were logged
// (AppendRecord with bodies). Each batch is one write, so lines of
// concurrent batches never interleave. It does not sync per batch; Close
// syncs.
type FileExporter struct {
	path string

	mu  sync.Mutex
	f   *os.File // nil once closed
	buf []byte
}

var (
	_ Exporter  = (*FileExporter)(nil)
	_ io.Closer = (*FileExporter)(nil)
)

// NewFileExporter opens path for appending, creating it with mode 0600
// (records may hold prompts) if it does not exist. Its parent directory
// must exist. The caller owns the exporter until it hands it to a
// Pipeline, which then closes it.
func NewFileExporter(path string) (*FileExporter, error) {
	if path == "" {
		return nil, errors.New("telemetry: file exporter: empty path")
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("telemetry: file exporter: %w", err)
	}
	return &FileExporter{path: path, f: f}, nil
}

// Name is "file:" and the path.
func (e *FileExporter) Name() string { return "file:" + e.path }

// Export appends one line per record. ctx is not consulted: a local write
// does not block for long.
func (e *FileExporter) Export(_ context.Context, recs []store.Record) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.f == nil {
		return errors.New("telemetry: file exporter: closed")
	}
	e.buf = e.buf[:0]
	for i := range recs {
		e.buf = AppendRecord(e.buf, &recs[i], true)
		e.buf = append(e.buf, '\n')
	}
	_, err := e.f.Write(e.buf)
	if cap(e.buf) > 1<<20 {
		e.buf = nil
	}
	if err != nil {
		return fmt.Errorf("telemetry: file exporter: %w", err)
	}
	return nil
}

// Close syncs and closes the file; Export fails afterwards. A second
// Close returns nil.
func (e *FileExporter) Close() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.f == nil {
		return nil
	}
	err := errors.Join(e.f.Sync(), e.f.Close())
	e.f = nil
	if err != nil {
		return fmt.Errorf("telemetry: file exporter: %w", err)
	}
	return nil
}
