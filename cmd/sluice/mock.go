package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"

	"github.com/sluicehq/sluice/internal/mock"
)

func cmdMock(ctx context.Context, args []string, stderr io.Writer) error {
	fs := newFlags("mock", "sluice mock [--listen ADDR] [--latency D] [--chunks N] [--chunk-interval D]", stderr)
	listen := fs.String("listen", "127.0.0.1:9100", "listen `address`")
	latency := fs.Duration("latency", 0, "delay before every answer (e.g. 300ms)")
	chunks := fs.Int("chunks", 5, "content chunks per streamed answer")
	interval := fs.Duration("chunk-interval", 0, "pause between streamed chunks (e.g. 20ms)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("mock: unexpected argument %q", fs.Arg(0))
	}
	if *chunks < 1 {
		return fmt.Errorf("mock: --chunks must be at least 1")
	}
	log := slog.New(slog.NewTextHandler(stderr, nil))
	opts := mock.Options{Latency: *latency, StreamChunks: *chunks, ChunkInterval: *interval}
	return mock.ListenAndServe(ctx, *listen, opts, log)
}
