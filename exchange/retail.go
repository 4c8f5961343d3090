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
	"sync"
	"sync/atomic"
	"time"

	"github.com/shopspring/decimal"
	"github.com/sirupsen/logrus"

	"obmin/basodata"
	"obmin/checkbox"
	"obmin/internal/quietlog"
	"obmin/retail"
	"obmin/store"
)

// The retail sales reports channel (sales.to: retail-report): every closed Checkbox shift of a mapped
// register becomes one «Отчет о розничных продажах» in BAS, created, posted and kept equal to the shift's
// receipts through BAS's standard OData interface (docs/bas-odata.md).
//
// Shifts are found through the receipts the sales pull already records: each carries its shift's id,
// and GET /api/v1/shifts/{id} says when that shift closed. (GET /api/v1/shifts lists only the shifts of
// the cashier obmin signs in as, never the till's own cashiers'.) A shift is reported once it is
// closed; a receipt of it that arrives later (made offline) puts it back in the queue, and the same
// report is rewritten and posted again. basodata.Client.Sync makes each step safe to repeat after a
// crash or a lost answer.

// RetailBAS is what the reports need from BAS's OData interface (*basodata.Client).
type RetailBAS interface {
	CheckMetadata(ctx context.Context) (*basodata.Metadata, error)
	ResolveTill(ctx context.Context, cfg basodata.TillConfig) (basodata.TillSetup, error)
	VATRates(ctx context.Context) ([]basodata.VATRate, error)
	Get(ctx context.Context, set, ref string, sel []string, out any) error
	GetReport(ctx context.Context, ref string) (basodata.Report, error)
	Sync(ctx context.Context, want basodata.Report, opt basodata.SyncOptions) (basodata.SyncResult, error)
}

// ShiftsAPI is what the reports need from Checkbox (*checkbox.Client).
type ShiftsAPI interface {
	CashRegisters(ctx context.Context) ([]checkbox.CashRegister, error)
	Shift(ctx context.Context, id string) (checkbox.ShiftDetail, error)
}

// RetailStore is the part of the state the reports read and write (*store.Store).
type RetailStore interface {
	Good(ctx context.Context, code string) (store.GoodRecord, bool, error)
	ReceiptsFirstSeenSince(ctx context.Context, since time.Time, fn func(store.ReceiptRecord) error) error
	LinkReceipts(ctx context.Context, links []store.ReceiptShift) (int, error)
	RetailScanned(ctx context.Context) (time.Time, bool, error)
	SetRetailScanned(ctx context.Context, until time.Time) error
	ShiftReceipts(ctx context.Context, shiftID string, fn func(store.ReceiptRecord) error) error
	ReceiptsHash(ctx context.Context, shiftID string) (string, int, error)
	ReportsInState(ctx context.Context, fn func(store.ReportRecord) error, states ...string) error
	ReportsClosedSince(ctx context.Context, since time.Time, fn func(store.ReportRecord) error) error
	UpdateReport(ctx context.Context, r store.ReportRecord, onlyIf string) (bool, error)
	ReportCounts(ctx context.Context) (map[string]int, error)
}

// RetailRegister maps one Checkbox register onto BAS's till and what goes with it.
type RetailRegister struct {
	Checkbox string // the register's Checkbox id or fiscal number
	Till     basodata.TillConfig
	// CardKinds maps a Checkbox payment's label to the ВидПлатежнойКарты written for it; other card
	// payments take Till.CardKind.
	CardKinds map[string]string
}

// RetailConfig says how shifts become reports.
type RetailConfig struct {
	Registers []RetailRegister
	// VATCodes maps a Checkbox tax code to a BAS VAT rate: "20", "7", "0", or "" for «без ПДВ» (mapping.vat
	// read the other way, as SalesConfig.VATCodes).
	VATCodes map[int]string
	// Untaxed is the rate of a line with no tax in VATCodes ("20", "7", "0", "без ПДВ"); "" holds its
	// shift with the reason instead.
	Untaxed     string
	VATTaxation string // the report's НалогообложениеНДС; default ОблагаетсяНДС
	KeyMode     string // basodata.KeyByRef (default) or basodata.KeyByComment
	NoPost      bool   // leave the reports unposted, for staff to post (bas.odata.post: false)
	// FirstScan is how far back the very first look for shifts reaches among the receipts obmin has.
	FirstScan time.Duration
	// Recheck is how long after a shift closed its report is compared with its receipts on every pass.
	Recheck  time.Duration
	HeldDir  string         // where held shifts are described for staff; "" = nowhere
	Location *time.Location // BAS's time zone (basodata.Client.Location); default Europe/Kyiv
}

// RetailPass says what one pass did.
type RetailPass struct {
	Linked  int `json:"receipts_linked"` // receipts newly linked to their shifts
	Closed  int `json:"shifts_closed"`   // shifts found closed
	Sent    int `json:"reports_sent"`    // reports created or rewritten in BAS
	Held    int `json:"held"`
	Errors  int `json:"errors"`
	Empty   int `json:"empty"`
	Waiting int `json:"waiting"` // BAS did not answer; tried again next pass
}

// Retail keeps BAS's retail sales reports equal to the closed shifts. One pass runs at a time.
type Retail struct {
	Shifts ShiftsAPI
	BAS    RetailBAS
	Store  RetailStore
	Cfg    RetailConfig
	Log    *logrus.Entry
	Now    func() time.Time

	mu    sync.Mutex
	ready bool
	tills map[string]*retail.Mapping // by lower-case register id or fiscal number
	setup []string                   // what Prepare resolved, for the administrator
	units map[string]string          // BAS item → its unit (Catalog.КлассификаторЕдиницИзмерения)
	// goodsChanged asks the next pass to look at held and refused reports again: BAS exported goods.
	goodsChanged atomic.Bool
}

func (r *Retail) now() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return time.Now()
}

func (r *Retail) log() *logrus.Entry { return quietlog.Or(r.Log) }

// GoodsChanged tells the reports that BAS exported goods: held shifts are looked at again.
func (r *Retail) GoodsChanged() { r.goodsChanged.Store(true) }

// ErrRetailSetup wraps what is wrong with BAS's side or obmin's mapping of it: the channel cannot work
// until the administrator fixes it. Other Prepare errors (BAS not answering) pass by themselves.
var ErrRetailSetup = errors.New("BAS OData set-up")

// Prepare checks BAS's $metadata against what obmin uses, resolves each register's till, store, price
// kind and terminal, and maps the VAT rates, once. A failure that is not BAS being unreachable wraps
// ErrRetailSetup and names the object.
func (r *Retail) Prepare(ctx context.Context) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.prepare(ctx)
}

// Setup describes what Prepare resolved, one line per register and rate, for `obmin check`.
func (r *Retail) Setup() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.setup)
}

func (r *Retail) prepare(ctx context.Context) error {
	if r.ready {
		return nil
	}
	setupErr := func(err error) error {
		if basodata.IsRetryable(err) || ctx.Err() != nil {
			return err
		}
		return fmt.Errorf("%w: %w", ErrRetailSetup, err)
	}
	if _, err := r.BAS.CheckMetadata(ctx); err != nil {
		return setupErr(err)
	}
	rates, err := r.BAS.VATRates(ctx)
	if err != nil {
		return setupErr(err)
	}
	var setup []string
	vat := map[int]retail.VATRate{}
	for _, code := range slices.Sorted(maps.Keys(r.Cfg.VATCodes)) {
		v, err := findRate(rates, r.Cfg.VATCodes[code])
		if err != nil {
			return setupErr(fmt.Errorf("mapping.vat: Checkbox tax code %d: %w", code, err))
		}
		vat[code] = v
		setup = append(setup, fmt.Sprintf("Checkbox tax code %d → BAS VAT rate %s (%s)", code, rateName(v), v.Ref))
	}
	var untaxed *retail.VATRate
	if r.Cfg.Untaxed != "" {
		v, err := findRate(rates, r.Cfg.Untaxed)
		if err != nil {
			return setupErr(fmt.Errorf("bas.odata.untaxed_rate: %w", err))
		}
		untaxed = &v
		setup = append(setup, fmt.Sprintf("lines without a mapped VAT tax → BAS VAT rate %s (%s)", rateName(v), v.Ref))
	}
	if len(vat) == 0 && untaxed == nil {
		return setupErr(errors.New("no Checkbox tax code maps to a BAS VAT rate: set mapping.vat, or bas.odata.untaxed_rate for goods without VAT"))
	}
	tills := map[string]*retail.Mapping{}
	for _, reg := range r.Cfg.Registers {
		s, err := r.BAS.ResolveTill(ctx, reg.Till)
		if err != nil {
			return setupErr(fmt.Errorf("bas.odata.registers: Checkbox register %s: %w", reg.Checkbox, err))
		}
		tills[strings.ToLower(strings.TrimSpace(reg.Checkbox))] = &retail.Mapping{Setup: s, VAT: vat, NoTax: untaxed,
			VATTaxation: r.Cfg.VATTaxation, CardKinds: reg.CardKinds, Location: cmp.Or(r.Cfg.Location, kyiv)}
		line := fmt.Sprintf("Checkbox register %s → till «%s» (%s, %s), store «%s», price kind %s, shift status %s",
			reg.Checkbox, s.Till.Description, s.Till.Code, s.Till.Ref, s.Store.Description, s.PriceKind, s.ShiftStatus)
		if s.Terminal != "" {
			line += fmt.Sprintf(", card payments: terminal %s, card kind %q", s.Terminal, s.CardKind)
		}
		setup = append(setup, line)
	}
	r.tills, r.setup, r.ready = tills, setup, true
	r.log().WithField("registers", len(tills)).Info("BAS OData checked: every object obmin uses is published; tills and VAT rates resolved")
	return nil
}

// findRate finds BAS's VAT rate item for a configured rate: "20", "7", "0" (by Ставка), or ""/«без ПДВ»
// (НеОблагается). BAS's items are found by value, never by name (docs/bas-odata.md §5).
func findRate(rates []basodata.VATRate, rate string) (retail.VATRate, error) {
	s := strings.ToLower(strings.TrimSuffix(strings.ReplaceAll(strings.TrimSpace(rate), " ", ""), "%"))
	if s == "" || s == "безпдв" || s == "безндс" {
		v, err := basodata.FindVATRate(rates, 0, true)
		return retail.VATRate{Ref: v.Ref, NoVAT: true}, err
	}
	pct, err := decimal.NewFromString(s)
	if err != nil || !pct.IsInteger() || pct.IsNegative() || pct.GreaterThan(decimal.NewFromInt(100)) {
		return retail.VATRate{}, fmt.Errorf("VAT rate %q: want 20, 7, 0 or «без ПДВ»", rate)
	}
	v, err := basodata.FindVATRate(rates, basodata.Percent(pct.IntPart()*100), false)
	return retail.VATRate{Ref: v.Ref, Percent: pct.IntPart()}, err
}

func rateName(v retail.VATRate) string {
	if v.NoVAT {
		return "«без ПДВ»"
	}
	return fmt.Sprintf("%d%%", v.Percent)
}

// scanMargin is how far before the last scan each scan of receipts starts again: a receipt recorded
// by a concurrent pull or webhook may carry a first-seen time a little before the scan's.
const scanMargin = 10 * time.Minute

// Pass finds new shifts among the receipts, notes those that closed, and makes, rewrites and posts
// their reports. What BAS refuses is recorded with BAS's message; an error returned means some work
// waits for the next pass (BAS or Checkbox did not answer).
func (r *Retail) Pass(ctx context.Context) (RetailPass, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	var p RetailPass
	if err := r.prepare(ctx); err != nil {
		return p, err
	}
	if err := r.link(ctx, &p); err != nil {
		return p, err
	}
	var errs []error
	errs = append(errs, r.closed(ctx, &p))
	if err := r.recheck(ctx); err != nil {
		return p, errors.Join(append(errs, err)...)
	}
	states := []string{store.ReportStatePending, store.ReportStateError}
	again := r.goodsChanged.Swap(false)
	if again {
		states = append(states, store.ReportStateHeld)
	}
	now := r.now()
	err := r.Store.ReportsInState(ctx, func(rec store.ReportRecord) error {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if rec.State == store.ReportStateError && !again && now.Before(rec.NextTry) {
			return nil
		}
		errs = append(errs, r.report(ctx, rec, &p))
		return nil
	}, states...)
	errs = append(errs, err)
	if r.Cfg.HeldDir != "" {
		errs = append(errs, r.writeHeld(ctx))
	}
	return p, errors.Join(errs...)
}

// link records the shift of every receipt first seen since the last scan (a little before it).
func (r *Retail) link(ctx context.Context, p *RetailPass) error {
	start := r.now()
	since, ok, err := r.Store.RetailScanned(ctx)
	if err != nil {
		return err
	}
	if ok {
		since = since.Add(-scanMargin)
	} else {
		since = start.Add(-r.Cfg.FirstScan)
	}
	var links []store.ReceiptShift
	err = r.Store.ReceiptsFirstSeenSince(ctx, since, func(rec store.ReceiptRecord) error {
		if l, ok := receiptShift(rec); ok {
			links = append(links, l)
		}
		return nil
	})
	if err != nil {
		return err
	}
	for chunk := range slices.Chunk(links, 500) {
		n, err := r.Store.LinkReceipts(ctx, chunk)
		if err != nil {
			return err
		}
		p.Linked += n
	}
	return r.Store.SetRetailScanned(ctx, start)
}

// receiptShift reads a recorded receipt's shift and register.
func receiptShift(rec store.ReceiptRecord) (store.ReceiptShift, bool) {
	var v struct {
		ShiftID string         `json:"shift_id"`
		Shift   checkbox.Shift `json:"shift"`
		// The short register of webhook and short search receipts (checkbox.Receipt.CashRegister).
		CashRegister *checkbox.CashRegister `json:"cash_register"`
	}
	if json.Unmarshal(rec.Raw, &v) != nil {
		return store.ReceiptShift{}, false
	}
	l := store.ReceiptShift{ReceiptID: rec.ID, ShiftID: cmp.Or(v.ShiftID, v.Shift.ID), RegisterID: rec.RegisterID,
		FiscalNumber: v.Shift.CashRegister.FiscalNumber}
	if l.FiscalNumber == "" && v.CashRegister != nil {
		l.FiscalNumber = v.CashRegister.FiscalNumber
	}
	return l, l.ShiftID != "" && l.RegisterID != ""
}

// closed queues the shifts that closed. One list of the registers says which shift each has open now
// (GET /api/v1/cash-registers); only a shift that is no longer its register's open one is looked up
// (GET /api/v1/shifts/{id}) for its closing time.
func (r *Retail) closed(ctx context.Context, p *RetailPass) error {
	var open []store.ReportRecord
	if err := r.Store.ReportsInState(ctx, func(rec store.ReportRecord) error {
		open = append(open, rec)
		return nil
	}, store.ReportStateOpen); err != nil || len(open) == 0 {
		return err
	}
	regs, err := r.Shifts.CashRegisters(ctx)
	if err != nil {
		return fmt.Errorf("Checkbox cash registers: %w", err)
	}
	current := map[string]string{} // register → its open shift
	for _, reg := range regs {
		if reg.Shift != nil && reg.Shift.Status != checkbox.ShiftClosed {
			current[strings.ToLower(reg.ID)] = strings.ToLower(reg.Shift.ID)
		}
	}
	var errs []error
	for _, rec := range open {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if current[strings.ToLower(rec.RegisterID)] == rec.ShiftID {
			continue
		}
		sh, err := r.Shifts.Shift(ctx, rec.ShiftID)
		if err != nil {
			errs = append(errs, fmt.Errorf("Checkbox shift %s: %w", rec.ShiftID, err))
			continue
		}
		if sh.Status != checkbox.ShiftClosed || sh.OpenedAt == nil || sh.ClosedAt == nil {
			continue
		}
		rec.Serial, rec.OpenedAt, rec.ClosedAt = sh.Serial, sh.OpenedAt.UTC(), sh.ClosedAt.UTC()
		rec.FiscalNumber = cmp.Or(sh.CashRegister.FiscalNumber, rec.FiscalNumber)
		rec.State, rec.Reason = store.ReportStatePending, ""
		if _, err := r.Store.UpdateReport(ctx, rec, store.ReportStateOpen); err != nil {
			return err
		}
		p.Closed++
	}
	return errors.Join(errs...)
}

// recheck queues again the recent reports whose shift's receipts changed since they were made (a
// receipt whose Checkbox status moved on).
func (r *Retail) recheck(ctx context.Context) error {
	if r.Cfg.Recheck <= 0 {
		return nil
	}
	return r.Store.ReportsClosedSince(ctx, r.now().Add(-r.Cfg.Recheck), func(rec store.ReportRecord) error {
		if rec.State != store.ReportStatePosted && rec.State != store.ReportStateSent && rec.State != store.ReportStateEmpty {
			return nil
		}
		hash, _, err := r.Store.ReceiptsHash(ctx, rec.ShiftID)
		if err != nil || hash == rec.Hash {
			return err
		}
		state := rec.State
		rec.State = store.ReportStatePending
		_, err = r.Store.UpdateReport(ctx, rec, state)
		return err
	})
}

// mapping is the register's resolved mapping, by its id or its fiscal number.
func (r *Retail) mapping(rec store.ReportRecord) *retail.Mapping {
	if m := r.tills[strings.ToLower(rec.RegisterID)]; m != nil {
		return m
	}
	if rec.FiscalNumber != "" {
		return r.tills[strings.ToLower(rec.FiscalNumber)]
	}
	return nil
}

// report builds one closed shift's report and makes BAS hold it, posted, exactly once.
func (r *Retail) report(ctx context.Context, rec store.ReportRecord, p *RetailPass) error {
	state := rec.State
	log := r.log().WithFields(logrus.Fields{"shift": rec.ShiftID, "register": cmp.Or(rec.FiscalNumber, rec.RegisterID), "serial": rec.Serial})
	save := func() error {
		_, err := r.Store.UpdateReport(ctx, rec, state)
		return err
	}
	hold := func(reasons []string) error {
		rec.State, rec.Reason, rec.Attempts, rec.NextTry = store.ReportStateHeld, strings.Join(reasons, "; "), 0, time.Time{}
		p.Held++
		if state != store.ReportStateHeld {
			log.WithField("reason", rec.Reason).Warn("shift's retail sales report held back")
		}
		return save()
	}
	hash, n, err := r.Store.ReceiptsHash(ctx, rec.ShiftID)
	if err != nil {
		return err
	}
	rec.Hash, rec.Receipts = hash, n
	m := r.mapping(rec)
	if m == nil {
		return hold([]string{fmt.Sprintf("каса Checkbox %s не зіставлена з касою BAS (bas.odata.registers)", cmp.Or(rec.FiscalNumber, rec.RegisterID))})
	}
	var receipts []checkbox.Receipt
	err = r.Store.ShiftReceipts(ctx, rec.ShiftID, func(sr store.ReceiptRecord) error {
		var c checkbox.Receipt
		if err := json.Unmarshal(sr.Raw, &c); err != nil {
			return fmt.Errorf("receipt %s: stored receipt: %w", sr.ID, err)
		}
		receipts = append(receipts, c)
		return nil
	})
	if err != nil {
		return err
	}
	goods, missing, err := r.goods(ctx, receipts)
	if err != nil {
		return err
	}
	if len(missing) > 0 {
		return hold(missing)
	}
	shift := checkbox.Shift{ID: rec.ShiftID, Serial: rec.Serial, Status: checkbox.ShiftClosed, OpenedAt: &rec.OpenedAt, ClosedAt: &rec.ClosedAt,
		CashRegister: checkbox.CashRegister{ID: rec.RegisterID, FiscalNumber: rec.FiscalNumber}}
	res, err := retail.Build(shift, receipts, *m, func(code string) (retail.Good, bool) {
		g, ok := goods[code]
		return g, ok
	})
	switch {
	case err != nil:
		return r.refused(ctx, log, &rec, state, p, err)
	case len(res.Held) > 0:
		return hold(res.Held)
	case res.Empty:
		rec.State, rec.Reason, rec.Attempts, rec.NextTry = store.ReportStateEmpty, "", 0, time.Time{}
		p.Empty++
		return save()
	}
	sync, err := r.BAS.Sync(ctx, res.Report, basodata.SyncOptions{KeyMode: r.Cfg.KeyMode, Marker: res.Marker, Post: !r.Cfg.NoPost})
	rec.Ref, rec.Number = cmp.Or(sync.Ref, rec.Ref), cmp.Or(sync.Number, rec.Number)
	if err != nil {
		if basodata.IsRetryable(err) || ctx.Err() != nil {
			// BAS is away: the shift stays queued and the next pass settles it by a look-up.
			rec.Reason = "BAS не відповідає: " + err.Error()
			p.Waiting++
			return errors.Join(err, save())
		}
		return r.refused(ctx, log, &rec, state, p, err)
	}
	if sync.KeyIgnored {
		log.Warn("BAS gave the report a key of its own: set bas.odata.key_mode: comment (docs/bas-odata.md §7)")
	}
	rec.State, rec.Reason, rec.Total, rec.Attempts, rec.NextTry, rec.SentAt = store.ReportStatePosted, "", int64(sync.Total), 0, time.Time{}, r.now()
	if r.Cfg.NoPost {
		rec.State = store.ReportStateSent
	}
	if sync.Created || sync.Updated {
		p.Sent++
	}
	log.WithFields(logrus.Fields{"report": sync.Ref, "number": sync.Number, "total": sync.Total.String(), "receipts": n,
		"created": sync.Created, "rewritten": sync.Updated, "posted": sync.Posted}).Info("shift's retail sales report is in BAS")
	return save()
}

// refused records what BAS (or the build) refused, with the message, and when to try again.
func (r *Retail) refused(ctx context.Context, log *logrus.Entry, rec *store.ReportRecord, state string, p *RetailPass, cause error) error {
	rec.State, rec.Reason = store.ReportStateError, refusal(cause)
	rec.Attempts++
	rec.NextTry = r.now().Add(min(time.Minute<<min(rec.Attempts-1, 6), time.Hour))
	p.Errors++
	log.WithError(cause).WithField("next_try", rec.NextTry.Format(time.RFC3339)).Error("BAS refused the shift's retail sales report")
	_, err := r.Store.UpdateReport(ctx, *rec, state)
	return err
}

// refusal is what staff read about a refusal: BAS's own message when it sent one.
func refusal(err error) string {
	var e *basodata.Error
	switch {
	case errors.Is(err, basodata.ErrReportDeleted):
		return "звіт у BAS позначено на вилучення; obmin не створює другого: зніміть позначку (obmin перепише й проведе його) або видаліть звіт остаточно"
	case errors.As(err, &e) && e.OData:
		return "BAS відмовив: " + e.Message
	}
	return "BAS відмовив: " + err.Error()
}

// goods resolves the goods of the receipts' lines: the Ид BAS exported for each code (the ledger) and
// the item's unit, read from BAS once per item. missing says, for staff, which goods hold the shift.
func (r *Retail) goods(ctx context.Context, receipts []checkbox.Receipt) (map[string]retail.Good, []string, error) {
	if r.units == nil {
		r.units = map[string]string{}
	}
	out := map[string]retail.Good{}
	var missing []string
	seen := map[string]bool{}
	for _, rc := range receipts {
		if rc.Status != checkbox.StatusDone || (rc.Type != checkbox.ReceiptSell && rc.Type != checkbox.ReceiptReturn) {
			continue
		}
		for _, l := range rc.Goods {
			code := l.Good.Code
			if seen[code] {
				continue
			}
			seen[code] = true
			g, ok, err := r.Store.Good(ctx, code)
			if err != nil {
				return nil, nil, err
			}
			if !ok || g.BASID == "" {
				missing = append(missing, fmt.Sprintf("товар «%s» (код %s) не вивантажувався з BAS", l.Good.Name, code))
				continue
			}
			item, char, _ := strings.Cut(g.BASID, "#")
			unit, ok := r.units[strings.ToLower(item)]
			if !ok {
				var bg basodata.Good
				err := r.BAS.Get(ctx, basodata.SetItems, item, []string{"Ref_Key", "ЕдиницаИзмерения_Key", "DeletionMark"}, &bg)
				var refused *basodata.Error
				switch {
				case err == nil:
				case errors.Is(err, basodata.ErrNotFound):
					missing = append(missing, fmt.Sprintf("товар «%s» (код %s): у BAS немає номенклатури з Ид %s", l.Good.Name, code, g.BASID))
					continue
				case basodata.IsRetryable(err) || errors.As(err, &refused):
					return nil, nil, err // BAS away, or refusing obmin (its user's rights): not the good's fault
				default: // the Ид is no BAS key at all (a base writing external site codes, docs/bas-odata.md §5)
					missing = append(missing, fmt.Sprintf("товар «%s» (код %s): Ид %s не є ключем номенклатури BAS", l.Good.Name, code, g.BASID))
					continue
				}
				unit = bg.Unit
				r.units[strings.ToLower(item)] = unit
			}
			out[code] = retail.Good{Item: item, Characteristic: char, Unit: unit}
		}
	}
	return out, missing, nil
}
