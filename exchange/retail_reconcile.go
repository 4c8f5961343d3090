package exchange

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"obmin/basodata"
	"obmin/checkbox"
	"obmin/reconcile"
	"obmin/retail"
	"obmin/store"
)

// The retail sales reports as a channel of reconciliation (package reconcile): what obmin holds each
// receipt's shift report to carry, and what BAS itself holds, each report of the day read back once.

// RetailChannelName names the retail sales reports in reconciliation reports.
const RetailChannelName = "retail-report"

// RetailChannel is the retail sales reports as a channel. A sale or return counts as delivered once its
// shift's report is in BAS (posted, or sent with bas.odata.post: false), with the receipt's sum as the
// report counted it; a held or refused report holds its receipts, with the reason and what to do; a shift
// still open, a report queued, is on its way. Documents reads each report of the day's shifts back from
// BAS, one look-up per shift: a report missing there, unposted, marked for deletion, or accounting for
// other sums or goods than its receipts, is a difference. Repair records the receipts missing from their
// shifts' reports, links them, and has the job rewrite and post those reports at once; RepairDocuments
// rewrites and posts the reports BAS lost or changed.
func (a *Agent) RetailChannel() reconcile.Channel {
	return reconcile.Channel{
		Name:  RetailChannelName,
		Title: "Звіти про роздрібні продажі BAS",
		Expects: func(r checkbox.Receipt) bool {
			return r.Type == checkbox.ReceiptSell || r.Type == checkbox.ReceiptReturn
		},
		Delivered:       a.retailDelivered,
		Documents:       a.retailDocuments,
		Repair:          a.retailRepair,
		RepairDocuments: a.retailRepairShifts,
	}
}

// allReceiptStates are every state a receipt may be recorded in.
var allReceiptStates = []store.ReceiptState{StatePending, StateConfirmed, StateDelivered, StateHeld, StateSkipped, StateReturn,
	StateAmended, StateListed, StateRetail}

// shiftReports reads report records by shift id, once each.
type shiftReports struct {
	st   *store.Store
	seen map[string]*store.ReportRecord
}

func (s *shiftReports) get(ctx context.Context, shiftID string) (*store.ReportRecord, error) {
	if s.seen == nil {
		s.seen = map[string]*store.ReportRecord{}
	}
	if rec, ok := s.seen[shiftID]; ok {
		return rec, nil
	}
	rec, ok, err := s.st.Report(ctx, shiftID)
	if err != nil {
		return nil, err
	}
	if !ok {
		s.seen[shiftID] = nil
		return nil, nil
	}
	s.seen[shiftID] = &rec
	return &rec, nil
}

// inBAS says whether obmin holds a report to be in BAS as it wants it.
func inBAS(rec *store.ReportRecord) bool {
	return rec != nil && (rec.State == store.ReportStatePosted || rec.State == store.ReportStateSent) && rec.Ref != ""
}

func (a *Agent) retailDelivered(ctx context.Context, from, to time.Time, fn func(reconcile.Delivery) error) error {
	shifts, err := a.Store.ShiftsOfReceiptsSold(ctx, from, to)
	if err != nil {
		return err
	}
	scanned, _, err := a.Store.RetailScanned(ctx)
	if err != nil {
		return err
	}
	reports := shiftReports{st: a.Store}
	return a.Store.ReceiptsSoldSince(ctx, from, func(rec store.ReceiptRecord) error {
		if !rec.When.Before(to) || (rec.Type != checkbox.ReceiptSell && rec.Type != checkbox.ReceiptReturn) {
			return nil
		}
		d := reconcile.Delivery{ReceiptID: rec.ID, FiscalCode: receiptFiscalCode(rec.Raw), Sold: rec.When}
		shift := shifts[rec.ID]
		if shift == "" {
			if !rec.FirstSeen.Before(scanned.Add(-scanMargin)) {
				d.Waiting = "ще не зіставлено зі зміною" // pulled after the reports' last pass
				return fn(d)
			}
			return nil // never linked to its shift: missing (Repair links it)
		}
		rr, err := reports.get(ctx, shift)
		if err != nil || rr == nil {
			return err
		}
		switch rr.State {
		case store.ReportStateOpen:
			d.Waiting = "зміна ще відкрита"
		case store.ReportStatePending:
			if rr.Reason == "" {
				d.Waiting = "звіт зміни в черзі"
				break
			}
			d.Held, d.Advice, d.Fixable = "звіт зміни чекає: "+rr.Reason+".", "obmin передасть звіт сам, щойно BAS відповість; перевірте, чи працює публікація OData бази BAS.", true
		case store.ReportStateHeld, store.ReportStateError:
			d.Held, d.Advice, d.Fixable = shiftName(*rr)+": "+rr.Reason+".", retailAdvice(*rr)+".", true
		case store.ReportStatePosted, store.ReportStateSent:
			if rec.Status != checkbox.StatusDone {
				return nil // the report left it out as unfinished: missing (Repair takes its status now)
			}
			sum := rec.TotalSum
			d.Ref, d.Sum = cmp.Or(rr.Number, rr.Ref), &sum
		default: // empty: the report was judged needless without this receipt
			return nil
		}
		return fn(d)
	}, allReceiptStates...)
}

// retailDocuments reads back from BAS the report of every shift with a receipt sold in [from, to) that
// obmin holds to be in BAS, and judges it against the shift's receipts.
func (a *Agent) retailDocuments(ctx context.Context, from, to time.Time, fn func(reconcile.Document) error) error {
	if a.Retail == nil {
		return errors.New("the retail sales reports are off")
	}
	shifts, err := a.Store.ShiftsOfReceiptsSold(ctx, from, to)
	if err != nil {
		return err
	}
	set := map[string]bool{}
	for _, s := range shifts {
		set[s] = true
	}
	for _, id := range slices.Sorted(maps.Keys(set)) {
		rr, ok, err := a.Store.Report(ctx, id)
		if err != nil {
			return err
		}
		if !ok || !inBAS(&rr) {
			continue
		}
		doc, err := a.readBackReport(ctx, rr)
		if err != nil {
			return err
		}
		if err := fn(doc); err != nil {
			return err
		}
	}
	return nil
}

// readBackReport is one shift's report as BAS holds it, against the receipts obmin built it from.
func (a *Agent) readBackReport(ctx context.Context, rr store.ReportRecord) (reconcile.Document, error) {
	var receipts []checkbox.Receipt
	var want int64
	err := a.Store.ShiftReceipts(ctx, rr.ShiftID, func(sr store.ReceiptRecord) error {
		var c checkbox.Receipt
		if err := json.Unmarshal(sr.Raw, &c); err != nil {
			return fmt.Errorf("receipt %s: stored receipt: %w", sr.ID, err)
		}
		receipts = append(receipts, c)
		switch {
		case c.Status != checkbox.StatusDone:
		case c.Type == checkbox.ReceiptSell:
			want += abs64(c.TotalSum)
		case c.Type == checkbox.ReceiptReturn:
			want -= abs64(c.TotalSum)
		}
		return nil
	})
	if err != nil {
		return reconcile.Document{}, err
	}
	doc := reconcile.Document{Key: rr.ShiftID, Ref: cmp.Or(rr.Number, rr.Ref), Name: "звіт про роздрібні продажі, " + shiftName(rr),
		At: rr.ClosedAt, Want: want, Fixable: true}
	got, err := a.Retail.BAS.GetReport(ctx, rr.Ref)
	switch {
	case errors.Is(err, basodata.ErrNotFound):
		doc.Missing = true
		return doc, nil
	case err != nil:
		return doc, fmt.Errorf("BAS's report of shift %s: %w", rr.ShiftID, err)
	case got.DeletionMark:
		doc.Deleted, doc.Fixable = true, false
		return doc, nil
	}
	doc.Ref = cmp.Or(got.Number, doc.Ref)
	total := int64(got.Total)
	doc.Sum = &total
	doc.Unposted = !a.Retail.Cfg.NoPost && !got.Posted
	// The lines, with the total set aside (compared above): goods, quantities, returns, card payments.
	got.Total = basodata.Amount(want)
	var unknown bool
	lines := retail.Compare(receipts, got, func(code string) (string, string, bool) {
		g, ok, err := a.Store.Good(ctx, code)
		if err != nil || !ok || g.BASID == "" {
			unknown = true
			return "", "", false
		}
		item, char, _ := strings.Cut(g.BASID, "#")
		return item, char, true
	})
	if len(lines) > 0 && !unknown {
		doc.Lines = "Рядки звіту (товари, кількості, повернення або оплати карткою) не такі, як у чеках зміни."
	}
	return doc, nil
}

// retailRepair puts receipts missing from their shifts' reports into them: each is recorded (or takes its
// Checkbox status now), linked to its shift, and the reports of those shifts are rewritten and posted at once.
func (a *Agent) retailRepair(ctx context.Context, receipts []checkbox.Receipt) (string, error) {
	if a.Retail == nil {
		return "", errors.New("the retail sales reports are off")
	}
	var links []store.ReceiptShift
	var unlinked []string
	for _, r := range receipts {
		if _, _, err := a.Sales.Accept(ctx, r); err != nil {
			return "", err
		}
		rec, ok, err := a.Store.Receipt(ctx, r.ID)
		if err != nil {
			return "", err
		}
		l, linked := receiptShift(rec)
		if !ok || !linked {
			unlinked = append(unlinked, cmp.Or(r.FiscalCode, r.ID))
			continue
		}
		links = append(links, l)
	}
	if _, err := a.Store.LinkReceipts(ctx, links); err != nil {
		return "", err
	}
	var shifts []string
	for _, l := range links {
		if s := strings.ToLower(l.ShiftID); !slices.Contains(shifts, s) {
			shifts = append(shifts, s)
		}
	}
	said, err := a.resendShifts(ctx, shifts)
	if err != nil {
		return "", err
	}
	msg := fmt.Sprintf("Чеків додано до звітів їхніх змін: %d. %s", len(links), said)
	if len(unlinked) > 0 {
		msg += fmt.Sprintf(" Чеки без зміни в Checkbox (їх не внести у звіт): %s.", strings.Join(unlinked, ", "))
	}
	return msg, nil
}

// retailRepairShifts rewrites and posts the reports of these shifts again (reports BAS lost, unposted
// or changed).
func (a *Agent) retailRepairShifts(ctx context.Context, shifts []string) (string, error) {
	if a.Retail == nil {
		return "", errors.New("the retail sales reports are off")
	}
	return a.resendShifts(ctx, shifts)
}

// resendShifts queues the shifts' reports again, runs the reports' job at once, and says how each ended.
func (a *Agent) resendShifts(ctx context.Context, shifts []string) (string, error) {
	if err := a.requeueShifts(ctx, shifts); err != nil {
		return "", err
	}
	if _, err := a.ReportShifts(ctx); err != nil {
		return "", err
	}
	done := 0
	var left []string
	for _, id := range shifts {
		rr, ok, err := a.Store.Report(ctx, id)
		if err != nil {
			return "", err
		}
		switch {
		case !ok:
		case rr.State == store.ReportStatePosted || rr.State == store.ReportStateSent:
			done++
		case rr.State == store.ReportStateOpen:
			left = append(left, shiftName(rr)+": зміна ще відкрита, звіт піде після її закриття")
		default:
			left = append(left, shiftName(rr)+": "+cmp.Or(rr.Reason, "у черзі"))
		}
	}
	msg := fmt.Sprintf("Звітів змін переписано й передано в BAS: %d з %d", done, len(shifts))
	if len(left) > 0 {
		msg += "; не передано: " + strings.Join(left, "; ")
	}
	return msg + ".", nil
}

// requeueShifts puts the shifts' settled reports back in the queue: the next pass rewrites and posts
// each, after a look-up in BAS (basodata.Client.Sync), so nothing is made twice.
func (a *Agent) requeueShifts(ctx context.Context, shifts []string) error {
	for _, id := range shifts {
		rr, ok, err := a.Store.Report(ctx, id)
		if err != nil {
			return err
		}
		if !ok || rr.State == store.ReportStateOpen || rr.State == store.ReportStatePending {
			continue
		}
		from := rr.State
		rr.State, rr.Attempts, rr.NextTry = store.ReportStatePending, 0, time.Time{}
		if _, err := a.Store.UpdateReport(ctx, rr, from); err != nil {
			return err
		}
	}
	return nil
}
