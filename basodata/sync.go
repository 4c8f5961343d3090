package basodata

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/sirupsen/logrus"
)

// How a report is recognised as the one already made for a shift (docs/bas-odata.md §4, exactly once).
const (
	// KeyByRef (default) sends obmin's own Ref_Key with the POST and looks the report up by it first,
	// then by the marker, which also covers a base that kept a key of its own.
	KeyByRef = "ref-key"
	// KeyByComment never sends a Ref_Key and looks the report up by the marker in Комментарий only.
	KeyByComment = "comment"
)

// ErrReportDeleted is returned when the shift's report exists but staff marked it for deletion: obmin
// leaves it alone rather than make a second one.
var ErrReportDeleted = errors.New("the report is marked for deletion in BAS")

// SyncOptions says how Sync recognises and finishes a report.
type SyncOptions struct {
	KeyMode string // KeyByRef or KeyByComment
	// Marker is a text unique to the shift that want.Comment carries; the look-up matches it.
	Marker string
	Post   bool // post the report (non-operationally) once it holds what obmin wants
	// Window is how far around the shift's start and end a marker look-up searches; default 2 days.
	Window time.Duration
}

// SyncResult says what Sync found and did.
type SyncResult struct {
	Ref, Number string
	Created     bool   // obmin created the report in this call
	Updated     bool   // an existing report was rewritten (late receipts)
	Posted      bool   // the report is posted now
	KeyIgnored  bool   // the base gave the new report a key other than the one sent (switch to KeyByComment)
	Total       Amount // СуммаДокумента as the base computed it
}

// Sync makes the base hold exactly one report equal to want, and posted when opt.Post, whatever
// happened before: a crash between POST and Post, a lost answer, a late receipt. Each step starts by
// looking the report up, so a POST whose fate is unknown is never repeated blindly; the look-up
// settles it. Safe to call again with the same want: a report already equal is left alone.
func (c *Client) Sync(ctx context.Context, want Report, opt SyncOptions) (SyncResult, error) {
	if opt.KeyMode == "" {
		opt.KeyMode = KeyByRef
	}
	if opt.Marker == "" || !strings.Contains(want.Comment, opt.Marker) {
		return SyncResult{}, errors.New("BAS OData: sync: the report's Комментарий must carry the shift's marker")
	}
	if opt.Window <= 0 {
		opt.Window = 48 * time.Hour
	}
	var res SyncResult
	for n := 1; ; n++ {
		done, err := c.syncStep(ctx, want, opt, &res)
		if done || err == nil {
			return res, err
		}
		if !IsRetryable(err) && !isConflict(err) {
			return res, err
		}
		if n >= c.maxAttempts || ctx.Err() != nil {
			return res, fmt.Errorf("%w (gave up after %d attempts)", err, n)
		}
		wait := backoff(n, c.baseBackoff, c.maxBackoff, c.jitter)
		c.log.WithFields(logrus.Fields{"report": want.Ref, "attempt": n, "wait": wait.String(), "error": err.Error()}).
			Warn("BAS OData: report not settled; looking it up again")
		if serr := c.sleep(ctx, wait); serr != nil {
			return res, fmt.Errorf("%w (stopped waiting to retry: %w)", err, serr)
		}
	}
}

func isConflict(err error) bool {
	var e *Error
	return errors.As(err, &e) && e.Status == http.StatusPreconditionFailed
}

// syncStep runs look-up, create or rewrite, and post once. done reports that err is final.
func (c *Client) syncStep(ctx context.Context, want Report, opt SyncOptions, res *SyncResult) (done bool, err error) {
	got, found, err := c.findReport(ctx, want, opt)
	if err != nil {
		return false, err
	}
	if !found {
		got, err = c.CreateReport(ctx, want, opt.KeyMode == KeyByRef)
		if err != nil {
			return false, fmt.Errorf("create report: %w", err)
		}
		res.Created = true
		res.KeyIgnored = opt.KeyMode == KeyByRef && !strings.EqualFold(got.Ref, want.Ref)
	}
	res.Ref, res.Number = got.Ref, got.Number
	if got.DeletionMark {
		return true, fmt.Errorf("BAS OData: report %s (№ %s): %w", got.Ref, got.Number, ErrReportDeleted)
	}
	if diff := ReportDiff(want, got); len(diff) > 0 {
		if got.Posted {
			if err := c.Unpost(ctx, got.Ref); err != nil {
				return false, err
			}
			// Unposting writes the report: its DataVersion is new, and the PATCH must carry that one.
			if got, err = c.GetReport(ctx, got.Ref); err != nil {
				return false, err
			}
		}
		c.log.WithFields(logrus.Fields{"report": got.Ref, "number": got.Number, "changed": strings.Join(diff, ", ")}).
			Info("BAS OData: rewriting the report")
		if got, err = c.PatchReport(ctx, got.Ref, got.DataVersion, want); err != nil {
			return false, fmt.Errorf("rewrite report %s: %w", res.Ref, err)
		}
		res.Updated = !res.Created
	}
	if opt.Post && !got.Posted {
		if err := c.Post(ctx, got.Ref); err != nil {
			return false, err
		}
		if got, err = c.GetReport(ctx, got.Ref); err != nil {
			return false, err
		}
		if !got.Posted {
			return true, fmt.Errorf("BAS OData: report %s accepted Post but is not posted", got.Ref)
		}
	}
	res.Posted, res.Total, res.Number = got.Posted, got.Total, got.Number
	if got.Total != want.Total {
		return true, fmt.Errorf("BAS OData: report %s: the base's total %s differs from the lines' %s", got.Ref, got.Total, want.Total)
	}
	return true, nil
}

// findReport looks the shift's report up: by key (KeyByRef), then by the marker among the till's
// reports dated around the shift.
func (c *Client) findReport(ctx context.Context, want Report, opt SyncOptions) (Report, bool, error) {
	if opt.KeyMode == KeyByRef && want.Ref != "" {
		got, err := c.GetReport(ctx, want.Ref)
		if err == nil {
			return got, true, nil
		}
		if !errors.Is(err, ErrNotFound) {
			return Report{}, false, err
		}
	}
	from, to := want.ShiftStart, want.Date
	if from.IsZero() || to.Before(from) {
		from = to
	}
	cands, err := c.FindReports(ctx, want.Till, from.Add(-opt.Window), to.Add(opt.Window))
	if err != nil {
		return Report{}, false, err
	}
	var hits []Report
	for _, r := range cands {
		if strings.Contains(r.Comment, opt.Marker) {
			hits = append(hits, r)
		}
	}
	switch len(hits) {
	case 0:
		return Report{}, false, nil
	case 1:
		return hits[0], true, nil
	}
	var refs []string
	for _, h := range hits {
		refs = append(refs, fmt.Sprintf("№ %s (%s)", h.Number, h.Ref))
	}
	return Report{}, false, fmt.Errorf("BAS OData: %d reports carry the marker %q: %s; delete all but one in BAS", len(hits), opt.Marker, strings.Join(refs, ", "))
}

// ReportDiff names the fields in which got differs from want, comparing what obmin sends.
func ReportDiff(want, got Report) []string {
	w, g := want.payload(false), got.payload(false)
	var diff []string
	add := func(name string, differ bool) {
		if differ {
			diff = append(diff, name)
		}
	}
	add("Date", !w.Date.Equal(g.Date))
	add("ВалютаДокумента", !sameRef(w.Currency, g.Currency))
	add("ВидЦен", !sameRef(w.PriceKind, g.PriceKind))
	add("КассаККМ", !sameRef(w.Till, g.Till))
	add("Комментарий", w.Comment != g.Comment)
	add("НачалоКассовойСмены", !w.ShiftStart.Equal(g.ShiftStart))
	add("ОкончаниеКассовойСмены", !w.ShiftEnd.Equal(g.ShiftEnd))
	add("Организация", !sameRef(w.Organization, g.Organization))
	add("Подразделение", !sameRef(w.Department, g.Department))
	add("СтруктурнаяЕдиница", !sameRef(w.Store, g.Store))
	add("СтатусКассовойСмены", w.ShiftStatus != g.ShiftStatus)
	add("НалогообложениеНДС", w.VATTaxation != g.VATTaxation)
	add("СуммаВключаетНДС", w.IncludesVAT != g.IncludesVAT)
	add("НДСВключатьВСтоимость", w.VATInCost != g.VATInCost)
	add("Статья", !sameRef(w.CashFlowItem, g.CashFlowItem))
	stockDiffers := len(w.Stock) != len(g.Stock)
	for i := 0; !stockDiffers && i < len(w.Stock); i++ {
		a, b := w.Stock[i], g.Stock[i]
		stockDiffers = a.Line != b.Line || !sameRef(a.Good, b.Good) || !sameRef(a.Characteristic, b.Characteristic) ||
			a.Quantity != b.Quantity || !sameRef(a.Unit, b.Unit) || a.UnitType != b.UnitType || a.Price != b.Price ||
			a.DiscountPct != b.DiscountPct || a.Sum != b.Sum || !sameRef(a.VATRate, b.VATRate) || a.VAT != b.VAT ||
			a.Total != b.Total || a.Returned != b.Returned
	}
	add("Запасы", stockDiffers)
	cardsDiffer := len(w.Cards) != len(g.Cards)
	for i := 0; !cardsDiffer && i < len(w.Cards); i++ {
		a, b := w.Cards[i], g.Cards[i]
		cardsDiffer = a.Line != b.Line || !sameRef(a.Terminal, b.Terminal) || a.CardKind != b.CardKind ||
			a.CardNumber != b.CardNumber || a.Sum != b.Sum || !a.PaidOn.Equal(b.PaidOn)
	}
	add("ОплатаПлатежнымиКартами", cardsDiffer)
	return diff
}

func sameRef(a, b string) bool { return strings.EqualFold(orEmpty(a), orEmpty(b)) }
