package gateway

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"time"

	"github.com/fsnotify/fsnotify"
)

// watchSettle is how long the config file must be quiet after a change
// before it is reloaded: an editor's save is often several writes, or a
// write to a temporary file and a rename.
const watchSettle = 250 * time.Millisecond

// WatchConfig calls reload whenever the file at path changes, until ctx
// ends. It watches the file's directory rather than the file, so that a
// save by rename (most editors) or a symlink swap (Kubernetes ConfigMaps)
// is seen; bursts of events are merged into one call once the file has
// been quiet for a moment. reload runs on WatchConfig's goroutine and
// should report its own failures. Errors from the watcher are logged.
func WatchConfig(ctx context.Context, path string, log *slog.Logger, reload func()) error {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return fmt.Errorf("gateway: watch config: %w", err)
	}
	w, err := fsnotify.NewWatcher()
	if err != nil {
		return fmt.Errorf("gateway: watch config: %w", err)
	}
	defer w.Close()
	dir, base := filepath.Split(abs)
	if err := w.Add(dir); err != nil {
		return fmt.Errorf("gateway: watch config: %w", err)
	}
	settle := time.NewTimer(time.Hour)
	settle.Stop()
	defer settle.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case ev, ok := <-w.Events:
			if !ok {
				return nil
			}
			name := filepath.Base(ev.Name)
			// "..data" is the symlink Kubernetes swaps when a ConfigMap
			// changes; a Chmod alone changes no content.
			if (name == base || name == "..data") && ev.Op != fsnotify.Chmod {
				settle.Reset(watchSettle)
			}
		case err, ok := <-w.Errors:
			if !ok {
				return nil
			}
			log.Warn("watching the config file", "path", path, "error", err)
		case <-settle.C:
			reload()
		}
	}
}
