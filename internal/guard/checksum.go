package guard

// The numeric kinds (card, iban, ssn, phone) and the checksums and
// number-plan tables that keep them precise: Luhn and issuer prefixes for
// cards, ISO 13616 lengths and mod-97 for IBANs, the SSA's never-issued
// SSN ranges and the North American numbering plan's area and exchange
// rules.

// luhnValid reports whether the decimal digits d (values 0–9, not ASCII)
// pass the Luhn check.
func luhnValid(d []byte) bool {
	sum := 0
	double := false
	for i := len(d) - 1; i >= 0; i-- {
		v := int(d[i])
		if double {
			v *= 2
			if v > 9 {
				v -= 9
			}
		}
		sum += v
		double = !double
	}
	return sum%10 == 0
}

// cardIIN reports whether the digits d (values 0–9) start with the
// issuer prefix of a major card network that issues numbers of length
// len(d): Visa, Mastercard, American Express, Discover, JCB, Diners Club,
// UnionPay, Maestro and Mir.
func cardIIN(d []byte) bool {
	n := len(d)
	p2 := int(d[0])*10 + int(d[1])
	p3 := p2*10 + int(d[2])
	p4 := p3*10 + int(d[3])
	switch {
	case d[0] == 4: // Visa
		return n == 13 || n == 16 || n == 19
	case p2 >= 51 && p2 <= 55, p4 >= 2221 && p4 <= 2720: // Mastercard
		return n == 16
	case p2 == 34 || p2 == 37: // American Express
		return n == 15
	case p4 == 6011, p2 == 65, p3 >= 644 && p3 <= 649: // Discover
		return n >= 16 && n <= 19
	case p4 >= 3528 && p4 <= 3589: // JCB
		return n >= 16 && n <= 19
	case p2 == 36, p2 == 38, p2 == 39, p3 >= 300 && p3 <= 305, p4 == 3095: // Diners Club
		return n >= 14 && n <= 19
	case p2 == 62: // UnionPay
		return n >= 16 && n <= 19
	case p4 >= 2200 && p4 <= 2204: // Mir
		return n >= 16 && n <= 19
	case p4 == 5018, p4 == 5020, p4 == 5038, p4 == 5893, p4 == 6304, p4 == 6759, p4 >= 6761 && p4 <= 6763: // Maestro
		return n >= 13 && n <= 19
	}
	return false
}

// ibanLengths maps a country code to the length of its IBANs (ISO 13616
// registry, the countries in common use); zero means not an IBAN country.
var ibanLengths = func() (t [26 * 26]uint8) {
	for cc, n := range map[string]uint8{
		"AD": 24, "AE": 23, "AL": 28, "AT": 20, "AZ": 28, "BA": 20, "BE": 16,
		"BG": 22, "BH": 22, "BR": 29, "BY": 28, "CH": 21, "CR": 22, "CY": 28,
		"CZ": 24, "DE": 22, "DK": 18, "DO": 28, "EE": 20, "EG": 29, "ES": 24,
		"FI": 18, "FO": 18, "FR": 27, "GB": 22, "GE": 22, "GI": 23, "GL": 18,
		"GR": 27, "GT": 28, "HR": 21, "HU": 28, "IE": 22, "IL": 23, "IQ": 23,
		"IS": 26, "IT": 27, "JO": 30, "KW": 30, "KZ": 20, "LB": 28, "LC": 32,
		"LI": 21, "LT": 20, "LU": 20, "LV": 21, "LY": 25, "MC": 27, "MD": 24,
		"ME": 22, "MK": 19, "MR": 27, "MT": 31, "MU": 30, "NL": 18, "NO": 15,
		"PK": 24, "PL": 28, "PS": 29, "PT": 25, "QA": 29, "RO": 24, "RS": 22,
		"SA": 24, "SC": 31, "SE": 24, "SI": 19, "SK": 24, "SM": 27, "ST": 25,
		"SV": 28, "TL": 23, "TN": 24, "TR": 26, "UA": 29, "VA": 22, "VG": 24,
		"XK": 20,
	} {
		t[int(cc[0]-'A')*26+int(cc[1]-'A')] = n
	}
	return t
}()

// ibanLength returns the IBAN length of the country code a, b (upper-case
// ASCII letters), or 0 when the country has no IBAN in the table.
func ibanLength(a, b byte) int {
	return int(ibanLengths[int(a-'A')*26+int(b-'A')])
}

// ibanMod97 returns the ISO 7064 mod-97 remainder of the IBAN s (upper-case
// letters and digits only, at least 4 long): the first four characters
// moved to the end, letters counted as 10–35. A valid IBAN gives 1.
func ibanMod97(s []byte) int {
	r := 0
	add := func(c byte) {
		if c >= 'A' {
			v := int(c-'A') + 10
			r = (r*100 + v) % 97
			return
		}
		r = (r*10 + int(c-'0')) % 97
	}
	for _, c := range s[4:] {
		add(c)
	}
	for _, c := range s[:4] {
		add(c)
	}
	return r
}

// ssnValid reports whether area, group and serial form a US Social
// Security number the SSA could have issued: area not 000, 666 or 900–999,
// group not 00, serial not 0000.
func ssnValid(area, group, serial int) bool {
	return area != 0 && area != 666 && area < 900 && group != 0 && serial != 0
}

// nanpArea reports whether the three digits (values 0–9) can be a North
// American area code: NXX with N in 2–9, the middle digit not 9 (reserved
// for expansion) and not an N11 service code.
func nanpArea(a, b, c byte) bool {
	return a >= 2 && b <= 8 && !(b == 1 && c == 1)
}

// nanpExchange reports whether the three digits can be a North American
// central-office code: NXX with N in 2–9, not an N11 service code.
func nanpExchange(a, b, c byte) bool {
	return a >= 2 && !(b == 1 && c == 1)
}

// The numeric kinds start at a number's first digit (or at the '+' or '('
// of a phone number). A number starts where the byte before is not a
// letter or digit, nor a '.', '-', ',' or '/' that follows a digit (so
// the middle of 1,299.00 or 2024-01-15 starts nothing).
func numStart(s string, i int) bool {
	if i == 0 {
		return true
	}
	c := s[i-1]
	if isAlnum(c) {
		return false
	}
	return !(i >= 2 && isDigit(s[i-2]) && (c == '.' || c == '-' || c == ',' || c == '/'))
}

// numEnd reports whether a number may end at j: the end of the text, or a
// byte that is not a letter or digit, nor a '.', '-' or '/' that leads to
// more digits.
func numEnd(s string, j int) bool {
	if j >= len(s) {
		return true
	}
	c := s[j]
	if isAlnum(c) {
		return false
	}
	return !((c == '.' || c == '-' || c == '/') && j+1 < len(s) && isDigit(s[j+1]))
}

// digitsAt reports whether s[i:i+n] are n ASCII digits.
func digitsAt(s string, i, n int) bool {
	if i < 0 || i+n > len(s) {
		return false
	}
	for k := i; k < i+n; k++ {
		if !isDigit(s[k]) {
			return false
		}
	}
	return true
}

// atoin returns the value of the digits s[i:i+n] (n ≤ 4, all digits).
func atoin(s string, i, n int) int {
	v := 0
	for k := i; k < i+n; k++ {
		v = v*10 + int(s[k]-'0')
	}
	return v
}

// atNumber tries the numeric kinds at the digit i and returns the end of
// the longest one found (or i).
func (p *PII) atNumber(dst []Finding, s string, i int) ([]Finding, int) {
	if !numStart(s, i) {
		return dst, i
	}
	end := i
	try := func(k, b int, score float64) {
		if b > 0 {
			dst = append(dst, finding(k, i, b, score))
			end = max(end, b)
		}
	}
	if p.on[kSSN] {
		try(kSSN, ssn(s, i), 0.9)
	}
	if p.on[kCard] {
		try(kCard, card(s, i), 1)
	}
	if p.on[kPhone] {
		try(kPhone, phoneNational(s, i), 0.75)
	}
	if p.on[kIPv4] {
		try(kIPv4, ipv4At(s, i), 0.9)
	}
	if p.on[kAddress] {
		try(kAddress, address(s, i), 0.6)
	}
	return dst, end
}

// ssnLookback is how far before a bare nine-digit number the word "SSN"
// or "social security" is looked for.
const ssnLookback = 32

// ssn returns the end of a US Social Security number at i: AAA-GG-SSSS
// with dashes, or nine bare digits after an "SSN" or "social security"
// context word; never-issued numbers (area 000, 666, 9xx; group 00;
// serial 0000) are not reported.
func ssn(s string, i int) int {
	if digitsAt(s, i, 3) && i+11 <= len(s) && s[i+3] == '-' && digitsAt(s, i+4, 2) && s[i+6] == '-' && digitsAt(s, i+7, 4) {
		if numEnd(s, i+11) && ssnValid(atoin(s, i, 3), atoin(s, i+4, 2), atoin(s, i+7, 4)) {
			return i + 11
		}
		return 0
	}
	e := runOf(s, i, cDigit)
	if e-i != 9 || !numEnd(s, e) || !ssnValid(atoin(s, i, 3), atoin(s, i+3, 2), atoin(s, i+5, 4)) {
		return 0
	}
	for k := max(0, i-ssnLookback); k < i; k++ {
		if hasFoldPrefix(s[k:i], "ssn") || hasFoldPrefix(s[k:i], "social security") {
			return e
		}
	}
	return 0
}

// card returns the end of a payment card number at i: 13–19 digits, bare
// or in groups split by single spaces or dashes (the same throughout; a
// first group of 4, others of 3–6), passing the Luhn check and starting
// with a known issuer prefix for its length. With space-separated groups
// a shorter valid prefix is accepted when more groups follow.
func card(s string, i int) int {
	var d [19]byte
	var ends, counts [8]int
	nd, groups, sep, j := 0, 0, byte(0), i
	for {
		e := runOf(s, j, cDigit)
		if nd+e-j > 19 {
			if groups == 0 {
				return 0
			}
			break
		}
		for k := j; k < e; k++ {
			d[nd] = s[k] - '0'
			nd++
		}
		ends[groups], counts[groups] = e, nd
		groups++
		if groups == len(ends) || e+1 >= len(s) || !isDigit(s[e+1]) || (s[e] != ' ' && s[e] != '-') || (sep != 0 && s[e] != sep) {
			break
		}
		sep, j = s[e], e+1
	}
	if groups == 1 {
		if nd < 13 || !numEnd(s, ends[0]) || !luhnValid(d[:nd]) || !cardIIN(d[:nd]) {
			return 0
		}
		return ends[0]
	}
	if counts[0] != 4 {
		return 0
	}
	fit := 1 // groups[:fit] have the right sizes
	for fit < groups && counts[fit]-counts[fit-1] >= 3 && counts[fit]-counts[fit-1] <= 6 {
		fit++
	}
	for k := fit; k >= 2; k-- {
		n := counts[k-1]
		if n < 13 || (k == groups && !numEnd(s, ends[k-1])) || (k < groups && sep != ' ') {
			continue
		}
		if luhnValid(d[:n]) && cardIIN(d[:n]) {
			return ends[k-1]
		}
	}
	return 0
}

// iban returns the end of an IBAN at i: a country code from the table, two
// check digits and the country's BBAN length of upper-case letters and
// digits, bare or in space-separated groups of four, with an ISO 7064
// mod-97 remainder of 1. Lower-case IBANs are not recognised.
func iban(s string, i int) int {
	if i+4 > len(s) || !is(s[i+1], cUpper) || !isDigit(s[i+2]) || !isDigit(s[i+3]) {
		return 0
	}
	n := ibanLength(s[i], s[i+1])
	if n == 0 {
		return 0
	}
	var buf [34]byte
	m, j := 0, i
	for m < n && j < len(s) {
		c := s[j]
		if is(c, cDigit|cUpper) {
			buf[m] = c
			m, j = m+1, j+1
			continue
		}
		if c == ' ' && m%4 == 0 && j+1 < len(s) && is(s[j+1], cDigit|cUpper) {
			j++
			continue
		}
		break
	}
	if m != n || (j < len(s) && isAlnum(s[j])) || ibanMod97(buf[:n]) != 1 {
		return 0
	}
	return j
}

// maxPhone bounds a phone number with its separators.
const maxPhone = 40

// phoneIntl finds an international number at the '+' at i: a country code
// not starting with 0 right after the '+', then digit groups split by
// single spaces, dashes or dots, or a parenthesised group such as (0) or
// (20); 7–15 digits in all. It returns dst and the scan's next position.
func (p *PII) phoneIntl(dst []Finding, s string, i int) ([]Finding, int) {
	j := i + 1
	if j >= len(s) || !isDigit(s[j]) || s[j] == '0' {
		return dst, i + 1
	}
	digits, last := 0, 0
	for j < len(s) && j-i < maxPhone {
		c := s[j]
		switch {
		case isDigit(c):
			e := runOf(s, j, cDigit)
			if digits+e-j > 15 {
				if last == 0 {
					return dst, e
				}
				j = len(s)
				continue
			}
			digits, j, last = digits+e-j, e, e
			continue
		case c == '(' && (last == j || (last == j-1 && s[j-1] == ' ')):
			e := runOf(s, j+1, cDigit)
			if n := e - j - 1; n >= 1 && n <= 4 && e < len(s) && s[e] == ')' && digits+n <= 15 {
				digits, j, last = digits+n, e+1, e+1
				continue
			}
		case (c == ' ' || c == '-' || c == '.') && last == j && j+1 < len(s) && (isDigit(s[j+1]) || s[j+1] == '('):
			j++
			continue
		}
		break
	}
	if digits < 7 || !numEnd(s, last) {
		return dst, i + 1
	}
	return append(dst, finding(kPhone, i, last, 0.8)), last
}

// phoneNANP finds a North American number at start whose area code
// begins at j (a '(' or a digit).
func (p *PII) phoneNANP(dst []Finding, s string, start, j int) ([]Finding, int) {
	if start > 0 && isAlnum(s[start-1]) {
		return dst, j + 1
	}
	if e := nanp(s, j); e > 0 {
		return append(dst, finding(kPhone, start, e, 0.8)), e
	}
	return dst, j + 1
}

// nanp returns the end of a North American number whose area code starts
// at j: (NXX) NXX-XXXX, NXX-NXX-XXXX, NXX.NXX.XXXX or NXX NXX XXXX, with a
// valid area code and exchange; 0 when there is none.
func nanp(s string, j int) int {
	var area, k int
	var sep byte
	switch {
	case j < len(s) && s[j] == '(':
		if !digitsAt(s, j+1, 3) || j+4 >= len(s) || s[j+4] != ')' {
			return 0
		}
		area, k, sep = j+1, j+5, '-'
		if k < len(s) && s[k] == ' ' {
			k++
		}
	case digitsAt(s, j, 3) && j+3 < len(s) && (s[j+3] == '-' || s[j+3] == '.' || s[j+3] == ' '):
		area, k, sep = j, j+4, s[j+3]
	default:
		return 0
	}
	if !digitsAt(s, k, 3) || k+3 >= len(s) || (s[k+3] != sep && s[k+3] != '-') || !digitsAt(s, k+4, 4) || !numEnd(s, k+8) {
		return 0
	}
	if !nanpArea(s[area]-'0', s[area+1]-'0', s[area+2]-'0') || !nanpExchange(s[k]-'0', s[k+1]-'0', s[k+2]-'0') {
		return 0
	}
	return k + 8
}

// phoneNational returns the end of a national-format phone number at the
// digit i: North American (with an optional leading "1-"), UK, French or
// German; 0 when there is none.
func phoneNational(s string, i int) int {
	if s[i] == '1' && i+2 < len(s) && (s[i+1] == '-' || s[i+1] == ' ' || s[i+1] == '.') && (isDigit(s[i+2]) || s[i+2] == '(') {
		if e := nanp(s, i+2); e > 0 {
			return e
		}
	}
	if e := nanp(s, i); e > 0 {
		return e
	}
	if s[i] != '0' || i+1 >= len(s) || s[i+1] == '0' || !isDigit(s[i+1]) {
		return 0
	}
	return max(phoneFR(s, i), phoneUK(s, i), phoneDE(s, i))
}

// digitGroups reads up to 4 runs of digits from i split by single sep
// bytes. It returns their lengths, their count (5 when there are more)
// and the end of the last run read.
func digitGroups(s string, i int, sep byte) (lens [4]int, n, end int) {
	end = i
	for {
		e := runOf(s, end, cDigit)
		if n == len(lens) {
			return lens, n + 1, end
		}
		lens[n], n, end = e-end, n+1, e
		if e+1 >= len(s) || s[e] != sep || !isDigit(s[e+1]) {
			return lens, n, end
		}
		end = e + 1
	}
}

// phoneFR returns the end of a French number 0X XX XX XX XX (spaces, dots
// or dashes) at i, or 0.
func phoneFR(s string, i int) int {
	if i+2 >= len(s) || (s[i+2] != ' ' && s[i+2] != '.' && s[i+2] != '-') {
		return 0
	}
	j := i + 2
	for pair := 0; pair < 4; pair++ {
		if j >= len(s) || s[j] != s[i+2] || !digitsAt(s, j+1, 2) {
			return 0
		}
		j += 3
	}
	if (j+1 < len(s) && s[j] == s[i+2] && isDigit(s[j+1])) || !numEnd(s, j) {
		return 0
	}
	return j
}

// phoneUK returns the end of a UK number at i: eleven digits starting 01,
// 02, 03, 05, 07, 08 or 09 in groups of 3-4-4, 4-3-4, 5-6 or 5-3-3 split
// by spaces or by dashes; or 0.
func phoneUK(s string, i int) int {
	switch s[i+1] {
	case '4', '6':
		return 0
	}
	a := runOf(s, i, cDigit)
	if a >= len(s) || (s[a] != ' ' && s[a] != '-') {
		return 0
	}
	lens, n, end := digitGroups(s, i, s[a])
	if n > 3 || !numEnd(s, end) {
		return 0
	}
	switch lens {
	case [4]int{3, 4, 4}, [4]int{4, 3, 4}, [4]int{5, 6}, [4]int{5, 3, 3}:
		return end
	}
	return 0
}

// phoneDE returns the end of a German number 0xxx xxxxxxx at i: an area
// code of 3–5 digits, a space, '/' or '-', and 4–8 more digits, 10–12
// digits in all; or 0.
func phoneDE(s string, i int) int {
	a := runOf(s, i, cDigit)
	if a-i < 3 || a-i > 5 || a+1 >= len(s) || (s[a] != ' ' && s[a] != '/' && s[a] != '-') {
		return 0
	}
	lens, n, end := digitGroups(s, i, s[a])
	total := lens[0] + lens[1]
	if n != 2 || lens[1] < 4 || lens[1] > 8 || total < 10 || total > 12 || !numEnd(s, end) {
		return 0
	}
	return end
}
