package basodata

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/shopspring/decimal"
)

// Values as 1C's standard OData writes them in JSON (docs/bas-odata.md §3). Money and quantities are
// integers of hundredths and thousandths here: never floating point.

// EmptyRef is the empty reference, 1C's value of a reference attribute that is not filled.
const EmptyRef = "00000000-0000-0000-0000-000000000000"

// IsEmptyRef reports whether a reference is empty (all zeros, or absent).
func IsEmptyRef(ref string) bool { return ref == "" || ref == EmptyRef }

// orEmpty is ref, or EmptyRef when ref is "".
func orEmpty(ref string) string {
	if ref == "" {
		return EmptyRef
	}
	return ref
}

// dateLayout is 1C's date-time in JSON: no zone, no fraction; the base's own local time.
const dateLayout = "2006-01-02T15:04:05"

// DateTime is a 1C date-time: a wall-clock reading with no time zone, as the base stores it. The zero
// value is 1C's empty date, 0001-01-01T00:00:00.
type DateTime struct{ wall time.Time } // wall holds the reading in UTC fields

// WallClock is the reading of t on a clock in loc: what BAS, working in loc, shows for t.
func WallClock(t time.Time, loc *time.Location) DateTime {
	if t.IsZero() {
		return DateTime{}
	}
	l := t.In(loc)
	return DateTime{time.Date(l.Year(), l.Month(), l.Day(), l.Hour(), l.Minute(), l.Second(), 0, time.UTC)}
}

// Date is the reading of midnight of a day: BAS's Дата(Date) values.
func Date(year int, month time.Month, day int) DateTime {
	return DateTime{time.Date(year, month, day, 0, 0, 0, 0, time.UTC)}
}

// In is the moment the reading stands for on a clock in loc.
func (d DateTime) In(loc *time.Location) time.Time {
	if d.IsZero() {
		return time.Time{}
	}
	w := d.wall
	return time.Date(w.Year(), w.Month(), w.Day(), w.Hour(), w.Minute(), w.Second(), 0, loc)
}

// IsZero reports whether d is the empty date.
func (d DateTime) IsZero() bool { return d.wall.Year() <= 1 }

// DateOnly is the reading of midnight of the same day.
func (d DateTime) DateOnly() DateTime {
	if d.IsZero() {
		return d
	}
	return Date(d.wall.Year(), d.wall.Month(), d.wall.Day())
}

// Add moves the reading by dur.
func (d DateTime) Add(dur time.Duration) DateTime { return DateTime{d.wall.Add(dur)} }

// Before reports whether d reads earlier than e.
func (d DateTime) Before(e DateTime) bool { return d.wall.Before(e.wall) }

// Equal reports whether both read the same.
func (d DateTime) Equal(e DateTime) bool { return d.String() == e.String() }

// String is the reading as 1C writes it, e.g. 2025-03-01T21:05:00.
func (d DateTime) String() string {
	if d.IsZero() {
		return "0001-01-01T00:00:00"
	}
	return d.wall.Format(dateLayout)
}

// ParseDateTime reads 1C's form, and leniently a fraction or a zone (the zone is dropped: a base's
// readings are local).
func ParseDateTime(s string) (DateTime, error) {
	s = strings.TrimSpace(s)
	if s == "" || strings.HasPrefix(s, "0001-01-01") {
		return DateTime{}, nil
	}
	for _, layout := range []string{dateLayout, "2006-01-02T15:04:05.999999999", "2006-01-02T15:04:05Z07:00", "2006-01-02T15:04:05.999999999Z07:00", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return DateTime{time.Date(t.Year(), t.Month(), t.Day(), t.Hour(), t.Minute(), t.Second(), 0, time.UTC)}, nil
		}
	}
	return DateTime{}, fmt.Errorf("date-time %q: want YYYY-MM-DDTHH:MM:SS", s)
}

func (d DateTime) MarshalJSON() ([]byte, error) { return json.Marshal(d.String()) }

func (d *DateTime) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*d = DateTime{}
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("date-time %s: want a string", b)
	}
	v, err := ParseDateTime(s)
	if err != nil {
		return err
	}
	*d = v
	return nil
}

// Amount is a money value (Число(15,2)) in kopecks; in JSON a number of hryvnia, e.g. 16.68.
type Amount int64

// Quantity is a quantity (Число(15,3)) in thousandths; in JSON a number, e.g. 0.5.
type Quantity int64

// Percent is a percentage (Число(5,2)) in hundredths of a percent; in JSON a number, e.g. 12.5.
type Percent int64

func (a Amount) String() string   { return decimal.New(int64(a), -2).StringFixed(2) }
func (q Quantity) String() string { return decimal.New(int64(q), -3).String() }
func (p Percent) String() string  { return decimal.New(int64(p), -2).String() }

func (a Amount) MarshalJSON() ([]byte, error) { return []byte(decimal.New(int64(a), -2).String()), nil }
func (q Quantity) MarshalJSON() ([]byte, error) {
	return []byte(decimal.New(int64(q), -3).String()), nil
}
func (p Percent) MarshalJSON() ([]byte, error) {
	return []byte(decimal.New(int64(p), -2).String()), nil
}

func (a *Amount) UnmarshalJSON(b []byte) error {
	n, err := scaled(b, 2)
	*a = Amount(n)
	return err
}

func (q *Quantity) UnmarshalJSON(b []byte) error {
	n, err := scaled(b, 3)
	*q = Quantity(n)
	return err
}

func (p *Percent) UnmarshalJSON(b []byte) error {
	n, err := scaled(b, 2)
	*p = Percent(n)
	return err
}

// scaled reads a JSON number (or a number in a string, or null) as an integer of 10^-places units,
// rounding half away from zero beyond that: the base stores at most that many places anyway.
func scaled(b []byte, places int32) (int64, error) {
	s := strings.Trim(strings.TrimSpace(string(b)), `"`)
	if s == "null" || s == "" {
		return 0, nil
	}
	d, err := decimal.NewFromString(s)
	if err != nil {
		return 0, fmt.Errorf("number %s: %w", b, err)
	}
	d = d.Shift(places).Round(0)
	if !d.IsInteger() || d.Abs().GreaterThan(decimal.New(1, 18)) {
		return 0, fmt.Errorf("number %s: out of range", b)
	}
	return d.IntPart(), nil
}

// LineNumber is a row's LineNumber (Edm.Int64). OData v3 JSON writes Int64 as a string, and obmin sends
// it so; a base writing a bare number is read too (docs/bas-odata.md §3).
type LineNumber int64

func (n LineNumber) MarshalJSON() ([]byte, error) { return json.Marshal(fmt.Sprint(int64(n))) }

func (n *LineNumber) UnmarshalJSON(b []byte) error {
	v, err := scaled(b, 0)
	*n = LineNumber(v)
	return err
}
