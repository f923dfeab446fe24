package mock_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/sluicehq/sluice/internal/mock"
)

// TestContentFilterFault: {"finish":"content_filter"} answers 200 with
// each API's filtered finish and no output, whole and streamed, once.
func TestContentFilterFault(t *testing.T) {
	type want struct {
		finish string // the finish reason as the API spells it
		empty  bool   // no content at all (Anthropic, Gemini)
	}
	wants := map[string]want{"openai": {"content_filter", false}, "anthropic": {"refusal", true}, "gemini": {"SAFETY", true}}
	for _, ep := range endpoints {
		t.Run(ep.name+"/whole", func(t *testing.T) {
			_, srv := newServer(t, mock.Options{})
			if resp, b := call(t, srv, "POST", "/_mock/faults", `{"finish":"content_filter"}`); resp.StatusCode != 200 {
				t.Fatalf("inject: %d %s", resp.StatusCode, b)
			}
			resp, b := call(t, srv, "POST", ep.path, ep.body)
			if resp.StatusCode != 200 {
				t.Fatalf("%d %s", resp.StatusCode, b)
			}
			var v struct {
				Choices []struct {
					Message      struct{ Content *string }
					FinishReason string `json:"finish_reason"`
				}
				Content    []json.RawMessage
				StopReason string `json:"stop_reason"`
				Candidates []struct {
					Content      *json.RawMessage
					FinishReason string
				}
			}
			if err := json.Unmarshal(b, &v); err != nil {
				t.Fatal(err)
			}
			var finish string
			var content bool
			switch ep.name {
			case "openai":
				finish, content = v.Choices[0].FinishReason, *v.Choices[0].Message.Content != ""
			case "anthropic":
				finish, content = v.StopReason, len(v.Content) > 0
			case "gemini":
				finish, content = v.Candidates[0].FinishReason, v.Candidates[0].Content != nil
			}
			if w := wants[ep.name]; finish != w.finish || content {
				t.Errorf("finish %q, content %v; want %q and none: %s", finish, content, w.finish, b)
			}
			if _, b := call(t, srv, "POST", ep.path, ep.body); !strings.Contains(string(b), "abcdefghij") {
				t.Errorf("the next answer is not the normal one: %s", b)
			}
		})
		t.Run(ep.name+"/stream", func(t *testing.T) {
			m, srv := newServer(t, mock.Options{})
			m.InjectFault(mock.Fault{Finish: mock.FinishContentFilter})
			resp, b := call(t, srv, "POST", ep.stream, ep.streamBody)
			if resp.StatusCode != 200 {
				t.Fatalf("%d %s", resp.StatusCode, b)
			}
			var names []string
			for _, ev := range parseSSE(t, b) {
				names = append(names, ev.Name)
			}
			events := parseSSE(t, b)
			switch ep.name {
			case "openai": // one chunk with the role and the finish, then [DONE]
				if len(events) != 2 || !strings.Contains(events[0].Data, `"role":"assistant"`) ||
					!strings.Contains(events[0].Data, `"finish_reason":"content_filter"`) || events[1].Data != "[DONE]" {
					t.Errorf("stream:\n%s", b)
				}
			case "anthropic":
				if diff := cmp.Diff([]string{"message_start", "message_delta", "message_stop"}, names); diff != "" ||
					!strings.Contains(events[1].Data, `"stop_reason":"refusal"`) {
					t.Errorf("events (-want +got):\n%s\n%s", diff, b)
				}
			case "gemini": // one chunk, finished
				if len(events) != 1 || !strings.Contains(events[0].Data, `"finishReason":"SAFETY"`) ||
					strings.Contains(events[0].Data, `"text"`) {
					t.Errorf("stream:\n%s", b)
				}
			}
		})
	}
}

func TestContentFilterFaultValidation(t *testing.T) {
	_, srv := newServer(t, mock.Options{})
	if resp, b := call(t, srv, "POST", "/_mock/faults", `{"finish":"stop"}`); resp.StatusCode != 400 {
		t.Errorf("finish stop: %d %s; want 400", resp.StatusCode, b)
	}
}
