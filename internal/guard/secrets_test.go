package guard

import (
	"encoding/base64"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// Test secrets are built from repeated filler so that no real-looking
// credential sits in the source.
var (
	awsID         = "AKIA" + "IOSFODNN7EXAMPLE" // AWS's documented example
	testAWSSecret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
	gcpKey        = "AIza" + strings.Repeat("Sy0_-x9", 5)
	testGCPKeyID  = strings.Repeat("0a1b2c3d4e", 4)
	openaiOld     = "sk-" + strings.Repeat("Ab1", 16)
	openaiPrj     = "sk-proj-" + strings.Repeat("Xy9_-z", 26)
	openaiSvc     = "sk-svcacct-" + strings.Repeat("Qw3rT", 20)
	anthKey       = "sk-ant-api03-" + strings.Repeat("aB3-_", 19) + "AA"
	ghp           = "ghp_" + strings.Repeat("aB3", 12)
	ghs           = "ghs_" + strings.Repeat("Zz9", 12)
	ghPAT         = "github_pat_" + strings.Repeat("A1b2", 5) + "C3_" + strings.Repeat("d4E5f", 11) + "G6h7"
	glpat         = "glpat-" + strings.Repeat("xY1_-", 4)
	slackBot      = "xoxb-" + "123456789012-1234567890123-" + strings.Repeat("AbCd", 6)
	slackHook     = "https://hooks.slack.com/services/" + "T00000000/B00000000/" + strings.Repeat("Xy", 12)
	jwtHeader     = enc64(`{"alg":"HS256","typ":"JWT"}`)
	jwtToken      = jwtHeader + "." + enc64(`{"sub":"1234567890","name":"John Doe","iat":1516239022}`) + ".SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c"
	jwtNone       = enc64(`{"alg":"none"}`) + "." + enc64(`{"sub":"1"}`) + "."
	pemBody       = "MIIEowIBAAKCAQEA" + strings.Repeat("q83vEjRWeJq83vEj", 8)
	pemRSA        = "-----BEGIN RSA PRIVATE KEY-----\n" + pemBody + "\n-----END RSA PRIVATE KEY-----"
)

func enc64(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }

// secretCases are the secrets' detection cases.
func secretCases() []piiCase {
	return []piiCase{
		one("aws key", "key id "+awsID+" in env", "aws_key", awsID),
		one("aws session key", "ASIAY34FZKBOKMUTVV7A", "aws_key", "ASIAY34FZKBOKMUTVV7A"),
		none("aws key short", "AKIAIOSFODNN7EXAMPL"),
		none("aws key long", "AKIAIOSFODNN7EXAMPLE1"),
		none("aws key lower", "AKIAiosfodnn7example"),
		none("aws key in word", "X"+awsID),
		none("aws key other prefix", "AKIB"+awsID[4:]),
		one("aws secret ini", "aws_secret_access_key = "+testAWSSecret+"\n", "aws_secret", testAWSSecret),
		one("aws secret env", "AWS_SECRET_ACCESS_KEY="+testAWSSecret, "aws_secret", testAWSSecret),
		one("aws secret json", `{"SecretAccessKey": "`+testAWSSecret+`"}`, "aws_secret", testAWSSecret),
		one("aws secret yaml", "aws_secret_key: "+testAWSSecret, "aws_secret", testAWSSecret),
		none("aws secret no context", "token "+testAWSSecret),
		none("aws secret other name", "client_secret = "+testAWSSecret),
		none("aws secret key id name", "aws_access_key_id = "+testAWSSecret),
		none("aws secret short", "aws_secret_access_key = "+testAWSSecret[1:]),
		none("aws secret long", "aws_secret_access_key = "+testAWSSecret+"A"),
		one("gcp api key", "?key="+gcpKey+"&q=1", "gcp_key", gcpKey),
		none("gcp api key short", gcpKey[:38]),
		none("gcp api key long", gcpKey+"x"),
		one("gcp key id", `{"type": "service_account", "private_key_id": "`+testGCPKeyID+`",`, "gcp_key", testGCPKeyID),
		none("gcp key id short", `"private_key_id": "`+testGCPKeyID[1:]+`"`),
		none("gcp key id upper", `"private_key_id": "`+strings.ToUpper(testGCPKeyID)+`"`),
		one("openai legacy", "OPENAI_API_KEY="+openaiOld, "openai_key", openaiOld),
		one("openai project", "key: "+openaiPrj+".", "openai_key", openaiPrj),
		one("openai service account", openaiSvc, "openai_key", openaiSvc),
		none("openai short", "sk-Ab1Ab1Ab1Ab1"),
		none("openai kebab name", "sk-this-is-a-very-long-kebab-case-name-for-a-thing"),
		none("openai in word", "risk-"+openaiOld[3:]),
		one("anthropic", "x-api-key: "+anthKey, "anthropic_key", anthKey),
		none("anthropic short", "sk-ant-api03-short"),
		one("github classic", "token "+ghp+" ok", "github_token", ghp),
		one("github server", ghs, "github_token", ghs),
		one("github fine-grained", "GH_TOKEN="+ghPAT, "github_token", ghPAT),
		none("github short", ghp[:len(ghp)-1]),
		none("github bad prefix", "ghx_"+ghp[4:]),
		none("github trailing underscore", ghp+"_more"),
		none("github pat short", ghPAT[:60]),
		one("gitlab", "glpat "+glpat, "gitlab_token", glpat),
		none("gitlab short", glpat[:len(glpat)-1]),
		one("slack bot", "SLACK_BOT_TOKEN="+slackBot, "slack_token", slackBot),
		one("slack webhook", "post to "+slackHook+" now", "slack_token", slackHook),
		one("slack webhook bare", "hooks.slack.com/services/T00000000/B00000000/"+strings.Repeat("Xy", 12), "slack_token", "hooks.slack.com/services/T00000000/B00000000/"+strings.Repeat("Xy", 12)),
		none("slack bad prefix", "xoxz-"+slackBot[5:]),
		none("slack short", "xoxb-12345"),
		none("slack webhook no team", "https://hooks.slack.com/services/"),
		none("slack webhook lower team", "https://hooks.slack.com/services/t00000000/B00000000/"+strings.Repeat("Xy", 12)),
		one("jwt", "Authorization: Bearer "+jwtToken+"\n", "jwt", jwtToken),
		one("jwt sentence end", "token "+jwtToken+".", "jwt", jwtToken),
		one("jwt alg none", jwtNone, "jwt", jwtNone),
		one("jwt cut by end of text", "Bearer "+jwtHeader+".eyJzdWIi", "jwt", jwtHeader+".eyJzdWIi"),
		none("jwt header not json", enc64(`{alg: HS256}`)+".eyJzdWIiOiIxIn0.c2ln"),
		none("jwt header invalid json", enc64(`{"alg": HS256}`)+".eyJzdWIiOiIxIn0.c2ln"),
		none("jwt header without alg", enc64(`{"typ":"JWT"}`)+".eyJzdWIiOiIxIn0.c2ln"),
		none("jwt header array", enc64(`["alg"]`)+".eyJzdWIiOiIxIn0.c2ln"),
		none("jwt two segments", jwtHeader+".eyJzdWIiOiIxIn0 and more"),
		none("jwt bad base64", "eyJ!!!.eyJzdWIiOiIxIn0.c2ln"),
		none("jwt in longer token", "x."+jwtToken),
		one("private key", "key:\n"+pemRSA+"\nthanks", "private_key", pemRSA),
		one("private key unterminated", "key:\n-----BEGIN PRIVATE KEY-----\n"+pemBody, "private_key", "-----BEGIN PRIVATE KEY-----\n"+pemBody),
		one("private key wrong END", "-----BEGIN EC PRIVATE KEY-----\nabc\n-----END RSA PRIVATE KEY-----", "private_key", "-----BEGIN EC PRIVATE KEY-----\nabc\n-----END RSA PRIVATE KEY-----"),
		one("private key json escaped", `"private_key": "-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----\n"`, "private_key", `-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----`),
		one("pgp private key", "-----BEGIN PGP PRIVATE KEY BLOCK-----\nlQ\n-----END PGP PRIVATE KEY BLOCK-----", "private_key", "-----BEGIN PGP PRIVATE KEY BLOCK-----\nlQ\n-----END PGP PRIVATE KEY BLOCK-----"),
		none("public key", "-----BEGIN PUBLIC KEY-----\nMIIB\n-----END PUBLIC KEY-----"),
		none("certificate", "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----"),
		none("markdown rule", "-----\n----- BEGIN -----"),
	}
}

func TestFindSecrets(t *testing.T) { runCases(t, secretCases()) }

// TestSecretsInProse checks byte-exact ranges with multi-byte text around.
func TestSecretsInProse(t *testing.T) {
	text := "Voilà — ключ " + awsID + " и токен " + ghp + "，还有 " + jwtToken + " ✓"
	want := []hit{{"aws_key", awsID}, {"github_token", ghp}, {"jwt", jwtToken}}
	p, err := NewPII(PIIOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, findHits(t, p, text)); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

// TestLongSecretsHeadInMaxSpan checks the streaming contract for the two
// kinds that can outgrow MaxSpan: their first MaxSpan bytes alone are
// reported, from the same Start, up to the end of the text.
func TestLongSecretsHeadInMaxSpan(t *testing.T) {
	p, err := NewPII(PIIOptions{})
	if err != nil {
		t.Fatal(err)
	}
	longJWT := jwtHeader + "." + enc64(strings.Repeat(`{"k":"vvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvv"}`, 20)) + ".sig"
	longPEM := "-----BEGIN OPENSSH PRIVATE KEY-----\n" + strings.Repeat(pemBody+"\n", 10) + "-----END OPENSSH PRIVATE KEY-----"
	for _, secret := range []string{longJWT, longPEM} {
		text := "prefix " + secret
		head := text[:7+p.MaxSpan()]
		full := p.Find(nil, text)
		part := p.Find(nil, head)
		if len(full) != 1 || full[0].End != len(text) {
			t.Fatalf("whole text: %v, want one finding to the end", full)
		}
		if len(part) != 1 || part[0].Start != full[0].Start || part[0].End != len(head) || part[0].Kind != full[0].Kind {
			t.Errorf("head: %v, want %s from %d to the end (%d)", part, full[0].Kind, full[0].Start, len(head))
		}
	}
}

func TestDecodeBase64URL(t *testing.T) {
	for _, s := range []string{"", "f", "fo", "foo", "foob", "fooba", "foobar", `{"alg":"RS256"}`, "\xff\xfe\x00"} {
		enc := enc64(s)
		buf := make([]byte, len(enc)*3/4)
		n, ok := decodeBase64URL(buf, enc)
		if !ok || string(buf[:n]) != s {
			t.Errorf("decode(%q) = %q, %v; want %q", enc, buf[:n], ok, s)
		}
	}
	for _, bad := range []string{"a", "ab+c", "ab/c", "ab=c", "Zh", "Zm9"} {
		buf := make([]byte, len(bad))
		if _, ok := decodeBase64URL(buf, bad); ok {
			t.Errorf("decode(%q) succeeded, want failure", bad)
		}
	}
}
