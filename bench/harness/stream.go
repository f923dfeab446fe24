package harness

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// streamTransport returns a client transport for streaming runs: plain
// HTTP/1.1, no compression, up to idle idle connections kept per host
// (0: none, every stream on a new connection).
func streamTransport(idle int) *http.Transport {
	return &http.Transport{
		DialContext:         (&net.Dialer{Timeout: 10 * time.Second}).DialContext,
		MaxIdleConnsPerHost: idle,
		DisableKeepAlives:   idle == 0,
		DisableCompression:  true,
		ForceAttemptHTTP2:   false,
	}
}

// openStream sends StreamBody and returns the response once its status is
// known to be 200.
func openStream(ctx context.Context, client *http.Client, url string) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(StreamBody))
	if err != nil {
		return nil, err
	}
	req.Header = Headers()
	resp, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 300))
		resp.Body.Close()
		return nil, fmt.Errorf("status %d: %q", resp.StatusCode, b)
	}
	return resp, nil
}

// ReadFirstData reads event-stream lines from r until the first "data:"
// line has arrived: the moment a client sees its first token.
func ReadFirstData(r *bufio.Reader) error {
	for {
		line, err := r.ReadSlice('\n')
		if bytes.HasPrefix(line, []byte("data:")) {
			return nil
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			continue // the rest of an over-long non-data line
		}
		if err != nil {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return fmt.Errorf("before the first data line: %w", err)
		}
	}
}

// TTFTResult is the time to first token of sequential streams.
type TTFTResult struct {
	Streams  int           // streams that completed
	P50, P99 time.Duration // time from sending the request to the first data line
	Failures int
	First    string // the first failure, for the report
}

// RunTTFT runs n streaming requests against url from conc concurrent
// clients (each sends its next request when the previous stream has ended)
// and measures each one's time to the first data line. Streams must end
// with "data: [DONE]"; one that does not is a failure.
func RunTTFT(ctx context.Context, url string, n, conc int) TTFTResult {
	client := &http.Client{Transport: streamTransport(conc)}
	defer client.CloseIdleConnections()
	var (
		mu    sync.Mutex
		res   TTFTResult
		ttfts = make([]time.Duration, 0, n)
		next  atomic.Int64
		wg    sync.WaitGroup
	)
	for range conc {
		wg.Go(func() {
			for next.Add(1) <= int64(n) && ctx.Err() == nil {
				d, err := oneStream(ctx, client, url)
				mu.Lock()
				if err != nil {
					if res.Failures++; res.First == "" {
						res.First = err.Error()
					}
				} else {
					ttfts = append(ttfts, d)
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	res.Streams = len(ttfts)
	res.P50, res.P99 = Percentile(ttfts, 50), Percentile(ttfts, 99)
	return res
}

func oneStream(ctx context.Context, client *http.Client, url string) (time.Duration, error) {
	start := time.Now()
	resp, err := openStream(ctx, client, url)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	br := bufio.NewReader(resp.Body)
	if err := ReadFirstData(br); err != nil {
		return 0, err
	}
	ttft := time.Since(start)
	rest, err := io.ReadAll(br)
	if err != nil {
		return 0, fmt.Errorf("stream cut after the first data line: %w", err)
	}
	if !bytes.Contains(rest, []byte("data: [DONE]")) {
		return 0, fmt.Errorf("stream ended without data: [DONE]: %.200q", bytes.TrimSpace(rest[max(0, len(rest)-200):]))
	}
	return ttft, nil
}
