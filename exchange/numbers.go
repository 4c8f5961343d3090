package exchange

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
	"unicode"

	"obmin/commerceml"
	"obmin/store"
)

// BAS order numbers (docs/bas-orders.md, «Номери»). BAS builds its own document number from the digits of
// Номер only, padded to 6, behind its prefixes, in a field of 11 characters that must be unique within a
// year; and it finds an order it loaded before by the whole Номер, whatever the year. So obmin's Номер is
//
//	<prefix><year in Roman numerals>-<6 digits>      e.g. CB-MMXXVI-000123
//
// with a sequence per calendar year (Kyiv time of the sale) shared by every cash register: the digits fit
// BAS's field and are unique in their year, the whole Номер never repeats.

const (
	// NumberMax is the largest sequence number BAS's field takes: 6 digits.
	NumberMax    = 999999
	numberDigits = 6
)

// FormatOrderNumber renders the Номер of sequence number n of year.
func FormatOrderNumber(prefix string, year, n int) string {
	return fmt.Sprintf("%s%s-%0*d", prefix, roman(year), numberDigits, n)
}

// ParseOrderNumber reads a Номер FormatOrderNumber made, with any prefix: its year and sequence number.
func ParseOrderNumber(s string) (year, n int, ok bool) {
	i := strings.LastIndex(s, "-")
	if i < 0 {
		return 0, 0, false
	}
	left, digits := s[:i], s[i+1:]
	if len(digits) != numberDigits || strings.TrimFunc(digits, unicode.IsDigit) != "" {
		return 0, 0, false
	}
	j := len(left)
	for j > 0 && strings.ContainsRune("IVXLCDM", rune(left[j-1])) {
		j--
	}
	year = unroman(left[j:])
	if year == 0 || roman(year) != left[j:] {
		return 0, 0, false
	}
	n, _ = strconv.Atoi(digits)
	return year, n, true
}

// CheckNumberPrefix says why a prefix cannot be used: a digit would be taken by BAS into its number, and a
// Roman letter at its end would run into the year.
func CheckNumberPrefix(p string) error {
	if strings.IndexFunc(p, unicode.IsDigit) >= 0 {
		return fmt.Errorf("%q has a digit: BAS keeps the digits of Номер only, and its number has room for 6", p)
	}
	if p != "" && strings.ContainsRune("IVXLCDM", rune(p[len(p)-1])) {
		return fmt.Errorf("%q ends with a Roman numeral letter, which would run into the year that follows", p)
	}
	if len([]rune(p)) > 20 {
		return fmt.Errorf("%q is longer than 20 characters", p)
	}
	return nil
}

func roman(n int) string {
	var b strings.Builder
	for _, v := range []struct {
		n int
		s string
	}{{1000, "M"}, {900, "CM"}, {500, "D"}, {400, "CD"}, {100, "C"}, {90, "XC"}, {50, "L"}, {40, "XL"}, {10, "X"}, {9, "IX"}, {5, "V"}, {4, "IV"}, {1, "I"}} {
		for n >= v.n {
			b.WriteString(v.s)
			n -= v.n
		}
	}
	return b.String()
}

func unroman(s string) int {
	val := map[byte]int{'I': 1, 'V': 5, 'X': 10, 'L': 50, 'C': 100, 'D': 500, 'M': 1000}
	total := 0
	for i := 0; i < len(s); i++ {
		v := val[s[i]]
		if i+1 < len(s) && val[s[i+1]] > v {
			total -= v
		} else {
			total += v
		}
	}
	return total
}

// numberJournal is obmin's own record of every number it gave, one text file per year in its spool
// (<spool>/numbers/<year>.txt): "<Номер>\t<receipt id>\t<fiscal code>\t<time of sale, Kyiv>". It is
// written before a number is used, so a lost state can be rebuilt from it: the same receipt gets its old
// number back, and no number is given twice.
type numberJournal struct{ dir string }

func (j numberJournal) path(year int) string { return filepath.Join(j.dir, strconv.Itoa(year)+".txt") }

// append adds lines and flushes them to disk before returning.
func (j numberJournal) append(year int, lines []string) error {
	if j.dir == "" || len(lines) == 0 {
		return nil
	}
	if err := os.MkdirAll(j.dir, 0o750); err != nil {
		return err
	}
	f, err := os.OpenFile(j.path(year), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o640)
	if err != nil {
		return fmt.Errorf("numbers journal: %w", err)
	}
	_, err = io.WriteString(f, strings.Join(lines, "\n")+"\n")
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("numbers journal %s: %w", j.path(year), err)
	}
	return nil
}

// read returns the numbers the journal of year holds, by receipt id, and the largest.
func (j numberJournal) read(year int) (byReceipt map[string]int, maxN int, err error) {
	byReceipt = map[string]int{}
	if j.dir == "" {
		return byReceipt, 0, nil
	}
	f, err := os.Open(j.path(year))
	if errors.Is(err, os.ErrNotExist) {
		return byReceipt, 0, nil
	}
	if err != nil {
		return nil, 0, fmt.Errorf("numbers journal: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Split(sc.Text(), "\t")
		y, n, ok := ParseOrderNumber(fields[0])
		if !ok || y != year {
			continue // a line cut by a crash, or edited by hand
		}
		maxN = max(maxN, n)
		if len(fields) > 1 && fields[1] != "" {
			byReceipt[fields[1]] = n
		}
	}
	return byReceipt, maxN, sc.Err()
}

// yearNumbers is what one process knows of a year's numbers.
type yearNumbers struct {
	floor int // the largest number found written before: journal, state, orders file
	// recovered: the state had no record of this year's numbers, so the journal's numbers by receipt id
	// are reused for receipts that come again (after a lost state, the overlap window re-reads them).
	recovered map[string]int
}

// numbers returns what this process knows of year's numbers, scanning what obmin wrote before on first use.
func (s *Sales) numbers(ctx context.Context, year int) (*yearNumbers, error) {
	if yn, ok := s.years[year]; ok {
		return yn, nil
	}
	byReceipt, floor, err := s.journal().read(year)
	if err != nil {
		return nil, err
	}
	err = s.Store.EachNumber(ctx, func(number string, _ time.Time) error {
		if y, n, ok := ParseOrderNumber(number); ok && y == year {
			floor = max(floor, n)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if n, err := s.fileMaxNumber(ctx, year); err != nil {
		return nil, err
	} else {
		floor = max(floor, n)
	}
	yn := &yearNumbers{floor: floor}
	taken, err := s.Store.OrderNumbersTaken(ctx, year)
	if err != nil {
		return nil, err
	}
	if taken == 0 && len(byReceipt) > 0 {
		yn.recovered = byReceipt
		if s.Log != nil {
			s.Log.WithFields(map[string]any{"year": year, "numbers": len(byReceipt), "last": floor}).
				Warn("the state knows no order numbers of this year, the numbers journal does: numbers continue after it, and receipts seen again get their old numbers")
		}
	}
	if s.years == nil {
		s.years = map[int]*yearNumbers{}
	}
	s.years[year] = yn
	return yn, nil
}

// fileMaxNumber is the largest number of year in the orders file now in BAS's folder.
func (s *Sales) fileMaxNumber(ctx context.Context, year int) (int, error) {
	if s.Cfg.Out == nil {
		return 0, nil
	}
	f, err := s.Cfg.Out.Open(ctx, s.Cfg.OrdersFile)
	if errors.Is(err, os.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("read %s: %w", s.Cfg.OrdersFile, err)
	}
	defer f.Close()
	maxN := 0
	_, err = commerceml.Read(f, s.Cfg.OrdersFile, commerceml.Handler{Document: func(d commerceml.Document) error {
		if y, n, ok := ParseOrderNumber(d.Number); ok && y == year {
			maxN = max(maxN, n)
		}
		return nil
	}})
	if err != nil {
		// A damaged file is rewritten from the state; its numbers cannot be trusted anyway.
		if s.Log != nil {
			s.Log.WithError(err).Warn("the orders file does not read back; its numbers are not taken into account")
		}
		return 0, nil
	}
	return maxN, nil
}

func (s *Sales) journal() numberJournal { return numberJournal{dir: s.Cfg.NumbersDir} }

func (s *Sales) numberRange() (first, last int) {
	first, last = s.Cfg.NumberFirst, s.Cfg.NumberLast
	if first <= 0 {
		first = 1
	}
	if last <= 0 || last > NumberMax {
		last = NumberMax
	}
	return first, last
}

// ErrNumbersExhausted is returned when a year has no order numbers left.
var ErrNumbersExhausted = errors.New("no BAS order numbers left this year")

// assignNumbers gives every pending receipt without a usable number its number, oldest sale first. A
// receipt keeps the number it has; one from before obmin wrote numbers this way (digits BAS would cut)
// gets a new one.
func (s *Sales) assignNumbers(ctx context.Context) error {
	// Only what numbering needs is held: a whole day of receipts may be waiting for numbers.
	type unnumbered struct {
		id, fiscal string
		when       time.Time
	}
	byYear := map[int][]unnumbered{}
	var years []int
	err := s.Store.ReceiptsInState(ctx, StatePending, func(r store.ReceiptRecord) error {
		if _, _, ok := ParseOrderNumber(r.Number); ok {
			return nil
		}
		y := r.When.In(kyiv).Year()
		if _, seen := byYear[y]; !seen {
			years = append(years, y)
		}
		byYear[y] = append(byYear[y], unnumbered{r.ID, fiscalCode(r), r.When})
		return nil
	})
	if err != nil {
		return err
	}
	first, last := s.numberRange()
	for _, y := range years {
		yn, err := s.numbers(ctx, y)
		if err != nil {
			return err
		}
		recs := byYear[y]
		var fresh []unnumbered
		var lines []string
		numbered := make([]store.ReceiptNumber, 0, len(recs))
		for _, r := range recs {
			if n, ok := yn.recovered[r.id]; ok {
				numbered = append(numbered, store.ReceiptNumber{ID: r.id, Number: FormatOrderNumber(s.prefix(), y, n)})
				continue
			}
			fresh = append(fresh, r)
		}
		if len(fresh) > 0 {
			start, err := s.Store.TakeOrderNumbers(ctx, y, len(fresh), max(yn.floor, first-1))
			if err != nil {
				return err
			}
			if start+len(fresh)-1 > last {
				return fmt.Errorf("%w: %d needs %d more numbers after %d, the range ends at %d (sales.number_last); "+
					"the retail-report channel is the one for this many receipts", ErrNumbersExhausted, y, len(fresh), start-1, last)
			}
			for i, r := range fresh {
				number := FormatOrderNumber(s.prefix(), y, start+i)
				lines = append(lines, strings.Join([]string{number, r.id, r.fiscal, r.when.In(kyiv).Format("2006-01-02 15:04:05")}, "\t"))
				numbered = append(numbered, store.ReceiptNumber{ID: r.id, Number: number})
			}
			if err := s.journal().append(y, lines); err != nil {
				return err
			}
		}
		if err := s.Store.SetReceiptNumbers(ctx, numbered); err != nil {
			return fmt.Errorf("number receipts: %w", err)
		}
	}
	return nil
}

func (s *Sales) prefix() string {
	if s.Cfg.NumberPrefix == "" {
		return "CB-"
	}
	return s.Cfg.NumberPrefix
}

// NumberUse is how a year's order numbers are used, for the status and monitoring.
type NumberUse struct {
	Year      int  `json:"year"`
	Used      int  `json:"used"`      // numbers taken this year
	Capacity  int  `json:"capacity"`  // numbers the range allows in a year
	Projected int  `json:"projected"` // used by the end of the year at this year's pace
	Short     bool `json:"short"`     // warn: the year's numbers may run out
}

// NumbersUse reports the use of the current year's numbers (Kyiv time).
func (s *Sales) NumbersUse(ctx context.Context, now time.Time) (NumberUse, error) {
	now = now.In(kyiv)
	first, last := s.numberRange()
	u := NumberUse{Year: now.Year(), Capacity: last - first + 1}
	taken, err := s.Store.OrderNumbersTaken(ctx, u.Year)
	if err != nil {
		return u, err
	}
	u.Used = max(taken-first+1, 0)
	start := time.Date(u.Year, 1, 1, 0, 0, 0, 0, kyiv)
	end := start.AddDate(1, 0, 0)
	elapsed := now.Sub(start).Hours()
	u.Projected = u.Used
	if elapsed >= 24 {
		u.Projected = int(float64(u.Used) * end.Sub(start).Hours() / elapsed)
	}
	// Warn when a tenth is left, or when a week's pace at least projects the range full by December.
	u.Short = u.Used >= u.Capacity*9/10 || (elapsed >= 7*24 && u.Projected >= u.Capacity*9/10)
	return u, nil
}

func fiscalCode(r store.ReceiptRecord) string {
	// The fiscal code is kept in the receipt; the record has it only in Raw.
	return receiptFiscalCode(r.Raw)
}
