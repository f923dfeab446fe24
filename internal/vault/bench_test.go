package vault

import "testing"

func BenchmarkOpenCredential(b *testing.B) {
	v := mustVault(b, testKey)
	sealed, err := v.SealCredential("cred_0123456789abcdefghij", "openai", "sk-proj-0123456789abcdefghijklmnopqrstuvwxyzABCDEFGH")
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := v.OpenCredential("cred_0123456789abcdefghij", "openai", sealed); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkSealCredential(b *testing.B) {
	v := mustVault(b, testKey)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := v.SealCredential("cred_0123456789abcdefghij", "openai", "sk-proj-0123456789abcdefghijklmnopqrstuvwxyzABCDEFGH"); err != nil {
			b.Fatal(err)
		}
	}
}
