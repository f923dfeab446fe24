package guard

import (
	"strings"
	"testing"
)

// benchPrompt is a realistic 2 KB prompt: prose with a few items of PII.
var benchPrompt = func() string {
	prose := "Hi team, I'm following up on the renewal we discussed on the call last Tuesday. " +
		"The customer asked whether the new pricing tier (version 2.4.1 of the plan) covers the extra seats, " +
		"and whether we can ship the hardware to their warehouse before the end of the quarter. " +
		"Please summarise the open questions below, keep the tone friendly, and suggest three next steps; " +
		"our goal is to close by 2024-03-31 at about $12,500.00 total, with a 5% discount if they sign early. "
	items := "Contact: Maria Gonzalez <maria.gonzalez@example.com>, phone +1 (415) 555-0132, " +
		"billing card 4111 1111 1111 1111, office at 742 Evergreen Terrace; their VPN gateway is 203.0.113.42. "
	var b strings.Builder
	for b.Len() < 2048-len(items) {
		b.WriteString(prose)
	}
	text := b.String()
	mid := strings.LastIndexByte(text[:len(text)/2], ' ') + 1
	return (text[:mid] + items + text[mid:])[:2048]
}()

func BenchmarkFind(b *testing.B) {
	p, err := NewPII(PIIOptions{})
	if err != nil {
		b.Fatal(err)
	}
	if got := len(p.Find(nil, benchPrompt)); got != 5 {
		b.Fatalf("bench prompt has %d findings, want 5: %v", got, p.Find(nil, benchPrompt))
	}
	dst := make([]Finding, 0, 16)
	b.SetBytes(int64(len(benchPrompt)))
	b.ReportAllocs()
	for b.Loop() {
		dst = p.Find(dst[:0], benchPrompt)
	}
}

func BenchmarkFindProseOnly(b *testing.B) {
	p, err := NewPII(PIIOptions{})
	if err != nil {
		b.Fatal(err)
	}
	text := strings.Repeat("The quick brown fox jumps over the lazy dog, then naps: a tale told 3 times. ", 27)[:2048]
	dst := make([]Finding, 0, 16)
	b.SetBytes(int64(len(text)))
	b.ReportAllocs()
	for b.Loop() {
		dst = p.Find(dst[:0], text)
	}
}

func BenchmarkFindWithWordsAndPattern(b *testing.B) {
	p, err := NewPII(PIIOptions{
		Patterns: []Pattern{{Name: "employee_id", Regex: `\bEMP-\d{6}\b`}},
		Words:    []WordList{{Name: "names", Words: []string{"Maria Gonzalez", "Project Falcon", "Acme", "Globex", "Initech"}}},
	})
	if err != nil {
		b.Fatal(err)
	}
	dst := make([]Finding, 0, 16)
	b.SetBytes(int64(len(benchPrompt)))
	b.ReportAllocs()
	for b.Loop() {
		dst = p.Find(dst[:0], benchPrompt)
	}
}

func BenchmarkFindParallel(b *testing.B) {
	p, err := NewPII(PIIOptions{})
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(benchPrompt)))
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		dst := make([]Finding, 0, 16)
		for pb.Next() {
			dst = p.Find(dst[:0], benchPrompt)
		}
	})
}

func BenchmarkFindWords(b *testing.B) {
	p, err := NewPII(PIIOptions{
		Kinds: []string{"email"},
		Words: []WordList{{Name: "names", Words: []string{"Maria Gonzalez", "Project Falcon", "Acme", "Globex", "Initech"}}},
	})
	if err != nil {
		b.Fatal(err)
	}
	dst := make([]Finding, 0, 16)
	b.SetBytes(int64(len(benchPrompt)))
	b.ReportAllocs()
	for b.Loop() {
		dst = p.Find(dst[:0], benchPrompt)
	}
}
