package guard

import (
	"regexp/syntax"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// hit is a finding as the tests state it: its kind and its exact text.
type hit struct{ Kind, Text string }

// piiCase is one named detection case: every finding in text, in order.
type piiCase struct {
	name string
	text string
	want []hit
}

// findHits runs p over text, checks the findings' invariants and returns
// them as hits.
func findHits(t testing.TB, p *PII, text string) []hit {
	t.Helper()
	fs := p.Find(nil, text)
	checkFindings(t, text, fs)
	var got []hit
	for _, f := range fs {
		got = append(got, hit{f.Kind, text[f.Start:f.End]})
	}
	return got
}

// checkFindings fails t unless fs lie inside text, are sorted by Start
// and do not overlap, and have a kind and a score in (0, 1].
func checkFindings(t testing.TB, text string, fs []Finding) {
	t.Helper()
	for i, f := range fs {
		if f.Start < 0 || f.End > len(text) || f.Start >= f.End {
			t.Fatalf("finding %v out of range for a %d-byte text", f, len(text))
		}
		if f.Kind == "" || f.Score <= 0 || f.Score > 1 {
			t.Fatalf("finding %v: bad kind or score %v", f, f.Score)
		}
		if i > 0 && fs[i-1].End > f.Start {
			t.Fatalf("findings %v and %v overlap or are out of order", fs[i-1], f)
		}
	}
}

// runCases checks each case against a detector for every built-in kind.
func runCases(t *testing.T, cases []piiCase) {
	t.Helper()
	p, err := NewPII(PIIOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := findHits(t, p, tc.text)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("Find(%q) (-want +got):\n%s", tc.text, diff)
			}
		})
	}
}

// one is a case expecting a single finding of kind for item in text.
func one(name, text, kind, item string) piiCase {
	return piiCase{name: name, text: text, want: []hit{{kind, item}}}
}

// none is a case expecting no finding at all.
func none(name, text string) piiCase { return piiCase{name: name, text: text} }

var emailCases = []piiCase{
	one("plain", "write to jane.doe@example.com today", "email", "jane.doe@example.com"),
	one("angle brackets", "From: Jane <jane+tag@mail.example.co.uk>", "email", "jane+tag@mail.example.co.uk"),
	one("sentence end", "Contact: bob_smith99@example.org.", "email", "bob_smith99@example.org"),
	one("comma", "a@b.io, and more", "email", "a@b.io"),
	one("parenthesised", "(ops-team@corp.example.com)", "email", "ops-team@corp.example.com"),
	one("quoted JSON", `{"email":"x.y@z.dev"}`, "email", "x.y@z.dev"),
	one("mailto", "mailto:sales@example.net?subject=hi", "email", "sales@example.net"),
	one("unicode around", "电邮：张伟zhang.wei@example.cn。谢谢", "email", "zhang.wei@example.cn"),
	one("leading dot trimmed", "..lead@example.com", "email", "lead@example.com"),
	none("no tld", "user@localhost is local"),
	none("numeric tld", "user@example.c0m"),
	none("one-letter tld", "user@example.c"),
	none("handle", "ping @jane on slack"),
	none("double dot", "jane..doe@example.com"),
	none("dot before at", "jane.@example.com"),
	none("hyphen label edge", "jane@-example.com"),
	none("decorator", "@dataclass(frozen=True)"),
	none("version pin", "pkg@1.2.3"),
}

func TestFindEmail(t *testing.T) { runCases(t, emailCases) }

var phoneCases = []piiCase{
	one("intl US", "call +1 415 555 0132 now", "phone", "+1 415 555 0132"),
	one("intl UK trunk", "ring +44 (0)20 7946 0958.", "phone", "+44 (0)20 7946 0958"),
	one("intl FR", "tél. +33 6 12 34 56 78", "phone", "+33 6 12 34 56 78"),
	one("intl DE dashes", "+49-30-12345678", "phone", "+49-30-12345678"),
	one("intl compact", "whatsapp +4915112345678", "phone", "+4915112345678"),
	one("intl paren area", "+1 (415) 555-0132", "phone", "+1 (415) 555-0132"),
	one("NANP parens", "office (415) 555-0132, ext 4", "phone", "(415) 555-0132"),
	one("NANP dashes", "cell: 212-555-0147", "phone", "212-555-0147"),
	one("NANP dots", "fax 646.555.0199", "phone", "646.555.0199"),
	one("NANP spaces", "415 555 0132", "phone", "415 555 0132"),
	one("NANP leading 1", "toll-free 1-800-555-0199", "phone", "1-800-555-0199"),
	one("UK London", "Tel 020 7946 0958", "phone", "020 7946 0958"),
	one("UK mobile", "mobile 07700 900123", "phone", "07700 900123"),
	one("UK 4-3-4", "0161 496 0000", "phone", "0161 496 0000"),
	one("UK dashes", "ring 020-7946-0958", "phone", "020-7946-0958"),
	one("FR spaces", "appelez le 06 12 34 56 78", "phone", "06 12 34 56 78"),
	one("FR dots", "01.23.45.67.89", "phone", "01.23.45.67.89"),
	one("DE Berlin", "Telefon 030 12345678", "phone", "030 12345678"),
	one("DE slash", "Tel. 089/1234567", "phone", "089/1234567"),
	one("unicode around", "电话：(415) 555-0132，谢谢", "phone", "(415) 555-0132"),
	none("date", "released on 2024-01-15 at noon"),
	none("date dots", "am 15.01.2024 um 10:30"),
	none("version", "upgrade to 1.2.3 or 10.4.22"),
	none("price", "it costs $1,299.00 or 1 299,00 €"),
	none("ISBN-13", "ISBN 978-3-16-148410-0"),
	none("ISBN-10", "ISBN 0-306-40615-2"),
	none("order number", "order #123456789 and ORD-2024-000123"),
	none("invalid area code", "123-456-7890"),
	none("N11 exchange", "415-911-0132"),
	none("area code x9x", "495-555-0132"),
	none("seven digits", "call 555-0132"),
	none("plus small", "grew +15% to 1234567"),
	none("plus too long", "+1234567890123456789"),
	none("FR six pairs", "06 12 34 56 78 90"),
	none("UK wrong shape", "0207 94 60958"),
	none("time", "at 12:30:45 sharp"),
	none("bare ten digits", "id 4155550132"),
}

func TestFindPhone(t *testing.T) { runCases(t, phoneCases) }

var cardCases = []piiCase{
	one("visa", "card 4111111111111111 exp 12/29", "card", "4111111111111111"),
	one("visa spaces", "4111 1111 1111 1111", "card", "4111 1111 1111 1111"),
	one("visa dashes", "no. 4012-8888-8888-1881.", "card", "4012-8888-8888-1881"),
	one("visa 13", "old visa 4222222222222", "card", "4222222222222"),
	one("mastercard", "5555 5555 5555 4444", "card", "5555 5555 5555 4444"),
	one("mastercard 2-series", "2223003122003222", "card", "2223003122003222"),
	one("amex 4-6-5", "amex 3782 822463 10005", "card", "3782 822463 10005"),
	one("amex bare", "371449635398431", "card", "371449635398431"),
	one("discover", "6011111111111117", "card", "6011111111111117"),
	one("jcb", "3530111333300000", "card", "3530111333300000"),
	one("diners 14", "3056 930902 5904", "card", "3056 930902 5904"),
	one("unionpay", "6200000000000005", "card", "6200000000000005"),
	one("unicode around", "卡号4111111111111111。", "card", "4111111111111111"),
	one("space groups then more", "4111 1111 1111 1111 2 times", "card", "4111 1111 1111 1111"),
	none("luhn invalid", "4111111111111112"),
	none("luhn invalid spaced", "4111 1111 1111 1112"),
	none("luhn valid unknown IIN", "9999999999999995"),
	none("visa wrong length", "41111111111111111"),
	none("amex wrong length", "3782822463100050"),
	none("mixed separators", "4111 1111-1111 1111"),
	none("too long", "41111111111111111111111"),
	none("in longer dashed number", "4111-1111-1111-1111-9"),
	none("odd grouping", "41 11 11 11 11 11 11 11"),
}

func TestFindCard(t *testing.T) { runCases(t, cardCases) }

var ibanCases = []piiCase{
	one("DE bare", "IBAN DE89370400440532013000 please", "iban", "DE89370400440532013000"),
	one("DE spaced", "DE89 3704 0044 0532 0130 00.", "iban", "DE89 3704 0044 0532 0130 00"),
	one("GB letters", "GB82WEST12345698765432", "iban", "GB82WEST12345698765432"),
	one("FR", "FR14 2004 1010 0505 0001 3M02 606", "iban", "FR14 2004 1010 0505 0001 3M02 606"),
	one("NL", "NL91ABNA0417164300", "iban", "NL91ABNA0417164300"),
	one("NO shortest", "NO9386011117947", "iban", "NO9386011117947"),
	one("unicode around", "账户：CH9300762011623852957。", "iban", "CH9300762011623852957"),
	none("one digit changed", "DE89370400440532013001"),
	none("check digits changed", "DE88370400440532013000"),
	none("wrong length", "DE8937040044053201300"),
	none("unknown country", "ZZ89370400440532013000"),
	none("lower case", "de89370400440532013000"),
	none("inside a word", "XDE89370400440532013000"),
	none("longer", "DE893704004405320130001"),
}

func TestFindIBAN(t *testing.T) { runCases(t, ibanCases) }

var ssnCases = []piiCase{
	one("dashed", "SSN 123-45-6789 on file", "ssn", "123-45-6789"),
	one("dashed no context", "id 078-05-1120.", "ssn", "078-05-1120"),
	one("bare with context", "ssn: 123456789", "ssn", "123456789"),
	one("bare with phrase", "Social Security number 234567890", "ssn", "234567890"),
	none("area 000", "000-12-3456"),
	none("area 666", "666-12-3456"),
	none("area 9xx", "912-34-5678"),
	none("group 00", "123-00-4567"),
	none("serial 0000", "123-45-0000"),
	none("bare without context", "tracking 123456789"),
	none("bare context too far", "SSN field is blank in this very long row; ref 123456789"),
	none("longer dashed", "123-45-6789-01"),
	none("spaces", "123 45 6789"),
}

func TestFindSSN(t *testing.T) { runCases(t, ssnCases) }

var ipCases = []piiCase{
	one("v4", "server 192.168.1.10 is down", "ipv4", "192.168.1.10"),
	one("v4 sentence end", "ping 10.0.0.255.", "ipv4", "10.0.0.255"),
	one("v4 port", "8.8.8.8:53", "ipv4", "8.8.8.8"),
	one("v4 unicode", "地址：172.16.0.1，", "ipv4", "172.16.0.1"),
	none("v4 octet too big", "256.1.1.1"),
	none("v4 five parts", "version string 1.2.3.4.5"),
	none("v4 tail of five parts", "1.2.3.4.5.6"),
	none("v4 leading zero", "01.02.03.04"),
	none("v4 after version", "version 1.2.3.4"),
	none("v4 v-prefixed", "v1.2.3.4"),
	none("v4 three parts", "1.2.3"),
	one("v6 compressed", "host 2001:db8::1 replied", "ipv6", "2001:db8::1"),
	one("v6 full", "2001:0db8:85a3:0000:0000:8a2e:0370:7334", "ipv6", "2001:0db8:85a3:0000:0000:8a2e:0370:7334"),
	one("v6 link local", "fe80::1ff:fe23:4567:890a.", "ipv6", "fe80::1ff:fe23:4567:890a"),
	one("v6 mapped v4", "::ffff:192.0.2.128", "ipv6", "::ffff:192.0.2.128"),
	one("v6 brackets", "http://[2001:db8::7]:8080/", "ipv6", "2001:db8::7"),
	one("v6 loopback", "bind ::1 only", "ipv6", "::1"),
	one("v6 trailing colon", "addr 2001:db8::1: ok", "ipv6", "2001:db8::1"),
	none("v6 double compression", "1::2::3"),
	none("MAC", "00:1a:2b:3c:4d:5e"),
	none("cpp scope", "std::vector<int> and a::b"),
	none("no digits", "dead::beef"),
	none("clock", "12:30:45"),
	none("too many groups", "1:2:3:4:5:6:7:8:9"),
}

func TestFindIP(t *testing.T) { runCases(t, ipCases) }

var addressCases = []piiCase{
	one("street", "I live at 742 Evergreen Terrace, Springfield.", "address", "742 Evergreen Terrace"),
	one("abbrev", "ship to 123 Main St. by Friday", "address", "123 Main St"),
	one("house letter", "221B Baker Street", "address", "221B Baker Street"),
	one("direction after", "1600 Pennsylvania Avenue NW, Washington", "address", "1600 Pennsylvania Avenue NW"),
	one("direction before", "40 N Market Rd", "address", "40 N Market Rd"),
	one("ordinal", "at 350 5th Avenue today", "address", "350 5th Avenue"),
	one("two name words", "10 Old Mill Lane", "address", "10 Old Mill Lane"),
	none("no suffix", "chapter 5 Main Points"),
	none("lower case name", "walked 3 miles down the road"),
	none("suffix only", "3 Lane"),
	none("hyphenated suffix", "12 Speedy Drive-thru"),
	none("suffix inside word", "5 Broad Streetcar"),
}

func TestFindAddress(t *testing.T) { runCases(t, addressCases) }

func TestFindOverlap(t *testing.T) {
	p, err := NewPII(PIIOptions{
		Patterns: []Pattern{{Name: "domain", Regex: `example\.com`}, {Name: "order", Regex: `ORD-\d+`}},
		Words: []WordList{
			{Name: "name", Words: []string{"Jane"}},
			{Name: "place", Words: []string{"Main Street", "Evergreen"}},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	cases := []piiCase{
		{"email beats its domain", "mail jane@example.com", []hit{{"email", "jane@example.com"}}},
		{"email beats a word inside it", "jane.doe@corp.io", []hit{{"email", "jane.doe@corp.io"}}},
		{"address beats a phrase inside it", "12 Main Street", []hit{{"address", "12 Main Street"}}},
		{"word then custom", "Jane ORD-42", []hit{{"name", "Jane"}, {"order", "ORD-42"}}},
		{"ipv6 beats the ipv4 tail", "::ffff:10.0.0.1", []hit{{"ipv6", "::ffff:10.0.0.1"}}},
		{"phone with leading 1 beats the bare number", "1-800-555-0199", []hit{{"phone", "1-800-555-0199"}}},
		{"word and address side by side", "Evergreen, 742 Evergreen Terrace", []hit{{"place", "Evergreen"}, {"address", "742 Evergreen Terrace"}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, findHits(t, p, tc.text)); diff != "" {
				t.Errorf("Find(%q) (-want +got):\n%s", tc.text, diff)
			}
		})
	}
}

func TestResolve(t *testing.T) {
	in := []Finding{
		{Kind: "keep", Start: 0, End: 2, Score: 1},
		{Kind: "b", Start: 10, End: 20, Score: 0.5},
		{Kind: "a", Start: 5, End: 12, Score: 1},  // shorter than b: dropped
		{Kind: "c", Start: 18, End: 30, Score: 1}, // longer than b: wins
		{Kind: "d", Start: 40, End: 45, Score: 0.5},
		{Kind: "e", Start: 40, End: 45, Score: 0.9}, // as long, higher score
		{Kind: "f", Start: 50, End: 55, Score: 1},
		{Kind: "g", Start: 50, End: 55, Score: 1}, // tie: first by kind
	}
	prior := Finding{Kind: "prior", Start: 99, End: 100}
	got := resolve(append([]Finding{prior}, in...), 1)
	want := []Finding{
		prior,
		{Kind: "keep", Start: 0, End: 2, Score: 1},
		{Kind: "c", Start: 18, End: 30, Score: 1},
		{Kind: "e", Start: 40, End: 45, Score: 0.9},
		{Kind: "f", Start: 50, End: 55, Score: 1},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("resolve (-want +got):\n%s", diff)
	}
}

func TestFindAppendsToDst(t *testing.T) {
	p, err := NewPII(PIIOptions{})
	if err != nil {
		t.Fatal(err)
	}
	prior := Finding{Kind: "prior", Start: 7, End: 9, Score: 1}
	text := "x@example.com and 10.0.0.1"
	got := p.Find([]Finding{prior}, text)
	want := []Finding{prior, {Kind: "email", Start: 0, End: 13, Score: 0.95}, {Kind: "ipv4", Start: 18, End: 26, Score: 0.9}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Find with a non-empty dst (-want +got):\n%s", diff)
	}
}

func TestFindKindsFilter(t *testing.T) {
	text := "jane@example.com 415-555-0132 4111111111111111 AKIAIOSFODNN7EXAMPLE"
	cases := []struct {
		name  string
		kinds []string
		want  []hit
	}{
		{"email only", []string{"email"}, []hit{{"email", "jane@example.com"}}},
		{"phone and card", []string{"card", "phone"}, []hit{{"phone", "415-555-0132"}, {"card", "4111111111111111"}}},
		{"secrets only", []string{"aws_key"}, []hit{{"aws_key", "AKIAIOSFODNN7EXAMPLE"}}},
		{"all", nil, []hit{{"email", "jane@example.com"}, {"phone", "415-555-0132"}, {"card", "4111111111111111"}, {"aws_key", "AKIAIOSFODNN7EXAMPLE"}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p, err := NewPII(PIIOptions{Kinds: tc.kinds})
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, findHits(t, p, text)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestNewPIIErrors(t *testing.T) {
	_, err := NewPII(PIIOptions{
		Kinds:    []string{"email", "passport"},
		Patterns: []Pattern{{Name: "", Regex: `x`}, {Name: "bad", Regex: `(`}, {Name: "empty", Regex: `a*`}},
		Words:    []WordList{{Name: "w", Words: []string{"ok", "C++", "  "}}, {Name: "", Words: nil}},
	})
	if err == nil {
		t.Fatal("NewPII accepted bad options")
	}
	for _, want := range []string{
		`kinds[1]: unknown kind "passport"`,
		"patterns[0].name: must not be empty",
		"patterns[1].regex: error parsing regexp",
		`patterns[2].regex: "a*" matches the empty string`,
		"words[0].words[1]: must start and end",
		"words[0].words[2]: must start and end",
		"words[1].name: must not be empty",
		"words[1].words: must not be empty",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
	if strings.Contains(err.Error(), "words[0].words[0]") {
		t.Errorf("error %q blames a good entry", err)
	}
}

func TestAllKinds(t *testing.T) {
	want := []string{"email", "phone", "card", "iban", "ssn", "ipv4", "ipv6", "address",
		"aws_key", "aws_secret", "gcp_key", "openai_key", "anthropic_key", "github_token",
		"gitlab_token", "slack_token", "jwt", "private_key"}
	if diff := cmp.Diff(want, AllKinds); diff != "" {
		t.Errorf("AllKinds (-want +got):\n%s", diff)
	}
	if _, err := NewPII(PIIOptions{Kinds: AllKinds}); err != nil {
		t.Errorf("NewPII(AllKinds): %v", err)
	}
}

func TestMaxSpan(t *testing.T) {
	cases := []struct {
		name string
		o    PIIOptions
		want int
	}{
		{"all built-ins", PIIOptions{}, 256},
		{"ssn only", PIIOptions{Kinds: []string{"ssn"}}, 9 + ssnLookback},
		{"ipv6 only", PIIOptions{Kinds: []string{"ipv6"}}, 45},
		{"short pattern", PIIOptions{Kinds: []string{"ipv4"}, Patterns: []Pattern{{"emp", `EMP-\d{6}`}}}, 23},
		{"bounded pattern", PIIOptions{Kinds: []string{"ipv4"}, Patterns: []Pattern{{"emp", `EMP-\d{60}`}}}, 64},
		{"bounded pattern longer", PIIOptions{Kinds: []string{"ipv4"}, Patterns: []Pattern{{"emp", `(?:EMP|EMPLOYEE)-[0-9a-f]{4,40}`}}}, 49},
		{"fold case counts wide variants", PIIOptions{Kinds: []string{"ssn"}, Patterns: []Pattern{{"k", `(?i)k{20}`}}}, 60},
		{"unbounded pattern", PIIOptions{Kinds: []string{"ssn"}, Patterns: []Pattern{{"n", `\d+`}}}, MaxPatternSpan},
		{"word list phrase", PIIOptions{Kinds: []string{"ipv4"}, Words: []WordList{{"w", []string{"project blue falcon"}}}}, 17*4 + 2*(maxWordGap+4)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p, err := NewPII(tc.o)
			if err != nil {
				t.Fatal(err)
			}
			if got := p.MaxSpan(); got != tc.want {
				t.Errorf("MaxSpan() = %d, want %d", got, tc.want)
			}
		})
	}
}

// TestMaxSpanCoversFindings checks that, for every case in the tables,
// each finding fits in MaxSpan (jwt and private_key excepted, see MaxSpan).
func TestMaxSpanCoversFindings(t *testing.T) {
	p, err := NewPII(PIIOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range allCases() {
		for _, f := range p.Find(nil, tc.text) {
			if f.Kind != "jwt" && f.Kind != "private_key" && f.End-f.Start > p.MaxSpan() {
				t.Errorf("%s: finding %v longer than MaxSpan %d", tc.name, f, p.MaxSpan())
			}
		}
	}
}

// allCases gathers every table, for the fuzzer's seeds and span checks.
func allCases() []piiCase {
	var all []piiCase
	for _, cs := range [][]piiCase{emailCases, phoneCases, cardCases, ibanCases, ssnCases, ipCases, addressCases, secretCases(), wordCases} {
		all = append(all, cs...)
	}
	return all
}

var wordCases = []piiCase{
	{"phrase", "we met jane doe today", []hit{{"names", "jane doe"}}},
	{"phrase spacing", "JANE   DOE and Jane\nDoe", []hit{{"names", "JANE   DOE"}, {"names", "Jane\nDoe"}}},
	{"not whole word", "Janet Doe, Jane Doey", nil},
	{"unicode case", "ZOË said so", []hit{{"names", "ZOË"}}},
	{"unicode prefix only", "josée, José!", []hit{{"names", "José"}}},
	{"codename", "Re: Project Blue Falcon.", []hit{{"codename", "Project Blue Falcon"}}},
	{"hyphen inside entry", "E-Mail me", []hit{{"codename", "E-Mail"}}},
	{"underscore is a word rune", "secret_sauce_v2 vs Secret_Sauce", []hit{{"terms", "Secret_Sauce"}}},
	{"non-ASCII first letter", "Über alles", []hit{{"terms", "Über"}}},
	{"CJK around latin", "我是Jane Doe。", []hit{{"names", "Jane Doe"}}},
	{"CJK after latin", "Zoë是我的朋友", []hit{{"names", "Zoë"}}},
	{"CJK entry", "我叫张伟，你好", []hit{{"names", "张伟"}}},
	{"gap too wide", "jane" + strings.Repeat(" ", 12) + "doe", nil},
}

func TestFindWords(t *testing.T) {
	p, err := NewPII(PIIOptions{
		Kinds: []string{"email"},
		Words: []WordList{
			{Name: "names", Words: []string{"Jane Doe", "Zoë", "José", "张伟"}},
			{Name: "codename", Words: []string{"  project  blue falcon ", "e-mail"}},
			{Name: "terms", Words: []string{"secret_sauce", "über"}},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range wordCases {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, findHits(t, p, tc.text)); diff != "" {
				t.Errorf("Find(%q) (-want +got):\n%s", tc.text, diff)
			}
		})
	}
}

func TestFindPatterns(t *testing.T) {
	p, err := NewPII(PIIOptions{
		Kinds:    []string{"email"},
		Patterns: []Pattern{{Name: "employee_id", Regex: `\bEMP-\d{6}\b`}, {Name: "ticket", Regex: `(?i)ticket #\d+`}},
	})
	if err != nil {
		t.Fatal(err)
	}
	text := "EMP-123456 opened Ticket #42 for EMP-1234567 (ops@example.com)"
	want := []hit{{"employee_id", "EMP-123456"}, {"ticket", "Ticket #42"}, {"email", "ops@example.com"}}
	if diff := cmp.Diff(want, findHits(t, p, text)); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestRequiredLiteral(t *testing.T) {
	for _, tc := range []struct {
		re   string
		lit  string
		fold bool
	}{
		{`\bEMP-\d{6}\b`, "EMP-", false},
		{`(?i)order #\d+`, "order #", true},
		{`(?i)ticket #\d+`, "", false}, // k again
		{`(?i)kelvin-\d+`, "", false},  // the Kelvin sign folds to k
		{`(ab)+cde`, "cde", false},
		{`(abc){2,}x`, "abc", false},
		{`cat|dog`, "", false},
		{`(?:x)?`, "", false},
		{`é+`, "é", false},
	} {
		tree, err := syntax.Parse(tc.re, syntax.Perl)
		if err != nil {
			t.Fatal(err)
		}
		if lit, fold := requiredLiteral(tree); lit != tc.lit || fold != tc.fold {
			t.Errorf("requiredLiteral(%s) = %q, %v; want %q, %v", tc.re, lit, fold, tc.lit, tc.fold)
		}
	}
}

// TestPatternPrefilterKeepsFoldVariants guards the prefilter against
// skipping a text whose match holds a non-ASCII case variant.
func TestPatternPrefilterKeepsFoldVariants(t *testing.T) {
	p, err := NewPII(PIIOptions{Kinds: []string{"email"}, Patterns: []Pattern{{Name: "kb", Regex: `(?i)kb-\d+`}, {Name: "id", Regex: `(?i)id-\d+`}}})
	if err != nil {
		t.Fatal(err)
	}
	text := "\u212AB-12 and ID-7"
	want := []hit{{"kb", "\u212AB-12"}, {"id", "ID-7"}}
	if diff := cmp.Diff(want, findHits(t, p, text)); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}
