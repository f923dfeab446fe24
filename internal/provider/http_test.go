package provider

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"testing/iotest"
)

type ctxKey struct{}

// TestNewRequest holds NewRequest to http.NewRequestWithContext with a
// *bytes.Reader body: the same fields, a body that reads the same, and a
// GetBody that starts over.
func TestNewRequest(t *testing.T) {
	u, _ := url.Parse("https://api.example.com:8443/v1/chat/completions?x=1")
	for _, tc := range []struct {
		name string
		body []byte
	}{{"body", []byte(`{"model":"m"}`)}, {"empty body", []byte{}}, {"no body", nil}} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.WithValue(context.Background(), ctxKey{}, 1)
			var rd io.Reader
			if tc.body != nil {
				rd = bytes.NewReader(tc.body)
			}
			want, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), rd)
			if err != nil {
				t.Fatal(err)
			}
			h := http.Header{"Accept": {"application/json"}}
			got := NewRequest(ctx, http.MethodPost, u, h, tc.body)
			if got.Method != want.Method || got.URL.String() != want.URL.String() || got.Host != want.Host ||
				got.Proto != want.Proto || got.ProtoMajor != want.ProtoMajor || got.ProtoMinor != want.ProtoMinor ||
				got.ContentLength != want.ContentLength || got.Context() != ctx ||
				(got.Body == nil) != (want.Body == nil) || (got.GetBody == nil) != (want.GetBody == nil) ||
				(got.Body == http.NoBody) != (want.Body == http.NoBody) {
				t.Fatalf("got %+v\nwant %+v", got, want)
			}
			if got.URL == u {
				t.Error("the request shares the caller's URL")
			}
			if got.Header["Accept"][0] != "application/json" {
				t.Errorf("header = %v", got.Header)
			}
			if got.Body == nil {
				return
			}
			b, _ := io.ReadAll(got.Body)
			if !bytes.Equal(b, tc.body) {
				t.Errorf("body = %q, want %q", b, tc.body)
			}
			for range 2 {
				rc, err := got.GetBody()
				if err != nil {
					t.Fatal(err)
				}
				if b, _ := io.ReadAll(rc); !bytes.Equal(b, tc.body) {
					t.Errorf("GetBody reads %q, want %q", b, tc.body)
				}
			}
		})
	}
}

func TestReadAll(t *testing.T) {
	text := strings.Repeat("0123456789", 300)
	for _, tc := range []struct {
		name    string
		r       func() io.Reader
		limit   int
		want    string
		wantErr error
	}{
		{"whole", func() io.Reader { return strings.NewReader(text) }, 3000, text, nil},
		{"one byte at a time", func() io.Reader { return iotest.OneByteReader(strings.NewReader(text[:700])) }, 3000, text[:700], nil},
		{"data with EOF", func() io.Reader { return iotest.DataErrReader(strings.NewReader(text[:10])) }, 10, text[:10], nil},
		{"over the limit", func() io.Reader { return strings.NewReader(text) }, 2999, "", ErrTooLarge},
		{"empty", func() io.Reader { return strings.NewReader("") }, 0, "", nil},
		{"read error", func() io.Reader { return iotest.TimeoutReader(strings.NewReader(text)) }, 5000, "", iotest.ErrTimeout},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, dst := range [][]byte{nil, make([]byte, 0, 16), []byte("prefix")} {
				start := len(dst)
				got, err := ReadAll(dst, tc.r(), tc.limit)
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("err = %v, want %v", err, tc.wantErr)
				}
				if tc.wantErr == nil && string(got[start:]) != tc.want {
					t.Fatalf("read %d bytes, want %d", len(got)-start, len(tc.want))
				}
				if len(got)-start > tc.limit+1 {
					t.Fatalf("read %d bytes past a limit of %d", len(got)-start, tc.limit)
				}
			}
		})
	}
}
