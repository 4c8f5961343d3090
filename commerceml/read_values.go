package commerceml

import (
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/shopspring/decimal"
)

func errMissing(what string) error { return fmt.Errorf("no %s", what) }

// maxDecimalLen bounds a numeric value: CommerceML sums have at most 18 digits (docs/commerceml.md §1.3),
// and a longer "number" is garbage, not a price.
const maxDecimalLen = 64

// parseDecimal parses a CommerceML number exactly. CommerceML writes '.' (docs/commerceml.md §1.3), but
// surrounding spaces, a decimal comma, and spaces or non-breaking spaces grouping the digits ("1 234,50",
// as 1C's number formatting writes them, docs/commerceml.md §4.3) occur in the wild, so these are tolerated.
// Any other thousands separator, exponents and anything else are refused: guessing at money is worse than
// stopping.
func parseDecimal(raw string) (decimal.Decimal, error) {
	s := strings.TrimSpace(raw)
	if len(s) > 4*maxDecimalLen {
		return decimal.Decimal{}, errNotDecimal
	}
	if strings.ContainsAny(s, " \u00a0\u202f\u2009") {
		var ok bool
		if s, ok = dropDigitSpaces(s); !ok {
			return decimal.Decimal{}, errNotDecimal
		}
	}
	if strings.Count(s, ",") == 1 && !strings.Contains(s, ".") {
		s = strings.Replace(s, ",", ".", 1)
	}
	if len(s) > maxDecimalLen || !isPlainDecimal(s) {
		return decimal.Decimal{}, errNotDecimal
	}
	d, err := decimal.NewFromString(s)
	if err != nil {
		return decimal.Decimal{}, errNotDecimal
	}
	return d, nil
}

// dropDigitSpaces removes spaces, non-breaking spaces (U+00A0), narrow no-break spaces (U+202F) and thin
// spaces (U+2009) that group the digits in threes ("1 234 567,89"); a space anywhere else fails it.
func dropDigitSpaces(s string) (string, bool) {
	var b strings.Builder
	rs := []rune(s)
	for i, c := range rs {
		switch c {
		case ' ', '\u00a0', '\u202f', '\u2009':
			if i == 0 || !isDigitRune(rs[i-1]) {
				return "", false
			}
			n := 0
			for n < len(rs)-i-1 && isDigitRune(rs[i+1+n]) {
				n++
			}
			if n != 3 {
				return "", false
			}
			continue
		}
		b.WriteRune(c)
	}
	return b.String(), true
}

func isDigitRune(c rune) bool { return c >= '0' && c <= '9' }

// isPlainDecimal accepts [+-]digits[.digits], with at least one digit.
func isPlainDecimal(s string) bool {
	i := 0
	if i < len(s) && (s[i] == '-' || s[i] == '+') {
		i++
	}
	digits, dot := 0, false
	for ; i < len(s); i++ {
		switch c := s[i]; {
		case c >= '0' && c <= '9':
			digits++
		case c == '.' && !dot:
			dot = true
		default:
			return false
		}
	}
	return digits > 0
}

// parseBool reads a ПереключательТип (xsd:boolean, docs/commerceml.md §1.3): true/false/1/0, any case.
// An empty element is false.
func parseBool(s string) (bool, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "true", "1":
		return true, nil
	case "false", "0", "":
		return false, nil
	}
	return false, errNotBoolean
}

// onlyChangesValue is how Bitrix reads СодержитТолькоИзменения: "true" or a non-zero integer
// (docs/commerceml.md §4.1). Anything else means a full snapshot.
func onlyChangesValue(s string) bool {
	s = strings.TrimSpace(s)
	if strings.EqualFold(s, "true") {
		return true
	}
	n, err := strconv.Atoi(s)
	return err == nil && n != 0
}

// readLocation is Europe/Kyiv, in which BAS writes document dates and times. The zone database is
// embedded by the main package (time/tzdata); should it still be missing, the older name is tried,
// then a fixed +02:00, which is wrong only by the summer hour.
var readLocation = sync.OnceValue(func() *time.Location {
	for _, name := range []string{"Europe/Kyiv", "Europe/Kiev"} {
		if loc, err := time.LoadLocation(name); err == nil {
			return loc
		}
	}
	return time.FixedZone("EET", 2*60*60)
})

// parseDocTime combines a document's Дата and Время. Both are parsed leniently (docs/commerceml.md §1.1):
// Дата may be YYYY-MM-DD, DD.MM.YYYY or a whole date-time; Время may be "T0:36:33", lack seconds
// or carry fractions (dropped). field names the part that failed.
func parseDocTime(date, clock string, loc *time.Location) (t time.Time, field string, err error) {
	date = strings.TrimSpace(date)
	clock = strings.TrimSpace(clock)
	if i := strings.IndexAny(date, "T "); i >= 0 {
		if clock == "" {
			clock = date[i:]
		}
		date = date[:i]
	}
	y, mo, d, ok := parseDate(date)
	if !ok {
		return time.Time{}, "Дата", errNotDate
	}
	var h, mi, sec int
	if clock != "" {
		if h, mi, sec, ok = parseClock(clock); !ok {
			return time.Time{}, "Время", errNotTime
		}
	}
	return time.Date(y, time.Month(mo), d, h, mi, sec, 0, loc), "", nil
}

func parseDate(s string) (y, m, d int, ok bool) {
	var parts []string
	switch {
	case strings.Count(s, "-") == 2:
		parts = strings.Split(s, "-")
	case strings.Count(s, ".") == 2:
		p := strings.Split(s, ".")
		parts = []string{p[2], p[1], p[0]}
	default:
		return 0, 0, 0, false
	}
	if len(parts[0]) != 4 {
		return 0, 0, 0, false
	}
	var okY, okM, okD bool
	y, okY = parseSmallInt(parts[0])
	m, okM = parseSmallInt(parts[1])
	d, okD = parseSmallInt(parts[2])
	if !okY || !okM || !okD || m < 1 || m > 12 || d < 1 || d > daysInMonth(y, m) {
		return 0, 0, 0, false
	}
	return y, m, d, true
}

func daysInMonth(y, m int) int {
	return time.Date(y, time.Month(m)+1, 0, 0, 0, 0, 0, time.UTC).Day()
}

func parseClock(s string) (h, m, sec int, ok bool) {
	s = strings.TrimLeft(strings.TrimSpace(s), "Tt ")
	parts := strings.Split(s, ":")
	if len(parts) < 2 || len(parts) > 3 {
		return 0, 0, 0, false
	}
	if len(parts) == 3 {
		whole, _, _ := strings.Cut(parts[2], ".") // fractions of a second are dropped
		parts[2] = whole
	} else {
		parts = append(parts, "0")
	}
	var okH, okM, okS bool
	h, okH = parseSmallInt(parts[0])
	m, okM = parseSmallInt(parts[1])
	sec, okS = parseSmallInt(parts[2])
	if !okH || !okM || !okS || h > 23 || m > 59 || sec > 59 {
		return 0, 0, 0, false
	}
	return h, m, sec, true
}

// parseSmallInt parses 1 to 4 ASCII digits.
func parseSmallInt(s string) (int, bool) {
	if len(s) == 0 || len(s) > 4 {
		return 0, false
	}
	n := 0
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
		n = n*10 + int(s[i]-'0')
	}
	return n, true
}

// ParseDecimal parses a number as the reader does (see parseDecimal): exact, with a decimal comma and
// digit-grouping spaces tolerated. Other readers of shop data (marketplace feeds) use it too.
func ParseDecimal(raw string) (decimal.Decimal, error) { return parseDecimal(raw) }
