package exchange

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/sirupsen/logrus"

	"obmin/store"
)

// RetailStatus is the state of the retail sales reports, for staff and monitoring.
type RetailStatus struct {
	Counts map[string]int `json:"counts"` // report records by state (spool.ReportState*)
	// Attention are the shifts held or refused by BAS, oldest first: what staff must act on.
	Attention []store.ReportRecord `json:"attention"`
	// Recent are the reports of shifts closed in the last two days, newest first.
	Recent []store.ReportRecord `json:"recent"`
	// OldestWaiting is when the shift closed whose report has waited longest (queued, held or refused).
	OldestWaiting time.Time `json:"oldest_waiting,omitempty"`
}

// ReportShifts is the scheduled job of the retail sales reports: one pass, recorded as job
// "retail-reports". It does nothing when the channel is off.
func (a *Agent) ReportShifts(ctx context.Context) (RetailPass, error) {
	if a.Retail == nil {
		return RetailPass{}, nil
	}
	start := a.now()
	p, err := a.Retail.Pass(ctx)
	a.recordJob(ctx, "retail-reports", start, err, p)
	if p.Sent+p.Closed+p.Errors > 0 {
		a.log().WithFields(logrus.Fields{"closed": p.Closed, "sent": p.Sent, "held": p.Held, "errors": p.Errors, "empty": p.Empty}).
			Info("retail sales reports pass")
	}
	return p, err
}

// prepareRetail checks BAS's side once at start: a set-up the administrator must fix stops obmin with
// the object named; BAS not answering is only logged (each pass tries again). With the reports off, what
// held-shifts/ still describes is held no more: it goes.
func (a *Agent) prepareRetail(ctx context.Context) error {
	if a.Retail == nil {
		if err := a.forgetHeldShifts(); err != nil {
			a.log().WithError(err).Warn("held-shifts/: the descriptions of held shift reports could not be removed")
		}
		return nil
	}
	err := a.Retail.Prepare(ctx)
	if errors.Is(err, ErrRetailSetup) {
		a.log().WithError(err).Error("BAS's OData set-up does not fit obmin's configuration; fix it and start obmin again")
		return err
	}
	if err != nil {
		a.log().WithError(err).Warn("BAS's OData interface did not answer; the retail sales reports wait for it")
	}
	return nil
}

func (a *Agent) retailStatus(ctx context.Context, now time.Time) (*RetailStatus, error) {
	st := &RetailStatus{}
	var err error
	if st.Counts, err = a.Store.ReportCounts(ctx); err != nil {
		return nil, err
	}
	if err := a.Store.ReportsInState(ctx, func(r store.ReportRecord) error {
		if r.State != store.ReportStatePending {
			st.Attention = append(st.Attention, r)
		}
		if !r.ClosedAt.IsZero() && (st.OldestWaiting.IsZero() || r.ClosedAt.Before(st.OldestWaiting)) {
			st.OldestWaiting = r.ClosedAt
		}
		return nil
	}, store.ReportStatePending, store.ReportStateHeld, store.ReportStateError); err != nil {
		return nil, err
	}
	err = a.Store.ReportsClosedSince(ctx, now.Add(-48*time.Hour), func(r store.ReportRecord) error {
		if len(st.Recent) < 10 && (r.State == store.ReportStatePosted || r.State == store.ReportStateSent) {
			st.Recent = append(st.Recent, r)
		}
		return nil
	})
	return st, err
}

// shiftName names a shift for staff: its number and register, its hours in Kyiv time.
func shiftName(r store.ReportRecord) string {
	s := fmt.Sprintf("зміна №%d каси %s", r.Serial, cmp.Or(r.FiscalNumber, r.RegisterID))
	if !r.ClosedAt.IsZero() {
		s += fmt.Sprintf(" (%s – %s)", r.OpenedAt.In(kyiv).Format("02.01.2006 15:04"), r.ClosedAt.In(kyiv).Format("02.01.2006 15:04"))
	}
	return s
}

// retailAdvice says what staff should do about a held or refused report.
func retailAdvice(r store.ReportRecord) string {
	switch reason := r.Reason; {
	case r.State == store.ReportStateError:
		return "виправте в BAS те, про що він пише (або налаштування obmin); obmin спробує знову о " + r.NextTry.In(kyiv).Format("15:04") +
			" і після наступного вивантаження BAS"
	case strings.Contains(reason, "не вивантажувався") || strings.Contains(reason, "немає номенклатури") || strings.Contains(reason, "не є ключем"):
		return "вивантажте ці товари з BAS (обмін із сайтом) з артикулом, що збігається з кодом у Checkbox; звіт піде сам після вивантаження"
	case strings.Contains(reason, "ставку ПДВ"):
		return "додайте податковий код Checkbox у mapping.vat (або bas.odata.untaxed_rate) і перезапустіть obmin"
	case strings.Contains(reason, "не зіставлена"):
		return "додайте касу в bas.odata.registers і перезапустіть obmin"
	}
	return "внесіть звіт цієї зміни в BAS вручну"
}

// text renders the reports' part of the status, in Ukrainian.
func (st *RetailStatus) text(p func(format string, a ...any)) {
	c := st.Counts
	p("Звіти про роздрібні продажі в BAS (OData): проведено %d, без проведення %d, зміна ще відкрита %d, у черзі %d, затримано %d, відмови BAS %d, змін без продажів %d",
		c[store.ReportStatePosted], c[store.ReportStateSent], c[store.ReportStateOpen], c[store.ReportStatePending],
		c[store.ReportStateHeld], c[store.ReportStateError], c[store.ReportStateEmpty])
	for i, r := range st.Attention {
		if i == 10 {
			p("  … ще %d", len(st.Attention)-i)
			break
		}
		what := "ЗАТРИМАНО"
		if r.State == store.ReportStateError {
			what = "ВІДМОВА BAS"
		}
		p("  %s: %s: %s", what, shiftName(r), r.Reason)
		p("    Що зробити: %s", retailAdvice(r))
	}
	for _, r := range st.Recent {
		state := "проведено"
		if r.State == store.ReportStateSent {
			state = "не проведено (bas.odata.post: false)"
		}
		p("  %s: звіт №%s на %s грн, чеків %d, %s", shiftName(r), r.Number, UAH(r.Total).StringFixed(2), r.Receipts, state)
	}
}

// writeHeld describes each held or refused shift in a file of its own in HeldDir, and removes the
// files of shifts no longer held.
func (r *Retail) writeHeld(ctx context.Context) error {
	want := map[string]string{}
	err := r.Store.ReportsInState(ctx, func(rec store.ReportRecord) error {
		name := safeName(fmt.Sprintf("зміна-%s-%d-%s.txt", cmp.Or(rec.FiscalNumber, rec.RegisterID), rec.Serial, shortID(rec.ShiftID)))
		what := "не передано в BAS"
		if rec.State == store.ReportStateError {
			what = "BAS не прийняв"
		}
		want[name] = fmt.Sprintf("\ufeffЗвіт про роздрібні продажі: %s — %s.\r\nЗміна Checkbox: %s\r\nПричина: %s\r\nЩо зробити: %s\r\n",
			shiftName(rec), what, rec.ShiftID, rec.Reason, retailAdvice(rec))
		return nil
	}, store.ReportStateHeld, store.ReportStateError)
	if err != nil {
		return err
	}
	return syncStaffFiles(r.Cfg.HeldDir, want)
}

func shortID(id string) string {
	if len(id) > 8 {
		return id[:8]
	}
	return id
}
