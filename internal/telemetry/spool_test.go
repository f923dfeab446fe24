package telemetry

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/sluicehq/sluice/internal/store"
)

type badLine struct {
	Line int
	Torn bool
}

func TestScanSpool(t *testing.T) {
	a, b, c := testRecord("s", 1), testRecord("s", 2), testRecord("s", 3)
	tests := []struct {
		name    string
		in      string
		wantIDs []string
		wantBad []badLine
	}{
		{"empty", "", nil, nil},
		{"lines", spoolText(a) + spoolText(b), []string{a.ID, b.ID}, nil},
		{"no final newline", spoolText(a) + strings.TrimSuffix(spoolText(b), "\n"), []string{a.ID, b.ID}, nil},
		{"crlf and blank lines", "\n" + strings.TrimSuffix(spoolText(a), "\n") + "\r\n  \n" + spoolText(b), []string{a.ID, b.ID}, nil},
		{"torn last line", spoolText(a) + spoolText(b)[:40], []string{a.ID}, []badLine{{2, true}}},
		{"corrupt middle line", spoolText(a) + "{not json}\n" + spoolText(c), []string{a.ID, c.ID}, []badLine{{2, false}}},
		{"torn line followed by more", spoolText(a)[:30] + spoolText(b), nil, []badLine{{1, false}}},
		{"nul bytes", "\x00\x00\x00" + "\n" + spoolText(c), []string{c.ID}, []badLine{{1, false}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var ids []string
			var bad []badLine
			err := scanSpool(strings.NewReader(tc.in), func(r store.Record) error {
				ids = append(ids, r.ID)
				return nil
			}, func(line int, torn bool, err error) { bad = append(bad, badLine{line, torn}) })
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(ids, tc.wantIDs); diff != "" {
				t.Errorf("records (-got +want):\n%s", diff)
			}
			if diff := cmp.Diff(bad, tc.wantBad); diff != "" {
				t.Errorf("bad lines (-got +want):\n%s", diff)
			}
		})
	}
}

func TestScanSpoolStopsAtCallbackError(t *testing.T) {
	in := spoolText(testRecord("s", 1)) + spoolText(testRecord("s", 2))
	stop := errors.New("stop")
	calls := 0
	err := scanSpool(strings.NewReader(in), func(store.Record) error { calls++; return stop }, func(int, bool, error) {})
	if !errors.Is(err, stop) || calls != 1 {
		t.Errorf("scanSpool = %v after %d calls, want stop after 1", err, calls)
	}
}

// FuzzScanSpool feeds arbitrary spool file contents to the line scanner:
// it never panics and accounts for every non-blank line exactly once.
func FuzzScanSpool(f *testing.F) {
	a, b := spoolText(testRecord("s", 1)), spoolText(testRecord("s", 2))
	for _, seed := range []string{"", a + b, a + b[:40], a + "{not json}\n" + b, "\n\r\n" + a, a[:30] + b} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		good, bad := 0, 0
		err := scanSpool(bytes.NewReader(in), func(r store.Record) error {
			if r.ID == "" {
				t.Fatal("record without id accepted")
			}
			good++
			return nil
		}, func(int, bool, error) { bad++ })
		if err != nil {
			t.Fatal(err)
		}
		lines := 0
		for l := range bytes.Lines(in) {
			if len(bytes.TrimSpace(l)) > 0 {
				lines++
			}
		}
		if good+bad != lines {
			t.Fatalf("%d good + %d bad lines, want %d non-blank", good, bad, lines)
		}
	})
}

func TestSpoolReplaySkipsTornAndCorruptLines(t *testing.T) {
	db := openSQLite(t)
	tenant := uniqueTenant(t)
	want := testRecords(tenant, 3)
	dir := t.TempDir()
	content := spoolText(want[0]) + "{\"id\":\"x\",garbage\n" + spoolText(want[1]) +
		strings.TrimSuffix(spoolText(want[2]), "\n") + "\r\n" + spoolText(testRecord(tenant, 9))[:55]
	// A file a crashed process left, and a file that is not the spool's.
	left := filepath.Join(dir, "spool-00000000000000000001-000001-w.jsonl")
	other := filepath.Join(dir, "notes.txt")
	for path, text := range map[string]string{left: content, other: spoolText(testRecord(tenant, 8))} {
		if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	p, logs := newTestPipeline(t, db, PipelineConfig{SpoolDir: dir})
	waitFor(t, "start-up replay", func() bool { return len(spoolFiles(t, dir)) == 0 })
	closePipeline(t, p)
	if diff := cmp.Diff(sortByID(storedRecords(t, db, tenant)), want); diff != "" {
		t.Errorf("stored records (-got +want):\n%s", diff)
	}
	if st := p.Stats(); st.Replayed != 3 || st.SpoolCorrupt != 2 || st.Dropped != 0 {
		t.Errorf("stats = %+v, want 3 replayed and 2 corrupt", st)
	}
	if _, err := os.Stat(other); err != nil {
		t.Errorf("a file that is not the spool's was touched: %v", err)
	}
	if l := logs.String(); !strings.Contains(l, "line=2") || !strings.Contains(l, "torn=true") || strings.Contains(l, tenant) {
		t.Errorf("log should name the bad lines and no record contents:\n%s", l)
	}
}

func TestSpoolRotatesAndClaimsOnlySealedFiles(t *testing.T) {
	dir := t.TempDir()
	s, err := newSpool(dir)
	if err != nil {
		t.Fatal(err)
	}
	s.rotate = 2000 // about two records a file
	recs := testRecords("rot", 7)
	for i := range recs {
		if err := s.append(kindWriter, recs[i:i+1], true); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.append(kindOverflow, recs[:1], false); err != nil {
		t.Fatal(err)
	}
	sealed, err := s.claim(false)
	if err != nil {
		t.Fatal(err)
	}
	all, err := s.claim(true)
	if err != nil {
		t.Fatal(err)
	}
	if len(sealed) < 2 || len(all) != len(sealed)+2 {
		t.Fatalf("claimed %d sealed files and %d in all; want several sealed, plus the 2 current", len(sealed), len(all))
	}
	// Every record is in exactly one file, in order, and the overflow
	// record in a file of its own kind.
	var ids []string
	overflow := 0
	for _, e := range all {
		f, err := os.Open(e.path)
		if err != nil {
			t.Fatal(err)
		}
		scanSpool(f, func(r store.Record) error {
			if e.kind == kindOverflow {
				overflow++
			} else {
				ids = append(ids, r.ID)
			}
			return nil
		}, func(line int, _ bool, err error) { t.Errorf("%s line %d: %v", e.path, line, err) })
		f.Close()
	}
	var want []string
	for _, r := range recs {
		want = append(want, r.ID)
	}
	if diff := cmp.Diff(ids, want); diff != "" {
		t.Errorf("record order across files (-got +want):\n%s", diff)
	}
	if overflow != 1 {
		t.Errorf("overflow records = %d, want 1", overflow)
	}
	// A claimed file is never written again: the next append starts a new
	// one.
	if err := s.append(kindWriter, recs[:1], true); err != nil {
		t.Fatal(err)
	}
	again, _ := s.claim(true)
	if len(again) != len(all)+1 {
		t.Errorf("after one more append, %d files, want %d", len(again), len(all)+1)
	}
}

func TestSpoolAppendsAfterCloseLandInOneFile(t *testing.T) {
	dir := t.TempDir()
	s, err := newSpool(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.append(kindOverflow, testRecords("c", 1), false); err != nil {
		t.Fatal(err)
	}
	s.close()
	for i := range 3 {
		r := testRecord("c", 10+i)
		if err := s.append(kindOverflow, []store.Record{r}, false); err != nil {
			t.Fatal(err)
		}
	}
	files := spoolFiles(t, dir)
	if len(files) != 1 {
		t.Fatalf("files = %v, want one", files)
	}
	b, err := os.ReadFile(filepath.Join(dir, files[0]))
	if err != nil {
		t.Fatal(err)
	}
	if n := bytes.Count(b, []byte("\n")); n != 4 {
		t.Errorf("%d lines, want 4", n)
	}
	if s.lanes[kindOverflow].f != nil {
		t.Error("a file is held open after close")
	}
}

func TestSpoolFileMode(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "spool")
	s, err := newSpool(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.append(kindWriter, testRecords("m", 1), true); err != nil {
		t.Fatal(err)
	}
	s.close()
	for _, path := range []string{dir, filepath.Join(dir, spoolFiles(t, dir)[0])} {
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if perm := fi.Mode().Perm(); perm&0o077 != 0 {
			t.Errorf("%s mode %v: readable by others (records may hold prompts)", path, perm)
		}
	}
}
