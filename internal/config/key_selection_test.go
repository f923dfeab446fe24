package config

import (
	"strings"
	"testing"
)

func TestProviderKeySelection(t *testing.T) {
	const base = "providers:\n  - name: openai\n    type: openai\n    api_key: k\n"
	for _, tc := range []struct {
		name, line, want, err string
	}{
		{name: "default", want: ""},
		{name: "round robin", line: "    key_selection: round_robin\n", want: KeyRoundRobin},
		{name: "weighted", line: "    key_selection: weighted\n", want: KeyWeighted},
		{name: "unknown", line: "    key_selection: random\n",
			err: `sluice.yaml:5: providers[0].key_selection: must be round_robin or weighted, got "random"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := Parse([]byte(base+tc.line), "sluice.yaml")
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("Parse error = %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := c.Providers[0].KeySelection; got != tc.want {
				t.Errorf("KeySelection = %q, want %q", got, tc.want)
			}
		})
	}
}
