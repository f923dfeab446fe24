package mock_test

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/sluicehq/sluice/internal/mock"
)

// TestConcurrentRequests runs every API, streamed and whole, from many
// goroutines while others inject faults and read the control API; run it
// with -race. Every answer must be a success or the injected 500.
func TestConcurrentRequests(t *testing.T) {
	m, srv := newServer(t, mock.Options{StreamChunks: 3})
	const workers, perWorker = 16, 30
	var wg sync.WaitGroup
	errs := make(chan error, workers*perWorker+8)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range perWorker {
				ep := endpoints[(w+i)%len(endpoints)]
				path, body := ep.path, ep.body
				if i%2 == 1 {
					path, body = ep.stream, ep.streamBody
				}
				body = strings.Replace(body, "abcdefghij", fmt.Sprintf("worker %d request %d", w, i), 1)
				resp, err := srv.Client().Post(srv.URL+path, "application/json", strings.NewReader(body))
				if err != nil {
					errs <- err
					continue
				}
				b, err := io.ReadAll(resp.Body)
				resp.Body.Close()
				switch {
				case err != nil:
					errs <- fmt.Errorf("%s: %w", path, err)
				case resp.StatusCode == http.StatusInternalServerError:
				case resp.StatusCode != http.StatusOK:
					errs <- fmt.Errorf("%s: status %d: %s", path, resp.StatusCode, b)
				case !strings.Contains(string(b), fmt.Sprintf("request %d", i)) && i%2 == 0:
					errs <- fmt.Errorf("%s: answer does not echo its own request: %s", path, b)
				}
			}
		}()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := range 20 {
			m.InjectFault(mock.Fault{Count: 2, Status: http.StatusInternalServerError})
			_ = m.Stats()
			_, _ = m.Last()
			if i%5 == 0 {
				for _, path := range []string{"/_mock/last", "/v1/models"} {
					resp, err := srv.Client().Get(srv.URL + path)
					if err != nil {
						errs <- err
						continue
					}
					_, _ = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
				}
			}
		}
	}()
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	// The control goroutine sent 4 model-list requests.
	if got, want := m.Stats().Requests, int64(workers*perWorker+4); got != want {
		t.Errorf("Stats().Requests = %d, want %d", got, want)
	}
}
