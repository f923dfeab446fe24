package provider

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/sluicehq/sluice/internal/llm"
)

// recordingCreds hands out one credential and records what is reported.
type recordingCreds struct {
	c        *Credential
	mu       sync.Mutex
	rejected []string // "id status"
}

func (r *recordingCreds) Pick() *Credential { return r.c }

func (r *recordingCreds) Rejected(c *Credential, status int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.rejected = append(r.rejected, fmt.Sprintf("%s %d", c.ID(), status))
}

func (r *recordingCreds) reports() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.rejected...)
}

// echoDecode is an ErrorDecoder that puts the upstream body in the message
// and the cause, as a careless codec might.
func echoDecode(name string, status int, _ http.Header, body []byte) *llm.Error {
	return &llm.Error{Status: status, Type: llm.TypeAPI, Message: "upstream said: " + string(body),
		Provider: name, Fault: llm.FaultProvider, Err: errors.New("body: " + string(body))}
}

const testSecret = "sk-vault-test-secret-0123456789"

func TestCredentialFormattingHidesKey(t *testing.T) {
	c := NewCredential("cred_1", testSecret)
	var logged strings.Builder
	slog.New(slog.NewTextHandler(&logged, nil)).Info("x", "cred", c)
	for _, s := range []string{fmt.Sprint(c), fmt.Sprintf("%v %+v %#v %s", c, c, c, c), logged.String()} {
		if strings.Contains(s, testSecret) || !strings.Contains(s, "cred_1") {
			t.Errorf("formatted credential %q: want its ID and not its key", s)
		}
	}
	if got := c.BearerHeader(); len(got) != 1 || got[0] != "Bearer "+testSecret || cap(got) != 1 {
		t.Errorf("BearerHeader = %q (cap %d)", got, cap(got))
	}
	if got := c.KeyHeader(); len(got) != 1 || got[0] != testSecret || cap(got) != 1 {
		t.Errorf("KeyHeader = %q (cap %d)", got, cap(got))
	}
	// Adding to a request's header must not write into the shared slice.
	h := http.Header{"Authorization": c.BearerHeader()}
	h.Add("Authorization", "other")
	if c.BearerHeader()[0] != "Bearer "+testSecret || len(c.BearerHeader()) != 1 {
		t.Error("Header.Add changed the credential's shared value")
	}
}

func TestPickNil(t *testing.T) {
	if Pick(nil) != nil {
		t.Error("Pick(nil) is not nil")
	}
}

func TestSendWithReportsRefusals(t *testing.T) {
	for _, tc := range []struct {
		name   string
		status int
		report bool
	}{
		{"unauthorized", 401, true},
		{"forbidden", 403, false}, // a permission refusal unless the decoder says the key is bad
		{"rate limited", 429, false},
		{"bad request", 400, false},
		{"server error", 500, false},
		{"ok", 200, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				// A hostile upstream that quotes the key it was sent.
				w.WriteHeader(tc.status)
				fmt.Fprintf(w, "your key %s is bad", r.Header.Get("Authorization"))
			}))
			defer srv.Close()
			creds := &recordingCreds{c: NewCredential("cred_1", testSecret)}
			req, _ := http.NewRequest(http.MethodGet, srv.URL, nil)
			req.Header["Authorization"] = creds.c.BearerHeader()
			resp, err := SendWith(srv.Client(), req, "p", echoDecode, creds, creds.c)
			if tc.status == 200 {
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
			} else {
				e := llm.AsError(err)
				if e == nil || e.Status != tc.status {
					t.Fatalf("SendWith = %v, want status %d", err, tc.status)
				}
				if strings.Contains(e.Error(), testSecret) || strings.Contains(e.Message, testSecret) {
					t.Errorf("the error quotes the key: %v", e)
				}
				if !strings.Contains(e.Message, "[redacted]") {
					t.Errorf("message %q: want the key masked", e.Message)
				}
			}
			want := 0
			if tc.report {
				want = 1
			}
			if got := creds.reports(); len(got) != want || want == 1 && got[0] != fmt.Sprintf("cred_1 %d", tc.status) {
				t.Errorf("reports %q, want %d for cred_1", got, want)
			}
		})
	}
}

// statusDecode decodes every answer as llm.ProviderStatusError does with
// the given upstream type and code, at status (0: the HTTP status), the
// way a codec maps a provider's error body.
func statusDecode(status int, typ, code string) ErrorDecoder {
	return func(name string, st int, _ http.Header, body []byte) *llm.Error {
		if status != 0 {
			st = status
		}
		return llm.ProviderStatusError(name, st, typ, code, "", string(body), 0)
	}
}

// Only a refusal of the key itself disables it: a 401, or whatever the
// decoder recognises as a bad key (a 403 invalid_api_key, Gemini's 400
// API_KEY_INVALID). A 403 for a model, region or scope the key may not
// use says nothing about the key: were it reported, one request retried
// over a model the keys lack would disable every key in turn.
func TestSendWithReportsOnlyKeyRefusals(t *testing.T) {
	for _, tc := range []struct {
		name   string
		status int
		decode ErrorDecoder
		report bool
	}{
		{"401", 401, statusDecode(0, llm.TypeInvalidRequest, "invalid_api_key"), true},
		{"403 no access to the model", 403, statusDecode(0, llm.TypeInvalidRequest, "model_not_found"), false},
		{"403 permission_error", 403, statusDecode(0, llm.TypePermission, ""), false},
		{"403 invalid_api_key", 403, statusDecode(0, llm.TypeInvalidRequest, "invalid_api_key"), true},
		{"403 authentication_error", 403, statusDecode(0, llm.TypeAuthentication, ""), true},
		{"400 decoded as a bad key", 400, statusDecode(401, "", ""), true},
		{"400", 400, statusDecode(0, llm.TypeInvalidRequest, ""), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(tc.status)
			}))
			defer srv.Close()
			creds := &recordingCreds{c: NewCredential("cred_1", testSecret)}
			req, _ := http.NewRequest(http.MethodGet, srv.URL, nil)
			_, err := SendWith(srv.Client(), req, "p", tc.decode, creds, creds.c)
			if err == nil {
				t.Fatal("SendWith succeeded")
			}
			var want []string
			if tc.report {
				want = []string{fmt.Sprintf("cred_1 %d", tc.status)}
			}
			if got := creds.reports(); strings.Join(got, ",") != strings.Join(want, ",") {
				t.Errorf("reports %q, want %q", got, want)
			}
		})
	}
}

func TestSendWithoutCredential(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(401)
	}))
	defer srv.Close()
	creds := &recordingCreds{}
	req, _ := http.NewRequest(http.MethodGet, srv.URL, nil)
	if _, err := SendWith(srv.Client(), req, "p", echoDecode, creds, nil); llm.AsError(err).Status != 401 {
		t.Fatalf("SendWith = %v", err)
	}
	if got := creds.reports(); len(got) != 0 {
		t.Errorf("a request with the configured key was reported: %q", got)
	}
}

func TestOpenStreamWithReportsRefusals(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-Api-Key") != testSecret {
			t.Errorf("X-Api-Key %q: the build did not put the credential on", r.Header.Get("X-Api-Key"))
		}
		w.WriteHeader(401)
	}))
	defer srv.Close()
	creds := &recordingCreds{c: NewCredential("cred_7", testSecret)}
	build := func(ctx context.Context) (*http.Request, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, srv.URL, nil)
		if err == nil {
			req.Header["X-Api-Key"] = creds.c.KeyHeader()
		}
		return req, err
	}
	_, err := OpenStreamWith(t.Context(), srv.Client(), "p", 0, build, echoDecode, nil, creds, creds.c)
	if llm.AsError(err).Status != 401 {
		t.Fatalf("OpenStreamWith = %v, want 401", err)
	}
	if got := creds.reports(); len(got) != 1 || got[0] != "cred_7 401" {
		t.Errorf("reports %q, want [cred_7 401]", got)
	}
}

// fixedTransport answers every request with a 200 and an empty body,
// without a network, so allocation counts are exact.
type fixedTransport struct{}

func (fixedTransport) RoundTrip(*http.Request) (*http.Response, error) {
	return &http.Response{StatusCode: 200, Body: http.NoBody}, nil
}

// The reporting wrapper must not cost an allocation per request: it is
// built on the stack, as Send does not keep the decoder.
func TestSendWithAllocations(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector changes allocation counts")
	}
	client := &http.Client{Transport: fixedTransport{}}
	creds := &recordingCreds{c: NewCredential("cred_1", testSecret)}
	req, _ := http.NewRequest(http.MethodGet, "http://upstream/", nil)
	send := func(c *Credential) {
		resp, err := SendWith(client, req, "p", echoDecode, creds, c)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	plain := testing.AllocsPerRun(200, func() { send(nil) })
	with := testing.AllocsPerRun(200, func() { send(creds.c) })
	if with != plain {
		t.Errorf("SendWith allocates %.1f times per request with a credential, %.1f without", with, plain)
	}
}
