package guard

import (
	"math/big"
	"math/rand/v2"
	"strconv"
	"testing"
)

// digitsOf turns an ASCII digit string into digit values.
func digitsOf(s string) []byte {
	d := []byte(s)
	for i := range d {
		d[i] -= '0'
	}
	return d
}

func TestLuhn(t *testing.T) {
	for _, tc := range []struct {
		num  string
		want bool
	}{
		{"4111111111111111", true},
		{"4111111111111112", false},
		{"79927398713", true},
		{"79927398710", false},
		{"378282246310005", true},
		{"0", true},
		{"18", true},
		{"81", false},
	} {
		if got := luhnValid(digitsOf(tc.num)); got != tc.want {
			t.Errorf("luhnValid(%s) = %v, want %v", tc.num, got, tc.want)
		}
	}
}

// TestLuhnSingleErrors checks that Luhn catches every single-digit change,
// which is what keeps card false positives low.
func TestLuhnSingleErrors(t *testing.T) {
	d := digitsOf("5555555555554444")
	for i := range d {
		for v := byte(0); v < 10; v++ {
			if v == d[i] {
				continue
			}
			e := append([]byte(nil), d...)
			e[i] = v
			if luhnValid(e) {
				t.Errorf("digit %d changed to %d still passes", i, v)
			}
		}
	}
}

func TestCardIIN(t *testing.T) {
	for _, tc := range []struct {
		num  string
		want bool
	}{
		{"4111111111111111", true}, {"4222222222222", true}, {"411111111111111", false},
		{"5105105105105100", true}, {"2221000000000009", true}, {"2720990000000007", true}, {"2721000000000000", false},
		{"378282246310005", true}, {"3782822463100050", false},
		{"6011000990139424", true}, {"6500000000000002", true}, {"6440000000000000", true},
		{"3530111333300000", true}, {"3527000000000000", false},
		{"30569309025904", true}, {"38520000023237", true}, {"3095000000000000", true},
		{"6200000000000005", true}, {"2200000000000004", true},
		{"9999999999999995", false}, {"1234567812345670", false},
	} {
		if got := cardIIN(digitsOf(tc.num)); got != tc.want {
			t.Errorf("cardIIN(%s) = %v, want %v", tc.num, got, tc.want)
		}
	}
}

// TestIBANMod97 compares ibanMod97 with math/big on random inputs.
func TestIBANMod97(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	const alnum = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	for range 2000 {
		n := 5 + rng.IntN(30)
		s := make([]byte, n)
		for i := range s {
			s[i] = alnum[rng.IntN(len(alnum))]
		}
		var digits []byte
		for _, c := range append(append([]byte(nil), s[4:]...), s[:4]...) {
			if c >= 'A' {
				digits = strconv.AppendInt(digits, int64(c-'A'+10), 10)
			} else {
				digits = append(digits, c)
			}
		}
		v, _ := new(big.Int).SetString(string(digits), 10)
		want := int(new(big.Int).Mod(v, big.NewInt(97)).Int64())
		if got := ibanMod97(s); got != want {
			t.Fatalf("ibanMod97(%s) = %d, want %d", s, got, want)
		}
	}
	if got := ibanMod97([]byte("GB82WEST12345698765432")); got != 1 {
		t.Errorf("ibanMod97(GB82…) = %d, want 1", got)
	}
}

func TestIBANLength(t *testing.T) {
	for _, tc := range []struct {
		cc   string
		want int
	}{{"DE", 22}, {"GB", 22}, {"FR", 27}, {"NO", 15}, {"MT", 31}, {"LC", 32}, {"US", 0}, {"ZZ", 0}} {
		if got := ibanLength(tc.cc[0], tc.cc[1]); got != tc.want {
			t.Errorf("ibanLength(%s) = %d, want %d", tc.cc, got, tc.want)
		}
	}
}

func TestSSNValid(t *testing.T) {
	for _, tc := range []struct {
		area, group, serial int
		want                bool
	}{
		{123, 45, 6789, true}, {1, 1, 1, true}, {899, 99, 9999, true},
		{0, 45, 6789, false}, {666, 45, 6789, false}, {900, 45, 6789, false}, {999, 45, 6789, false},
		{123, 0, 6789, false}, {123, 45, 0, false},
	} {
		if got := ssnValid(tc.area, tc.group, tc.serial); got != tc.want {
			t.Errorf("ssnValid(%d, %d, %d) = %v, want %v", tc.area, tc.group, tc.serial, got, tc.want)
		}
	}
}

func TestNANP(t *testing.T) {
	for _, tc := range []struct {
		code           string
		area, exchange bool
	}{
		{"415", true, true}, {"212", true, true}, {"800", true, true},
		{"123", false, false}, {"023", false, false}, {"911", false, false},
		{"495", false, true}, {"555", true, true},
	} {
		d := digitsOf(tc.code)
		if got := nanpArea(d[0], d[1], d[2]); got != tc.area {
			t.Errorf("nanpArea(%s) = %v, want %v", tc.code, got, tc.area)
		}
		if got := nanpExchange(d[0], d[1], d[2]); got != tc.exchange {
			t.Errorf("nanpExchange(%s) = %v, want %v", tc.code, got, tc.exchange)
		}
	}
}
