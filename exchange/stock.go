package exchange

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"golang.org/x/sync/errgroup"

	"obmin/checkbox"
	"obmin/store"
)

// After the goods are sent, a drop learns the ids the goods import did not answer and sets stock. Both
// can need Checkbox's catalogue, and both are done so that a drop changing k goods of N costs calls that
// grow with k, not N (docs/performance.md):
//
//   - Ids. A good the goods import made is recorded without its id (bulk.go). A few are asked by code
//     (GET /api/v1/goods/by-code/{code}); many, by one read of the catalogue a page of 1000 at a time
//     (GET /api/v1/goods), whichever is fewer calls: a first load of N goods reads the catalogue once.
//
//   - Stock. Checkbox has no call that sets stock: it goes through the import file's "leftovers", with
//     auto_supply (docs/checkbox-rest.md §5). A good's stock is sent when BAS's figure differs from what obmin last
//     sent, and also when it differs from Checkbox's count now: every sale at the till moves Checkbox's
//     count (§6), so "unchanged in BAS" does not mean "right in Checkbox" (BAS may have taken in as many as
//     were sold). BAS is the master of stock: until it has loaded the sales, its figure overrides Checkbox's
//     for a while, then its next export corrects it (found by the torture harness). Which goods sales moved
//     obmin knows from the receipts (MarkStockMoved, after the agent pulls them): only their counts are
//     read, 500 to a call (POST /api/v1/goods/leftovers-by-id). Once a day (Catalog.StockCheck) every
//     good's count is compared, in case something else moved it (a stock count in Checkbox's own app, a
//     register obmin does not pull): by the same read of the catalogue when one is made, else by
//     leftovers-by-id, whichever is fewer calls.

// DefaultStockCheck is Catalog.StockCheck's default.
const DefaultStockCheck = 24 * time.Hour

// leftoversPerCall is how many goods' stock one leftovers-by-id call reads (checkbox.Client.Leftovers).
const leftoversPerCall = 500

// stockKinds are the plans whose stock the stock step sets: every good the drop sends or keeps in
// Checkbox, and the goods to hide.
var stockKinds = []int{planUnchanged, planTodo, planRenamed, planPerItem, planSent, planHide}

func (c *Catalog) stockCheck() time.Duration {
	if c.StockCheck > 0 {
		return c.StockCheck
	}
	return DefaultStockCheck
}

// settle learns the ids the goods import did not answer and sets stock (see above). hide is how many
// goods the missing-goods policy hides; beforeStock, when set, runs before stock is compared.
func (c *Catalog) settle(ctx context.Context, st *store.Stage, rep *DropReport, hide int, beforeStock func(context.Context) error) error {
	_, pushed, err := c.Store.CountGoods(ctx)
	if err != nil {
		return err
	}
	pages := pushed/1000 + 1 // a read of the catalogue: Checkbox holds about the goods obmin sent
	needIDs, codes, err := c.Store.GoodsWithoutID(ctx, pages)
	if err != nil {
		return err
	}
	ss := &stockSync{c: c, st: st, rep: rep, kinds: []int{planHide}}
	if c.Mapping.Stock {
		ss.kinds = stockKinds
	}
	if c.Mapping.Stock || hide > 0 {
		if ss.candidates, err = st.CountPlans(ctx, true, ss.kinds...); err != nil {
			return err
		}
	}
	if ss.candidates > 0 && c.Mapping.Stock {
		if beforeStock != nil {
			if err := beforeStock(ctx); err != nil {
				c.log().WithError(err).Warn("Receipts not pulled before the stock sync: the goods sold since the last pull are compared at a later drop")
			}
		}
		if err := c.markMoved(ctx); err != nil {
			return err
		}
		at, err := c.Store.StockCheckedAt(ctx)
		if err != nil {
			return err
		}
		ss.full = at.IsZero() || c.now().Sub(at) >= c.stockCheck()
	}
	pass := needIDs > pages || ss.full && (ss.candidates+leftoversPerCall-1)/leftoversPerCall > pages
	if pass {
		if err := c.catalogPass(ctx, ss); err != nil {
			return err
		}
	} else if err := c.learnIDsByCode(ctx, st, rep, codes); err != nil {
		return err
	}
	if err := c.goodsNotFound(ctx, st, rep); err != nil {
		return err
	}
	if ss.candidates == 0 {
		return nil
	}
	if !pass {
		if err := ss.compare(ctx); err != nil {
			return err
		}
	}
	if err := ss.flush(ctx); err != nil {
		return err
	}
	if ss.full {
		return c.Store.SetStockCheckedAt(ctx, c.now())
	}
	return nil
}

// markMoved marks the goods of the receipts recorded since the last stock sync as moved in Checkbox.
func (c *Catalog) markMoved(ctx context.Context) error {
	_, err := c.Store.MarkStockMoved(ctx, receiptCodes)
	if err != nil {
		return fmt.Errorf("ledger: %w", err)
	}
	return nil
}

// receiptCodes lists the goods codes of a receipt as received (store.ReceiptRecord.Raw).
func receiptCodes(raw []byte) ([]string, error) {
	if len(raw) == 0 {
		return nil, nil
	}
	var r checkbox.Receipt
	if err := json.Unmarshal(raw, &r); err != nil {
		return nil, nil // not a receipt obmin can read: nothing to mark (the sales side reports it)
	}
	var codes []string
	for _, l := range r.Goods {
		if l.Good.Code != "" {
			codes = append(codes, l.Good.Code)
		}
	}
	return codes, nil
}

// learnIDsByCode asks Checkbox for the ids of a few goods the import made, one call each.
func (c *Catalog) learnIDsByCode(ctx context.Context, st *store.Stage, rep *DropReport, codes []string) error {
	if len(codes) == 0 {
		return nil
	}
	ids := map[string]string{}
	var found []checkbox.Good
	for _, code := range codes {
		g, err := c.API.GoodByCode(ctx, code)
		switch {
		case err == nil:
			ids[code] = g.ID
			found = append(found, g)
		case !isNotFound(err):
			return fmt.Errorf("read back good %s after the import: %w", code, err)
		}
	}
	if err := c.countLearnt(ctx, st, rep, found); err != nil {
		return err
	}
	return c.Store.SetCheckboxIDs(ctx, ids)
}

// countLearnt counts, for the report, the goods of this drop's import whose ids were just learnt: a good
// is new unless Checkbox had it before the import (it was updated since it was created).
func (c *Catalog) countLearnt(ctx context.Context, st *store.Stage, rep *DropReport, goods []checkbox.Good) error {
	if len(goods) == 0 {
		return nil
	}
	codes := make([]string, len(goods))
	for i, g := range goods {
		codes[i] = g.Code
		c.learnLetters(g.Taxes)
	}
	plans, err := st.PlansWithCodes(ctx, codes)
	if err != nil {
		return err
	}
	for _, g := range goods {
		if p, ok := plans[g.Code]; !ok || p.Kind != planSent {
			continue // learnt for an earlier drop, cut short before its ids were
		}
		if g.UpdatedAt == nil || !g.UpdatedAt.After(g.CreatedAt) {
			rep.Created++
		} else {
			rep.Updated++
		}
	}
	return nil
}

// goodsNotFound sends one by one the goods the import reported taken that Checkbox does not have after
// all; a good no plan of this drop sends is forgotten, so that it is sent again.
func (c *Catalog) goodsNotFound(ctx context.Context, st *store.Stage, rep *DropReport) error {
	n, codes, err := c.Store.GoodsWithoutID(ctx, 1000)
	if err != nil || n == 0 {
		return err
	}
	plans, err := st.PlansWithCodes(ctx, codes)
	if err != nil {
		return err
	}
	for _, code := range codes {
		sp, ok := plans[code]
		if !ok || sp.Kind == planKeep {
			if err := c.Store.ForgetPushed(ctx, code); err != nil {
				return err
			}
			continue
		}
		p, err := unstagePlan(sp)
		if err != nil {
			return err
		}
		_, created, err := c.pushOne(ctx, &p)
		switch {
		case err == nil:
			if created {
				rep.Created++
			} else {
				rep.Updated++
			}
		case isRejection(err):
			rep.Rejected = append(rep.Rejected, fmt.Sprintf("%s «%s»: %v", p.payload.Code, p.payload.Name, err))
			if err := c.Store.ForgetPushed(ctx, code); err != nil {
				return err
			}
		default:
			return err
		}
	}
	return nil
}

// catalogPass reads Checkbox's catalogue once, a page at a time: it learns the ids the ledger lacks and
// compares the count of every good whose stock the drop sets.
func (c *Catalog) catalogPass(ctx context.Context, ss *stockSync) error {
	// The next page is read while the last one is matched against the ledger.
	pages := make(chan []checkbox.Good, 1)
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		defer close(pages)
		page := make([]checkbox.Good, 0, 1000)
		send := func() error {
			select {
			case pages <- page:
				page = make([]checkbox.Good, 0, 1000)
				return nil
			case <-gctx.Done():
				return gctx.Err()
			}
		}
		err := c.API.AllGoods(gctx, func(g checkbox.Good) error {
			if page = append(page, g); len(page) == cap(page) {
				return send()
			}
			return nil
		})
		if err == nil && len(page) > 0 {
			err = send()
		}
		return err
	})
	g.Go(func() error {
		for page := range pages {
			if err := c.passPage(gctx, ss, page); err != nil {
				return err
			}
		}
		return nil
	})
	if err := g.Wait(); err != nil {
		return fmt.Errorf("read the goods back: %w", err)
	}
	return nil
}

func (c *Catalog) passPage(ctx context.Context, ss *stockSync, page []checkbox.Good) error {
	codes := make([]string, len(page))
	for i, g := range page {
		codes[i] = g.Code
	}
	recs, err := c.Store.GoodsWithCodes(ctx, codes)
	if err != nil {
		return err
	}
	ids := map[string]string{}
	var learnt []checkbox.Good
	for _, g := range page {
		if r, ok := recs[g.Code]; ok && r.PushedHash != "" && r.CheckboxID != g.ID {
			ids[g.Code] = g.ID
			if r.CheckboxID == "" {
				learnt = append(learnt, g)
			}
		}
	}
	if err := c.countLearnt(ctx, ss.st, ss.rep, learnt); err != nil {
		return err
	}
	if err := c.Store.SetCheckboxIDs(ctx, ids); err != nil {
		return err
	}
	if ss.candidates == 0 {
		return nil
	}
	plans, err := ss.st.PlansWithCodes(ctx, codes)
	if err != nil {
		return err
	}
	for _, g := range page {
		sp, ok := plans[g.Code]
		rec, known := recs[g.Code]
		if !ok || !known || sp.Stock == nil || !slices.Contains(ss.kinds, sp.Kind) {
			continue
		}
		rec.CheckboxID = g.ID
		if rec.PushedStock != nil && *rec.PushedStock == *sp.Stock && countIs(g.Count, *sp.Stock) {
			ss.checked = append(ss.checked, g.Code)
			continue
		}
		if err := ss.add(ctx, rowFromGood(g), rec, *sp.Stock); err != nil {
			return err
		}
	}
	return nil
}

// stockSync gathers the stock rows of a drop and sends them in files of BulkBatch rows.
type stockSync struct {
	c          *Catalog
	st         *store.Stage
	rep        *DropReport
	kinds      []int // the plans whose stock is set
	candidates int   // how many of them have a stock
	full       bool  // every candidate's count is compared, not only those sales moved

	file    []checkbox.ImportGood
	recs    []store.GoodRecord
	stocks  []int64
	checked []string // codes whose count was found right: their moved marks go

	toCheck map[string]stockCheck // by Checkbox id: counts to read
}

type stockCheck struct {
	rec   store.GoodRecord
	stock int64
}

// compare walks the drop's plans with stock: a stock that differs from what obmin last sent is sent; a
// good sales moved (or every good, on the day's full check) has its count read first.
func (ss *stockSync) compare(ctx context.Context) error {
	var chunk []store.StagedPlan
	run := func() error {
		codes := make([]string, len(chunk))
		for i, sp := range chunk {
			codes[i] = sp.Code
		}
		recs, err := ss.c.Store.GoodsWithCodes(ctx, codes)
		if err != nil {
			return err
		}
		moved, err := ss.c.Store.StockMoved(ctx, codes)
		if err != nil {
			return err
		}
		for _, sp := range chunk {
			rec, ok := recs[sp.Code]
			if !ok || rec.CheckboxID == "" {
				continue // not in Checkbox (refused), or its id unknown: a later drop sets it
			}
			want := *sp.Stock
			switch {
			case rec.PushedStock == nil || *rec.PushedStock != want:
				if err := ss.addFromLedger(ctx, rec, want); err != nil {
					return err
				}
			case ss.full || moved[sp.Code]:
				if ss.toCheck == nil {
					ss.toCheck = map[string]stockCheck{}
				}
				ss.toCheck[rec.CheckboxID] = stockCheck{rec: rec, stock: want}
				if len(ss.toCheck) >= leftoversPerCall {
					if err := ss.readCounts(ctx); err != nil {
						return err
					}
				}
			}
		}
		chunk = chunk[:0]
		return nil
	}
	err := ss.st.EachPlan(ctx, true, func(sp store.StagedPlan) error {
		if chunk = append(chunk, sp); len(chunk) >= 500 {
			return run()
		}
		return nil
	}, ss.kinds...)
	if err == nil && len(chunk) > 0 {
		err = run()
	}
	if err != nil {
		return err
	}
	return ss.readCounts(ctx)
}

// readCounts reads the Checkbox counts of the goods gathered in toCheck and sends those that differ.
func (ss *stockSync) readCounts(ctx context.Context) error {
	if len(ss.toCheck) == 0 {
		return nil
	}
	ids := make([]string, 0, len(ss.toCheck))
	for id := range ss.toCheck {
		ids = append(ids, id)
	}
	counts, err := ss.c.API.Leftovers(ctx, ids)
	if err != nil {
		return fmt.Errorf("read stock of %d goods: %w", len(ids), err)
	}
	for _, id := range ids {
		sc := ss.toCheck[id]
		if n, ok := counts[id]; ok && countIs(&n, sc.stock) {
			ss.checked = append(ss.checked, sc.rec.Code)
			continue
		}
		if err := ss.addFromLedger(ctx, sc.rec, sc.stock); err != nil {
			return err
		}
	}
	clear(ss.toCheck)
	return nil
}

// addFromLedger adds a stock row made from what Checkbox last received (the ledger's payload), so that the
// import changes stock and nothing else. Without the payload, or the letters of its taxes, the good is
// read from Checkbox (and its letters learnt for the next ones).
func (ss *stockSync) addFromLedger(ctx context.Context, rec store.GoodRecord, stock int64) error {
	var p checkbox.GoodPayload
	if len(rec.PushedPayload) > 0 && json.Unmarshal(rec.PushedPayload, &p) == nil && p.Code == rec.Code {
		if letters := ss.c.lettersOf(p.TaxCodes); letters != nil {
			return ss.add(ctx, importRow(p, letters), rec, stock)
		}
	}
	g, err := ss.c.API.GoodByCode(ctx, rec.Code)
	if isNotFound(err) {
		return nil // gone from Checkbox: nothing to set
	}
	if err != nil {
		return fmt.Errorf("read good %s for its stock: %w", rec.Code, err)
	}
	ss.c.learnLetters(g.Taxes)
	return ss.add(ctx, rowFromGood(g), rec, stock)
}

// rowFromGood is the import row that rewrites g as Checkbox holds it.
func rowFromGood(g checkbox.Good) checkbox.ImportGood {
	var letters []string
	for _, t := range g.Taxes {
		if t.Symbol != "" {
			letters = append(letters, t.Symbol)
		}
	}
	barcodes := g.Barcode
	if g.RelatedBarcodes != "" {
		barcodes = strings.Trim(barcodes+","+g.RelatedBarcodes, ",")
	}
	return checkbox.ImportGood{
		Name: g.Name, Code: g.Code, Barcode: g.Barcode, Barcodes: barcodes, Price: UAH(g.Price).StringFixed(2),
		IsWeight: g.IsWeight, Type: g.Type, Taxes: strings.Join(letters, " "), Uktzed: g.Uktzed,
	}
}

// add queues a stock row; a full file is sent.
func (ss *stockSync) add(ctx context.Context, row checkbox.ImportGood, rec store.GoodRecord, stock int64) error {
	left := Quantity(stock)
	row.Leftovers = &left
	ss.file = append(ss.file, row)
	ss.recs = append(ss.recs, rec)
	ss.stocks = append(ss.stocks, stock)
	if len(ss.file) >= ss.c.bulkBatch() {
		return ss.flush(ctx)
	}
	return nil
}

// flush sends the queued rows as one stock import and records each good's stock once Checkbox applied
// it; the moved marks of the goods sent or found right go.
func (ss *stockSync) flush(ctx context.Context) error {
	if len(ss.file) > 0 {
		opts := checkbox.ImportOptions{AutoSupply: true, IgnoreBarcodeDuplicates: true, PollInterval: ss.c.ImportPoll}
		set := ss.c.now()
		if _, err := ss.c.API.ImportGoods(ctx, checkbox.ImportFile{Goods: ss.file}, opts); err != nil {
			return fmt.Errorf("stock import of %d goods: %w", len(ss.file), err)
		}
		for i := range ss.recs {
			// The record's time is when its stock was set: sales before it are in the count Checkbox now
			// holds, those after it come off (store.Store.NetSoldSinceStock, for reconciliation).
			ss.recs[i].PushedStock, ss.recs[i].UpdatedAt = &ss.stocks[i], set
			ss.checked = append(ss.checked, ss.recs[i].Code)
		}
		if err := ss.c.Store.PutGoods(ctx, ss.recs); err != nil {
			return fmt.Errorf("record stock: %w", err)
		}
		ss.rep.StockSent += len(ss.file)
		ss.file, ss.recs, ss.stocks = nil, nil, nil
	}
	err := ss.c.Store.ClearStockMoved(ctx, ss.checked)
	ss.checked = nil
	return err
}

func isNotFound(err error) bool { return errors.Is(err, checkbox.ErrNotFound) }

// countIs says whether Checkbox's count of a good is the stock obmin means (thousandths). The unit of
// GoodModel.count is not documented (docs/checkbox-rest.md §2, §12.5): thousandths or pieces are both taken as
// a match, so an unknown unit costs no import on every drop. No count at all is taken as a match too: then
// only BAS's own changes are sent.
func countIs(count *int64, thousandths int64) bool {
	if count == nil {
		return true
	}
	return *count == thousandths || thousandths%1000 == 0 && *count == thousandths/1000
}
