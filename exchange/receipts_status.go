package exchange

import (
	"context"
	"fmt"
	"time"

	"github.com/sirupsen/logrus"

	"obmin/checkbox"
	"obmin/internal/quietlog"
	"obmin/store"
)

// A receipt's Checkbox status can move on after obmin first saw it (ReceiptStatus in Checkbox's OpenAPI:
// CREATED, DONE, ERROR, CANCELLATION, CANCELLED): one made at the till is CREATED until the tax service
// signs it, then DONE. Only DONE is a finished fiscal receipt. What obmin does when a receipt it holds
// comes again with another status is receiptStep's answer.

// receiptStep is what to do with a receipt seen again.
type receiptStep int

const (
	stepNone    receiptStep = iota // same status: nothing changed
	stepAdvance                    // it was skipped as unfinished: judge it again as it is now
	stepNote                       // a finished receipt changed status: record it, change nothing else
)

// nextStep decides for a stored receipt (its Checkbox status and obmin's state) seen again with status
// now. A receipt skipped as unfinished is judged again whatever its new status (CREATED → DONE becomes
// pending, → ERROR stays skipped with the new reason); a finished one never goes back: BAS may already
// hold it, so a later CANCELLED is only recorded and reported.
func nextStep(oldStatus string, oldState store.ReceiptState, now string) receiptStep {
	switch {
	case now == oldStatus:
		return stepNone
	case oldStatus == checkbox.StatusDone || oldState != StateSkipped:
		return stepNote
	default:
		return stepAdvance
	}
}

// cursorTime is the moment a pull's cursor may move to once r was read: the earlier of its created_at and
// fiscal_date. Which of the two /receipts/search filters on is not documented, so the earlier one never
// passes a receipt the search would still count as later (docs/checkbox.md).
func cursorTime(r checkbox.Receipt) time.Time {
	t := r.CreatedAt
	if r.FiscalDate != nil && !r.FiscalDate.IsZero() && (t.IsZero() || r.FiscalDate.Before(t)) {
		t = *r.FiscalDate
	}
	return t.UTC()
}

// seenAgain handles a receipt the ledger already holds, rec being what it would be now.
func (s *Sales) seenAgain(ctx context.Context, rec store.ReceiptRecord) (bool, store.ReceiptState, error) {
	old, ok, err := s.Store.Receipt(ctx, rec.ID)
	if err != nil || !ok {
		return false, rec.State, err
	}
	switch nextStep(old.Status, old.State, rec.Status) {
	case stepAdvance:
		changed, err := s.Store.AdvanceReceipt(ctx, rec, old.Status)
		if err != nil {
			return false, "", fmt.Errorf("record receipt %s: %w", rec.ID, err)
		}
		if !changed { // another pull or a webhook got there first
			return false, old.State, nil
		}
		s.log().WithFields(logrus.Fields{"receipt": rec.ID, "was": old.Status, "now": rec.Status, "state": rec.State}).
			Info("receipt status moved on in Checkbox")
		if rec.State == StateHeld {
			s.log().WithField("receipt", rec.ID).Warn("receipt held back: " + rec.Reason)
		}
		return rec.State != StateSkipped, rec.State, nil
	case stepNote:
		changed, err := s.Store.SetReceiptStatus(ctx, rec.ID, old.Status, rec.Status)
		if err != nil {
			return false, "", fmt.Errorf("record receipt %s: %w", rec.ID, err)
		}
		if changed && old.State != StateSkipped {
			s.log().WithFields(logrus.Fields{"receipt": rec.ID, "number": old.Number, "was": old.Status, "now": rec.Status, "state": old.State}).
				Warn("Checkbox changed the status of a receipt BAS already has; obmin does not take it back: check it in BAS")
		}
	}
	return false, old.State, nil
}

func (s *Sales) log() *logrus.Entry { return quietlog.Or(s.Log) }
