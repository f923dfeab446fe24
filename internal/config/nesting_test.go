package config

import (
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// nestedModels is a config whose model m0 nests levels virtual models
// below it (m0 → m1 → … → m<levels>), the last over a provider.
func nestedModels(levels int) string {
	var b strings.Builder
	b.WriteString("providers:\n  - {name: openai, type: openai, api_key: k}\nmodels:\n")
	for i := range levels {
		fmt.Fprintf(&b, "  - name: m%d\n    targets: [{model: m%d}]\n", i, i+1)
	}
	fmt.Fprintf(&b, "  - name: m%d\n    targets: [{provider: openai, model: x}]\n", levels)
	return b.String()
}

// TestNestingDepthIsBounded: the router expands at most MaxNesting levels
// of virtual models, so a deeper chain is refused at load, with its place
// in the file.
func TestNestingDepthIsBounded(t *testing.T) {
	if _, err := parse([]byte(nestedModels(MaxNesting)), "sluice.yaml", lookupIn(testEnv)); err != nil {
		t.Fatalf("%d levels: %v", MaxNesting, err)
	}
	_, err := parse([]byte(nestedModels(MaxNesting+1)), "sluice.yaml", lookupIn(testEnv))
	want := []string{"sluice.yaml:5: models[0].targets: virtual models nest 9 levels deep, at most 8 are allowed: " +
		"m0 → m1 → m2 → m3 → m4 → m5 → m6 → m7 → m8 → m9"}
	if diff := cmp.Diff(want, errLines(err)); diff != "" {
		t.Errorf("errors (-want +got):\n%s", diff)
	}
	// A deep branch next to a shallow one is still too deep.
	src := nestedModels(MaxNesting+1) + "  - name: top\n    targets: [{provider: openai, model: y}, {model: m0}]\n"
	if _, err := parse([]byte(src), "sluice.yaml", lookupIn(testEnv)); err == nil || !strings.Contains(err.Error(), "at most 8") {
		t.Errorf("a deep branch: %v", err)
	}
}
