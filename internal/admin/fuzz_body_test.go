package admin

import (
	"encoding/json"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/sluicehq/sluice/internal/store"
	"github.com/sluicehq/sluice/internal/telemetry"
)

// validKeyBodies are bodies the key parser accepts; with keyBodyCases
// they seed FuzzKeyBody.
var validKeyBodies = []string{
	``, `{}`, ` { } `, `{"name":"ci","team_id":"ta","models":["gpt-4o*"],"rpm":60,"tpm":1000,"max_concurrent":2}`,
	`{"budget_usd":"12.5","budget_period":"monthly","budget_tz":"Europe/Berlin"}`,
	`{"budget_usd":0.000001,"allowed_cidrs":["10.1.2.3/8","::1/128"],"metadata":{"a":"b"}}`,
	`{"expires_at":"2030-01-01T00:00:00+02:00","role":"viewer"}`, `{"expires_at":1893456000}`,
	`{"name":null,"models":null,"metadata":null,"expires_at":null,"budget_usd":null,"disabled":null}`,
	`{"disabled":true}`, `{"name":"\u00e9\ud83d\ude00"}`,
}

// FuzzKeyBody feeds raw bodies to the key body parser, for create and
// for PATCH: it must refuse with a 400 carrying a message, or accept
// values the store and the gateway can take as they are.
func FuzzKeyBody(f *testing.F) {
	for _, tc := range keyBodyCases {
		f.Add([]byte(tc.body))
	}
	for _, b := range validKeyBodies {
		f.Add([]byte(b))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		fs, perr := parseFields(body)
		if perr != nil {
			checkBodyRefusal(t, perr.Status, perr.Message)
			return
		}
		for _, patch := range []bool{false, true} {
			in, perr := parseKeyInput(fs, patch)
			if perr != nil {
				checkBodyRefusal(t, perr.Status, perr.Message)
				continue
			}
			if !patch && in.Disabled != nil {
				t.Errorf("create accepted disabled")
			}
			var k store.Key
			in.apply(&k)
			checkKeyInvariants(t, &k)
			out := appendKey(nil, &k, "")
			var back map[string]any
			if err := json.Unmarshal(out, &back); err != nil {
				t.Fatalf("appendKey wrote invalid JSON: %v\n%s", err, out)
			}
			if back["name"] != k.Name || back["budget_micros"] != float64(k.BudgetMicros) {
				t.Errorf("key object does not read back: %s", out)
			}
		}
	})
}

func checkBodyRefusal(t *testing.T, status int, msg string) {
	t.Helper()
	if (status != 400 && status != 413) || msg == "" || !utf8.ValidString(msg) {
		t.Errorf("refusal %d %q: want a 400 with a message", status, msg)
	}
}

func checkKeyInvariants(t *testing.T, k *store.Key) {
	t.Helper()
	for _, s := range []string{k.Name, k.TenantID, k.TeamID, k.Role, k.BudgetPeriod, k.BudgetTZ} {
		if !utf8.ValidString(s) || strings.IndexByte(s, 0) >= 0 || len(s) > store.MaxEntityText {
			t.Errorf("text %q accepted", s)
		}
	}
	if !slices.Contains(keyRoles, k.Role) || !slices.Contains(budgetPeriods, k.BudgetPeriod) {
		t.Errorf("role %q period %q accepted", k.Role, k.BudgetPeriod)
	}
	if _, err := time.LoadLocation(k.BudgetTZ); err != nil || k.BudgetTZ == "Local" {
		t.Errorf("time zone %q accepted", k.BudgetTZ)
	}
	for _, n := range []int64{k.RPM, k.TPM, k.MaxConcurrent} {
		if n < 0 || n > maxLimitRate {
			t.Errorf("limit %d accepted", n)
		}
	}
	if k.BudgetMicros < 0 || k.BudgetMicros >= maxUSD*1_000_000 {
		t.Errorf("budget %d accepted", k.BudgetMicros)
	}
	for _, m := range k.Models {
		if m == "" || !utf8.ValidString(m) || strings.IndexByte(m, 0) >= 0 {
			t.Errorf("model %q accepted", m)
		}
	}
	for _, c := range k.AllowedCIDRs {
		p, err := netip.ParsePrefix(c)
		if err != nil || p.Masked().String() != c {
			t.Errorf("CIDR %q accepted (not canonical)", c)
		}
	}
	if len(k.Metadata) > maxMetadataEntries {
		t.Errorf("%d metadata entries", len(k.Metadata))
	}
	for mk, mv := range k.Metadata {
		if mk == "" || len(mk) > maxMetadataKeyLen || len(mv) > maxMetadataValLen || !utf8.ValidString(mk+mv) {
			t.Errorf("metadata %q=%q accepted", mk, mv)
		}
	}
	if k.ExpiresAt.Location() != time.UTC || k.ExpiresAt.Nanosecond()%1000 != 0 {
		t.Errorf("expiry %v not UTC microseconds", k.ExpiresAt)
	}
}

// FuzzOrgBody feeds raw bodies to the tenant and team parsers and the
// rotate parser.
func FuzzOrgBody(f *testing.F) {
	for _, s := range []string{``, `{}`, `{"name":"acme"}`, `{"name":""}`, `{"name":"a","metadata":{"k":"v"},"disabled":false}`,
		`{"tenant_id":"t1","name":"x"}`, `{"grace_seconds":0}`, `{"grace_seconds":86400}`, `{"grace_seconds":-1}`,
		`{"grace_seconds":null}`, `{"id":"x"}`, `{"name":"a","name":"b"}`, `{"metadata":{"a":1}}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		fs, perr := parseFields(body)
		if perr != nil {
			checkBodyRefusal(t, perr.Status, perr.Message)
			return
		}
		for _, create := range []bool{false, true} {
			in, perr := parseOrgInput(fs, create, append([]string{"tenant_id", "name", "metadata", "disabled"}, policyFields...)...)
			if perr != nil {
				checkBodyRefusal(t, perr.Status, perr.Message)
				continue
			}
			if create && (in.Name == nil || *in.Name == "") || in.Name != nil && (*in.Name == "" || len(*in.Name) > store.MaxEntityText) {
				t.Errorf("name %v accepted (create=%v)", in.Name, create)
			}
			tn := store.Tenant{ID: "t"}
			in.apply(&tn.Name, &tn.Metadata, &tn.Disabled, &tn.Policy)
			if !json.Valid(appendTenant(nil, &tn)) {
				t.Errorf("appendTenant wrote invalid JSON")
			}
		}
		grace, perr := rotateGrace(fs)
		if perr != nil {
			checkBodyRefusal(t, perr.Status, perr.Message)
		} else if grace < 0 || grace > maxGrace || grace%time.Second != 0 {
			t.Errorf("grace %v accepted", grace)
		}
	})
}

// FuzzParseUSD checks that every accepted amount prints back as itself.
func FuzzParseUSD(f *testing.F) {
	for _, s := range []string{"0", "12.5", "0.000001", "999999999999.999999", "1000000000000", "1.", ".5", "-1", "1e3", "007.10"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		micros, ok := parseUSD(s)
		if !ok {
			return
		}
		if micros < 0 || micros >= maxUSD*1_000_000 {
			t.Fatalf("parseUSD(%q) = %d", s, micros)
		}
		printed := string(telemetry.AppendUSD(nil, micros))
		back, ok := parseUSD(strings.Trim(printed, `"`))
		if !ok || back != micros {
			t.Errorf("parseUSD(%q) = %d prints %s, which reads back as %d, %v", s, micros, printed, back, ok)
		}
	})
}
