package gemini

import (
	"encoding/base64"
	"regexp"
	"testing"
)

// anthropicID is the pattern Anthropic requires of tool_use IDs; our IDs
// must fit it so a conversation can move between providers.
var anthropicID = regexp.MustCompile(`^[a-zA-Z0-9_-]+$`)

func TestCallIDs(t *testing.T) {
	tests := []struct {
		name      string
		respID    string
		cand, idx int
		geminiID  string
		sig       string
	}{
		{"synthetic", "resp-1", 0, 0, "", ""},
		{"synthetic signed", "resp-1", 0, 1, "", testSig},
		{"gemini id", "resp-1", 0, 0, "fc_9f2", ""},
		{"gemini id signed", "resp-1", 1, 3, "fc_9f2", "AAEC/w=="},
		{"long signature", "r", 0, 0, "", base64.StdEncoding.EncodeToString(make([]byte, 4001))},
	}
	seen := map[string]string{}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			id := makeCallID(tc.respID, tc.cand, tc.idx, tc.geminiID, tc.sig)
			if again := makeCallID(tc.respID, tc.cand, tc.idx, tc.geminiID, tc.sig); again != id {
				t.Errorf("not deterministic: %q then %q", id, again)
			}
			if !anthropicID.MatchString(id) {
				t.Errorf("ID %q has characters Anthropic refuses", id)
			}
			if got := splitCallID(id); got != tc.sig {
				t.Errorf("signature round trip: got %q, want %q", got, tc.sig)
			}
			if prev, dup := seen[id]; dup {
				t.Errorf("ID %q also made for case %q", id, prev)
			}
			seen[id] = tc.name
		})
	}
	// Neighbouring calls, candidates and answers get different IDs.
	ids := map[string]bool{}
	for _, r := range []string{"a", "b"} {
		for c := 0; c < 3; c++ {
			for i := 0; i < 10; i++ {
				ids[makeCallID(r, c, i, "", "")] = true
			}
		}
	}
	if len(ids) != 60 {
		t.Errorf("60 calls got %d distinct IDs", len(ids))
	}
}

func TestSplitCallIDRejectsForeignIDs(t *testing.T) {
	for _, id := range []string{"", "call_abc", "toolu_01A", "x__thought__", "x__thought__a", "x__thought__ab+c", "x__thought__a.b"} {
		if got := splitCallID(id); got != "" {
			t.Errorf("splitCallID(%q) = %q, want none", id, got)
		}
	}
}

func FuzzCallIDSignature(f *testing.F) {
	f.Add("resp", []byte{0, 1, 2, 0xfb, 0xff})
	f.Add("", []byte("sig"))
	f.Fuzz(func(t *testing.T, respID string, raw []byte) {
		sig := base64.StdEncoding.EncodeToString(raw)
		id := makeCallID(respID, 0, 0, "", sig)
		if !anthropicID.MatchString(id) {
			t.Fatalf("ID %q has characters Anthropic refuses", id)
		}
		if got := splitCallID(id); got != sig {
			t.Fatalf("round trip of %q gave %q", sig, got)
		}
	})
}
