package harness

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// HoldResult is one checkpoint of a run holding many streams open at once.
type HoldResult struct {
	Want     int           // streams asked for at this checkpoint
	Live     int           // streams open, past their first data line, when memory was sampled
	Failures int           // streams that failed before their first data line, so far
	First    string        // the first failure, for the report
	Ramp     time.Duration // from the first request to the sample
	Mem      Memory        // of the process under test, sampled with Live streams open
}

// pendingLimit bounds streams between request and first data line, so
// that opening thousands does not overflow listen backlogs.
const pendingLimit = 1000

// HoldStreams opens concurrent streams to url in stages: up to counts[0],
// then up to counts[1], and so on (counts ascending). At each checkpoint it
// waits (at most timeout) until every stream opened so far has received
// its first data line or failed, then samples the memory of the process
// pid; the peak it reads is the high-water mark up to that point. Streams
// are read until the end, so the process under test carries live traffic;
// all are cancelled before HoldStreams returns.
func HoldStreams(ctx context.Context, url string, counts []int, pid int, timeout time.Duration) ([]HoldResult, error) {
	if !slices.IsSorted(counts) {
		return nil, fmt.Errorf("hold: stream counts %v are not ascending", counts)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	client := &http.Client{Transport: streamTransport(0)}
	defer client.CloseIdleConnections()
	h := &holder{ctx: ctx, client: client, url: url, pending: make(chan struct{}, pendingLimit)}
	defer h.wg.Wait()
	defer cancel() // runs before the Wait: streams end, then their goroutines
	h.firsts = make(chan error, counts[len(counts)-1])

	var (
		out      []HoldResult
		started  = time.Now()
		opened   = 0
		done     = 0 // streams that have reported
		errs     = 0 // of which failed
		firstErr = ""
	)
	for _, want := range counts {
		more := want - opened
		h.wg.Go(func() { h.open(more) })
		opened = want
		deadline := time.NewTimer(timeout)
	collect:
		for done < want {
			select {
			case err := <-h.firsts:
				done++
				if err != nil {
					if errs++; firstErr == "" {
						firstErr = err.Error()
					}
				}
			case <-deadline.C:
				break collect
			case <-ctx.Done():
				deadline.Stop()
				return nil, ctx.Err()
			}
		}
		deadline.Stop()
		mem, err := MemoryOf(pid)
		if err != nil {
			return nil, err
		}
		r := HoldResult{Want: want, Live: int(h.live.Load()), Failures: errs + want - done, First: firstErr,
			Ramp: time.Since(started), Mem: mem}
		if r.First == "" && done < want {
			r.First = fmt.Sprintf("%d streams had no first data line after %v", want-done, timeout)
		}
		out = append(out, r)
	}
	return out, nil
}

// holder opens and reads the streams of one HoldStreams run.
type holder struct {
	ctx     context.Context
	client  *http.Client
	url     string
	pending chan struct{} // a slot per stream waiting for its first data line
	firsts  chan error    // one per stream: nil once its first data line arrived
	live    atomic.Int64
	wg      sync.WaitGroup
}

// open starts n more streams, never more than pendingLimit of them
// waiting for their first data line at once.
func (h *holder) open(n int) {
	for range n {
		select {
		case h.pending <- struct{}{}:
		case <-h.ctx.Done():
			return
		}
		h.wg.Go(h.one)
	}
}

func (h *holder) one() {
	resp, err := openStream(h.ctx, h.client, h.url)
	if err != nil {
		<-h.pending
		h.report(err)
		return
	}
	defer resp.Body.Close()
	br := bufio.NewReader(resp.Body)
	err = ReadFirstData(br)
	<-h.pending
	if err != nil {
		h.report(err)
		return
	}
	h.live.Add(1)
	h.report(nil)
	_, _ = io.Copy(io.Discard, br) // until the stream ends or the run cancels it
	h.live.Add(-1)
}

// report delivers a stream's outcome; firsts has room for every stream, so
// it never blocks.
func (h *holder) report(err error) {
	if h.ctx.Err() != nil {
		return // cancelled at the end of the run: not a failure
	}
	h.firsts <- err
}
