package harness

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestReplaceBlock(t *testing.T) {
	block := "| table |\n"
	wrapped := BeginMarker + "\n| table |\n" + EndMarker
	tests := []struct {
		name    string
		doc     string
		want    string
		wantErr bool
	}{
		{"empty doc gets a section", "", "## Latest results\n\n" + wrapped + "\n", false},
		{"doc without markers gets the section appended", "# Benchmarks\n\nHand-written.", "# Benchmarks\n\nHand-written.\n\n## Latest results\n\n" + wrapped + "\n", false},
		{"old block replaced, text around kept", "# B\n\n" + BeginMarker + "\nold\nlines\n" + EndMarker + "\n\nAfter.\n", "# B\n\n" + wrapped + "\n\nAfter.\n", false},
		{"markers reversed", EndMarker + "\n" + BeginMarker + "\n", "", true},
		{"end marker only", "x\n" + EndMarker + "\n", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ReplaceBlock(tt.doc, block)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, want error %v", err, tt.wantErr)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("ReplaceBlock (-want +got):\n%s", diff)
			}
		})
	}
}

func TestUpdateDocTwiceReplaces(t *testing.T) {
	path := filepath.Join(t.TempDir(), "benchmarks.md")
	if err := os.WriteFile(path, []byte("# Benchmarks\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, block := range []string{"first run\n", "second run\n"} {
		if err := UpdateDoc(path, block); err != nil {
			t.Fatal(err)
		}
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	want := "# Benchmarks\n\n## Latest results\n\n" + BeginMarker + "\nsecond run\n" + EndMarker + "\n"
	if diff := cmp.Diff(want, string(b)); diff != "" {
		t.Errorf("doc after two updates (-want +got):\n%s", diff)
	}
}
