// Package voice is how obmin speaks to a shop's staff: one clock (Kyiv time, one format) and one language
// (Ukrainian). Everything staff read — the status, the staff page, drop reports, .error.txt files, held
// receipts, returns lists, reconciliation reports, notifications — takes its times from Time and Date and
// passes the texts of errors obmin did not write itself (Checkbox's, BAS's, the operating system's)
// through Explain. Logs are for administrators and keep RFC 3339 with the offset.
//
// It imports no other package of obmin.
package voice

import (
	"time"
	_ "time/tzdata" // Europe/Kyiv where the system has no zone database (Windows)
)

// Kyiv is the zone of every time staff read, and of the days obmin files things under (done/<date>,
// reconcile/<date>).
var Kyiv = func() *time.Location {
	if loc, err := time.LoadLocation("Europe/Kyiv"); err == nil {
		return loc
	}
	return time.FixedZone("EET", 2*3600) // unreachable with time/tzdata linked in
}()

// Layout is the one format of a moment staff read: «02.01.2006 15:04:05», Kyiv time.
const Layout = "02.01.2006 15:04:05"

// DateLayout names a Kyiv day in folder names and reports: 2006-01-02 sorts in time order.
const DateLayout = "2006-01-02"

// Time is t as staff read it; the zero time is "—".
func Time(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	return t.In(Kyiv).Format(Layout)
}

// Date is the Kyiv day of t, as a folder name: 2006-01-02.
func Date(t time.Time) string { return t.In(Kyiv).Format(DateLayout) }

// Day returns the start of the Kyiv day named date (2006-01-02) and the start of the next: a day is 23,
// 24 or 25 hours long around the clock changes.
func Day(date string) (from, to time.Time, err error) {
	d, err := time.ParseInLocation(DateLayout, date, Kyiv)
	if err != nil {
		return time.Time{}, time.Time{}, err
	}
	return d, time.Date(d.Year(), d.Month(), d.Day()+1, 0, 0, 0, 0, Kyiv), nil
}
