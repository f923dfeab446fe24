package openai

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// checkFastRequest holds the fast path to encoding/json's on body: when it
// decodes body, the encoding/json path must decode it too, to the same
// request. It returns whether the fast path took body.
func checkFastRequest(t *testing.T, body []byte) bool {
	t.Helper()
	if checkBody(body) != nil {
		return false
	}
	fast, ok := decodeChatRequestFast(body)
	if !ok {
		return false
	}
	std, err := decodeChatRequestStd(body)
	if err != nil {
		t.Fatalf("the fast path decodes what encoding/json rejects (%v):\n%s", err, body)
	}
	if diff := cmp.Diff(std, fast); diff != "" {
		t.Fatalf("fast path differs from encoding/json (-std +fast):\n%s\nbody:\n%s", diff, body)
	}
	return true
}

// TestDecodeChatRequestFastFixtures checks that the recorded requests take
// the fast path (else the speed-up is silently lost) and decode as through
// encoding/json.
func TestDecodeChatRequestFastFixtures(t *testing.T) {
	for _, path := range requestFixtures(t) {
		t.Run(strings.TrimSuffix(filepath.Base(path), ".json"), func(t *testing.T) {
			if !checkFastRequest(t, readFile(t, path)) {
				t.Error("the fast path left the request to encoding/json")
			}
		})
	}
}

// fastRequestCases are requests either path must decode the same way; fast
// says whether the fast path takes them.
var fastRequestCases = []struct {
	name, body string
	fast       bool
}{
	{"minimal", `{"model":"m","messages":[{"role":"user","content":"hi"}]}`, true},
	{"escapes", `{"model":"m","messages":[{"role":"user","content":"a\"b\\c\n\u00e9\ud83d\ude00"}],"user":"\u0041"}`, true},
	{"nulls", `{"model":"m","messages":[{"role":"user","content":"x","name":null,"tool_call_id":null,"cache_control":null}],
		"temperature":null,"tools":null,"stop":null,"stream":null,"stream_options":null,"metadata":null,"audio":null,
		"response_format":null,"tool_choice":null,"seed":null,"logit_bias":null,"reasoning_effort":null}`, true},
	{"empty arrays", `{"model":"m","messages":[{"role":"user","content":"x"}],"stop":[],"tools":[],"modalities":[]}`, true},
	{"empty messages", `{"model":"m","messages":[]}`, false},
	{"every scalar", `{"model":"m","messages":[{"role":"user","content":"x"}],"max_tokens":5,"max_completion_tokens":6,
		"temperature":0.5,"top_p":1,"top_k":3,"n":2,"seed":-7,"presence_penalty":-1.5,"frequency_penalty":2e0,"logprobs":true,
		"top_logprobs":3,"user":"u","service_tier":"flex","store":false,"parallel_tool_calls":false,"stream":true,
		"stream_options":{"include_usage":true,"other":1},"reasoning_effort":"none","modalities":["text"],"audio":{"voice":"x"},
		"metadata":{"a":"b","a":"c","d":""},"stop":"END"}`, true},
	{"stop list", `{"model":"m","messages":[{"role":"user","content":"x"}],"stop":["a","b"]}`, true},
	{"extra members", `{"model":"m","messages":[{"role":"user","content":"x"}],"x_custom":{"a":[1,2]},"x_custom":3,"zz":null}`, true},
	{"tools and calls", `{"model":"m","messages":[{"role":"user","content":"x"},
		{"role":"assistant","content":"","tool_calls":[{"id":"c1","type":"function","function":{"name":"f","arguments":"{\"a\":1}"}},
		{"id":"c2","function":{"name":"g","arguments":{"b":2}}}]},
		{"role":"tool","tool_call_id":"c1","content":"r"},{"role":"tool","tool_call_id":"c2","content":[{"type":"text","text":"r2"}]}],
		"tools":[{"type":"function","function":{"name":"f","description":"d","parameters":{"type":"object"},"strict":true}},
		{"function":{"name":"g"}}],"tool_choice":{"type":"function","function":{"name":"f"}}}`, true},
	{"tool choice string", `{"model":"m","messages":[{"role":"user","content":"x"}],"tool_choice":"required","tools":[{"type":"function","function":{"name":"f"}}]}`, true},
	{"tool choice other object", `{"model":"m","messages":[{"role":"user","content":"x"}],"tool_choice":{"type":"allowed_tools","allowed_tools":{"mode":"auto"}}}`, true},
	{"response format", `{"model":"m","messages":[{"role":"user","content":"x"}],"response_format":{"type":"json_schema",
		"json_schema":{"name":"n","description":"d","schema":{"type":"object"},"strict":false}}}`, true},
	{"parts", `{"model":"m","messages":[{"role":"user","content":[{"type":"text","text":"a","cache_control":{"type":"ephemeral"}},
		{"type":"image_url","image_url":"https://x/y.png"},{"type":"image_url","image_url":{"url":"data:image/png;base64,AA","detail":"low"}},
		{"type":"input_audio","input_audio":{"data":"AA","format":"mp3"}},{"type":"file","file":{"file_id":"f1","filename":"a.pdf"}}]}]}`, true},
	{"message cache control", `{"model":"m","messages":[{"role":"system","content":"s","cache_control":{"type":"ephemeral"}},{"role":"user","content":"x"}]}`, true},
	{"unknown nested keys", `{"model":"m","messages":[{"role":"user","content":"x","extra":1,"weight":2}]}`, true},
	{"whitespace", " \n{ \"model\" : \"m\" ,\t\"messages\" : [ { \"role\" : \"user\" , \"content\" : \"x\" } ] } \n", true},

	// Left to encoding/json.
	{"duplicate member", `{"model":"a","model":"b","messages":[{"role":"user","content":"x"}]}`, false},
	{"duplicate nested member", `{"model":"m","messages":[{"role":"user","content":"x","content":null}]}`, false},
	{"key case", `{"Model":"m","messages":[{"role":"user","content":"x"}]}`, false},
	{"nested key case", `{"model":"m","messages":[{"Role":"user","content":"x"}]}`, false},
	{"escaped key", `{"mod\u0065l":"m","messages":[{"role":"user","content":"x"}]}`, false},
	{"non-ASCII key", `{"model":"m","messages":[{"role":"user","content":"x"}],"é":1}`, false},
	{"logit bias", `{"model":"m","messages":[{"role":"user","content":"x"}],"logit_bias":{"1":2,"1":-3.5,"7":0}}`, true},
	{"logit bias null", `{"model":"m","messages":[{"role":"user","content":"x"}],"logit_bias":{"1":null}}`, false},
	{"fraction for int", `{"model":"m","messages":[{"role":"user","content":"x"}],"n":1.5}`, false},
	{"huge float", `{"model":"m","messages":[{"role":"user","content":"x"}],"temperature":1e400}`, false},
	{"string for number", `{"model":"m","messages":[{"role":"user","content":"x"}],"temperature":"1"}`, false},
	{"built-in tool", `{"model":"m","messages":[{"role":"user","content":"x"}],"tools":[{"type":"web_search","x":{"y":1}}]}`, true},
	{"assistant audio", `{"model":"m","messages":[{"role":"assistant","audio":{"id":"a"}}]}`, false},
	{"null message", `{"model":"m","messages":[null]}`, false},
	{"invalid", `{"model":"m","messages":[}`, false},
	{"bad role", `{"model":"m","messages":[{"role":"robot","content":"x"}]}`, false},
	{"out of range", `{"model":"m","messages":[{"role":"user","content":"x"}],"temperature":3}`, false},
	{"metadata number", `{"model":"m","messages":[{"role":"user","content":"x"}],"metadata":{"a":1}}`, false},
}

func TestDecodeChatRequestFastCases(t *testing.T) {
	for _, tc := range fastRequestCases {
		t.Run(tc.name, func(t *testing.T) {
			if got := checkFastRequest(t, []byte(tc.body)); got != tc.fast {
				t.Errorf("fast path taken: %v, want %v", got, tc.fast)
			}
		})
	}
}

// TestDecodeChatRequestAllocs guards the fast path's allocation count on a
// realistic agent turn (tools.json: 7 messages, tool calls and results, 2
// tools): the body's copies, the request, its messages, parts, calls,
// results and tools, and the tools' raw parameters.
func TestDecodeChatRequestAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector changes allocation counts; run without -race")
	}
	body := readFile(t, "testdata/requests/tools.json")
	got := testing.AllocsPerRun(200, func() {
		if _, err := DecodeChatRequest(body); err != nil {
			t.Fatal(err)
		}
	})
	if got > 15 {
		t.Errorf("DecodeChatRequest(tools.json): %v allocations, want at most 15", got)
	}
}

// FuzzDecodeChatRequestFast holds the fast path to encoding/json's on any
// input (see checkFastRequest).
func FuzzDecodeChatRequestFast(f *testing.F) {
	for _, path := range requestFixtures(f) {
		f.Add(readFile(f, path))
	}
	for _, tc := range fastRequestCases {
		f.Add([]byte(tc.body))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		checkFastRequest(t, body)
	})
}

// TestFastKeysLowerCase guards otherKey's shortcut: a key without upper
// case letters can only match a lower-case name exactly.
func TestFastKeysLowerCase(t *testing.T) {
	for _, names := range [][]string{requestKeys, messageKeys, partKeys, inputAudioKeys, fileKeys, imageURLKeys,
		toolCallKeys, functionCallKeys, customCallKeys, toolKeys, functionDefKeys, toolChoiceKeys, responseFormatKeys,
		jsonSchemaKeys, streamOptionsKeys, responseKeys, choiceKeys, respMessageKeys, toolDeltaKeys, audioOutKeys,
		usageKeys, promptDetailsKeys, completionDetailsKeys} {
		for _, n := range names {
			if n != strings.ToLower(n) {
				t.Errorf("name %q is not lower case", n)
			}
		}
	}
}
