package exchange

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"obmin/checkbox"
	"obmin/store"
)

// Large catalogues go to Checkbox through its goods import file rather than one call per good
// (docs/checkbox-rest.md §4.4: "per-item POST/PUT /goods (+ by-code lookup) for small deltas; the async file
// import for large catalogues"). At the client's 5 requests a second (§9), 300,000 titles one by one take
// 17 hours; through files of 5,000 rows they take a few minutes (docs/performance.md).
//
// Why a repeated import never duplicates a good: the code is unique in an organisation (§4.2, the import
// instructions: "Код* … Унікальне поле"), so a row whose code Checkbox already has rewrites that good;
// the emulator does the same. A crash after Checkbox applied a file and before the ledger recorded it
// therefore costs one more import of the same rows on the next run, never a second good.
//
// The import answers no ids (CheckStatusResponseSchema: task_id, status, counts, errors). Each file is
// recorded in the ledger as soon as Checkbox applied it; the goods it made are recorded without an id,
// and learnIDs learns the ids once, after the last file: by code for a few, by one read of the catalogue
// for many. A good the ledger knew already keeps its id: a row rewrites the good in place.

const (
	// DefaultBulkBatch is Catalog.BulkBatch's default: the most rows of one import file. Checkbox
	// documents no limit on the file (docs/checkbox-rest.md §4.4); 5,000 rows of JSON are about 1.5 MB.
	DefaultBulkBatch = 5000
	// importCalls is about what one import file costs: the upload, the apply and two status polls after
	// each (checkbox.FirstPoll, doubling).
	importCalls = 6
)

// bulkOn tells whether n goods to push go through the import: more than the threshold, and fewer calls
// than one each (an update is one call, a new good two: a look-up and the create).
func (c *Catalog) bulkOn(n int) bool {
	t := c.BulkThreshold
	files := (n + c.bulkBatch() - 1) / c.bulkBatch()
	return t > 0 && n > t && files*importCalls < n
}

func (c *Catalog) bulkBatch() int {
	if c.BulkBatch > 0 {
		return c.BulkBatch
	}
	return DefaultBulkBatch
}

// bulk is one file of a drop's import: its plans and what came of them. Files go side by side, so each has
// a report of its own, added to the drop's when the file is done.
type bulk struct {
	c        *Catalog
	st       *store.Stage
	rep      *DropReport     // the file's
	tried    map[string]bool // sets of tax codes a good was pushed alone for, to learn their letters (the drop's)
	plans    []plan
	stocked  map[int]bool // plans whose row carried leftovers
	counted  map[int]bool // plans already counted in the report: pushed alone, in the file for their stock
	recorded map[int]bool // plans the ledger has as sent
	perItem  []int        // plans to push one by one after all
}

// bulkPusher sends the plans to send (planTodo) through the goods import while the drop is still being
// planned: the planner hands it each such plan (todo), and once there are enough for the import to cost
// fewer calls than one call each (bulkOn) it sends them in files of BulkBatch rows, recording each file's
// goods in the ledger once Checkbox applied it. Two files are in Checkbox's hands at a time (while one is
// checked and applied, the next is uploaded), and the planner goes on meanwhile: the import then takes
// about as long as its calls at the client's rate. Plans it cannot place are marked to go one by one after
// all (planPerItem): the first good of each set of tax codes whose letters are unknown yet, and the rows of
// a file whose failure names no row. When there are too few for the import, it sends nothing: push sends
// them one by one.
type bulkPusher struct {
	c      *Catalog
	st     *store.Stage
	rep    *DropReport
	tried  map[string]bool
	in     chan plan
	done   chan error
	failed chan struct{} // closed when run ends with an error
	bulk   bool          // the import was used

	mu      sync.Mutex // over rep and fileErr
	fileErr error
	files   errgroup.Group // the files in Checkbox's hands, filesInFlight at most
}

// filesInFlight is how many import files are in Checkbox's hands at a time.
const filesInFlight = 2

func (c *Catalog) startBulk(ctx context.Context, st *store.Stage, rep *DropReport) *bulkPusher {
	p := &bulkPusher{
		c: c, st: st, rep: rep, tried: map[string]bool{},
		in: make(chan plan, 64), done: make(chan error, 1), failed: make(chan struct{}),
	}
	p.files.SetLimit(filesInFlight)
	go func() {
		err := p.run(ctx)
		_ = p.files.Wait() // the files keep their error in fileErr
		if err == nil {
			err = p.fileErr
		}
		if err != nil {
			close(p.failed)
			for range p.in { // let the planner finish its sends
			}
		}
		p.done <- err
	}()
	return p
}

// todo hands the pusher one plan to send; it fails once the pusher has failed.
func (p *bulkPusher) todo(ctx context.Context, pl plan) error {
	select {
	case p.in <- pl:
		return nil
	case <-p.failed:
		return errors.New("goods import stopped")
	case <-ctx.Done():
		return ctx.Err()
	}
}

// finish waits for the pusher to send what it was given; it returns the pusher's error, if any.
func (p *bulkPusher) finish() error {
	close(p.in)
	return <-p.done
}

func (p *bulkPusher) run(ctx context.Context) error {
	var held, batch []plan
	for pl := range p.in {
		if !p.bulk {
			held = append(held, pl)
			if !p.c.bulkOn(len(held)) {
				continue
			}
			p.bulk, batch, held = true, held, nil
		} else {
			batch = append(batch, pl)
		}
		if len(batch) >= p.c.bulkBatch() {
			if err := p.send(ctx, batch); err != nil {
				return err
			}
			batch = nil
		}
	}
	if len(batch) > 0 {
		return p.send(ctx, batch)
	}
	return nil
}

// send learns the letters the file needs (pushing a good alone now and then: files wait for it), then
// imports the file beside the one before it.
func (p *bulkPusher) send(ctx context.Context, plans []plan) error {
	b := &bulk{c: p.c, st: p.st, rep: &DropReport{}, tried: p.tried, plans: plans,
		stocked: map[int]bool{}, counted: map[int]bool{}, recorded: map[int]bool{}}
	todo := make([]int, len(plans))
	for i := range todo {
		todo[i] = i
	}
	rows, err := b.learnLetters(ctx, todo)
	if err != nil {
		return err
	}
	// Go waits while filesInFlight files are in Checkbox's hands; a file that failed meanwhile stops the
	// next one from going.
	p.files.Go(func() error {
		p.mu.Lock()
		failed := p.fileErr != nil
		p.mu.Unlock()
		if failed {
			return nil
		}
		err := b.send(ctx, rows)
		p.mu.Lock()
		defer p.mu.Unlock()
		p.rep.Created += b.rep.Created
		p.rep.Updated += b.rep.Updated
		p.rep.StockSent += b.rep.StockSent
		p.rep.Rejected = append(p.rep.Rejected, b.rep.Rejected...)
		if err != nil && p.fileErr == nil {
			p.fileErr = err
		}
		return nil
	})
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.fileErr
}

// send imports the rows of the file and records what Checkbox took.
func (b *bulk) send(ctx context.Context, rows []int) error {
	if len(rows) > 0 {
		sent := b.c.now()
		ok, err := b.importBatch(ctx, rows)
		if err != nil {
			return err
		}
		if err := b.record(ctx, ok, sent); err != nil {
			return err
		}
	}
	// The goods refused, by the import or when pushed alone, are recorded with their description.
	var refused []store.GoodRecord
	for i, p := range b.plans {
		if !b.recorded[i] && !slices.Contains(b.perItem, i) {
			refused = append(refused, description(p.rec))
		}
	}
	if err := b.c.Store.PutGoods(ctx, refused); err != nil {
		return fmt.Errorf("record %d refused goods: %w", len(refused), err)
	}
	ids := make([]int64, len(b.perItem))
	for n, i := range b.perItem {
		ids[n] = b.plans[i].id
	}
	return b.st.SetKind(ctx, planPerItem, ids...)
}

// learnLetters makes sure every tax code of the rows has its letter. The import file names taxes by
// letter and the mapping gives codes (docs/checkbox-rest.md §4.3, §4.4); a good Checkbox returns carries both,
// so the first good of each set of codes with an unknown letter is pushed on its own and the letters
// are read from Checkbox's answer. It returns the plans left for the import.
func (b *bulk) learnLetters(ctx context.Context, todo []int) ([]int, error) {
	var rows []int
	tried := b.tried
	for _, i := range todo {
		p := &b.plans[i]
		if b.lettersOf(p.payload.TaxCodes) != nil {
			rows = append(rows, i)
			continue
		}
		key := fmt.Sprint(p.payload.TaxCodes)
		if tried[key] {
			b.perItem = append(b.perItem, i) // the codes have no letter in Checkbox: one by one
			continue
		}
		tried[key] = true
		g, created, err := b.c.pushOne(ctx, p)
		if err != nil {
			if !isRejection(err) {
				return nil, err
			}
			b.rep.Rejected = append(b.rep.Rejected, fmt.Sprintf("%s «%s»: %v", p.payload.Code, p.payload.Name, err))
			delete(tried, key) // the next good of the set tries again
			continue
		}
		b.count(created)
		b.recorded[i] = true
		b.c.learnLetters(g.Taxes)
		if b.c.Mapping.Stock && p.stock != nil && (p.rec.PushedStock == nil || *p.rec.PushedStock != *p.stock) {
			// Its stock rides in the file rather than in an import of its own after the push.
			rows = append(rows, i)
			b.counted[i] = true
		}
	}
	// A good that was held back while its letters were unknown may have them now.
	var still []int
	for _, i := range b.perItem {
		if b.lettersOf(b.plans[i].payload.TaxCodes) != nil {
			rows = append(rows, i)
		} else {
			still = append(still, i)
		}
	}
	b.perItem = still
	slices.Sort(rows)
	return rows, nil
}

// lettersOf is the import's "taxes" cell for codes: letters separated by spaces; nil when a letter is
// unknown.
func (b *bulk) lettersOf(codes []int) []string { return b.c.lettersOf(codes) }

func (c *Catalog) lettersOf(codes []int) []string {
	c.lettersMu.Lock()
	defer c.lettersMu.Unlock()
	out := []string{}
	for _, code := range codes {
		l, ok := c.letters[code]
		if !ok {
			return nil
		}
		out = append(out, l)
	}
	return out
}

// learnLetters keeps the letters of taxes Checkbox returned with a good.
func (c *Catalog) learnLetters(taxes []checkbox.Tax) {
	c.lettersMu.Lock()
	defer c.lettersMu.Unlock()
	for _, t := range taxes {
		if t.Symbol != "" {
			if c.letters == nil {
				c.letters = map[int]string{}
			}
			c.letters[t.Code] = t.Symbol
		}
	}
}

func (b *bulk) count(created bool) {
	if created {
		b.rep.Created++
	} else {
		b.rep.Updated++
	}
}

// row is the import file's row for a plan (importRow). Leftovers go along when stock sync is on and the
// stock changed, in pieces, as the stock step sends them (docs/checkbox-rest.md §5).
func (b *bulk) row(i int) checkbox.ImportGood {
	p := &b.plans[i]
	g := importRow(p.payload, b.lettersOf(p.payload.TaxCodes))
	if b.c.Mapping.Stock && p.stock != nil && (p.rec.PushedStock == nil || *p.rec.PushedStock != *p.stock) {
		left := Quantity(*p.stock)
		g.Leftovers = &left
		b.stocked[i] = true
	}
	return g
}

// importRow is the import file's row for a good: the whole good, with the REST payload's units turned
// into the file's (docs/checkbox-rest.md §4.4: price in decimal hryvnia, taxes as letters).
func importRow(pl checkbox.GoodPayload, letters []string) checkbox.ImportGood {
	g := checkbox.ImportGood{
		Name: pl.Name, Code: pl.Code, Barcode: pl.Barcode, Barcodes: strings.Join(append([]string{pl.Barcode}, pl.Barcodes...), ","),
		Price: UAH(pl.Price).StringFixed(2), IsWeight: pl.IsWeight, Type: pl.Type,
		Taxes: strings.Join(letters, " "), Uktzed: pl.Uktzed,
	}
	g.Barcodes = strings.Trim(g.Barcodes, ",")
	return g
}

// importBatch imports the plans of batch and returns those Checkbox took. Rows the import names in its
// errors are rejected and listed in the report. Whether Checkbox applies the other rows of such a file is
// not documented (docs/checkbox-rest.md §4.1 gives only errors[{error, address}]): when the task ends in
// "error" they are imported again without the bad rows; when it ends "done" they are taken. A failure
// that names no row sends the whole batch one by one, where each good stands on its own.
func (b *bulk) importBatch(ctx context.Context, batch []int) ([]int, error) {
	for attempt := 1; len(batch) > 0; attempt++ {
		var file checkbox.ImportFile
		supply := false
		for _, i := range batch {
			file.Goods = append(file.Goods, b.row(i))
			supply = supply || file.Goods[len(file.Goods)-1].Leftovers != nil
		}
		// ignore_barcode_duplicates: the per-item API takes a barcode another good has, and so must the
		// import, or one shared ISBN (two editions, a set and its volume) would fail a file of 5,000 goods
		// that one by one would all go in (docs/checkbox-rest.md §4.4 says collisions fail an import unless the flag is set).
		opts := checkbox.ImportOptions{AutoSupply: supply, IgnoreBarcodeDuplicates: true, PollInterval: b.c.ImportPoll}
		res, err := b.c.API.ImportGoods(ctx, file, opts)
		if err == nil {
			return batch, nil
		}
		var ie *checkbox.ImportError
		if !errors.As(err, &ie) {
			return nil, fmt.Errorf("goods import of %d goods: %w", len(batch), err)
		}
		bad, ok := badRows(ie.Errors, len(batch))
		if !ok || len(bad) == 0 {
			b.giveUp(batch, err)
			return nil, nil
		}
		var keep []int
		for n, i := range batch {
			if msg, isBad := bad[n]; isBad {
				p := b.plans[i].payload
				b.rep.Rejected = append(b.rep.Rejected, fmt.Sprintf("%s «%s»: goods import: %s", p.Code, p.Name, msg))
				continue
			}
			keep = append(keep, i)
		}
		if res.Status != "error" {
			return keep, nil // done: the other rows were applied
		}
		if attempt == 3 {
			b.giveUp(keep, err)
			return nil, nil
		}
		batch = keep
	}
	return nil, nil
}

// giveUp sends the rows of a failed import one by one.
func (b *bulk) giveUp(rows []int, err error) {
	b.c.log().WithError(err).Warnf("Goods import failed without naming the rows to blame: sending %d goods one by one", len(rows))
	for _, i := range rows {
		delete(b.stocked, i)
	}
	b.perItem = append(b.perItem, rows...)
}

// addrRow finds the row in an import error's address: obmin's files are JSON, whose rows Checkbox (and
// the emulator) address as goods[i] (e.g. "goods[12].good_name").
var addrRow = regexp.MustCompile(`^goods\[(\d+)\]`)

// badRows maps each row an import's errors name to its messages; ok is false when an error names no row
// of the file.
func badRows(issues []checkbox.ImportIssue, rows int) (map[int]string, bool) {
	bad := map[int]string{}
	for _, is := range issues {
		m := addrRow.FindStringSubmatch(strings.TrimSpace(is.Address))
		if m == nil {
			return nil, false
		}
		n, err := strconv.Atoi(m[1])
		if err != nil || n >= rows {
			return nil, false
		}
		msg := is.Address + ": " + is.Message
		if prev, ok := bad[n]; ok {
			msg = prev + "; " + msg
		}
		bad[n] = msg
	}
	return bad, true
}

// record writes the goods of an applied file to the ledger with what was sent: the record pushOne writes,
// with the Checkbox id the ledger knew (none for a good the file made: learnIDs finds it after the last
// file). Goods the ledger knew count as updated now; the others when their ids are learnt. A good whose
// stock the file set takes the time the file went as its record's time, as the stock step does.
func (b *bulk) record(ctx context.Context, applied []int, sent time.Time) error {
	if len(applied) == 0 {
		return nil
	}
	now := b.c.now()
	recs := make([]store.GoodRecord, 0, len(applied))
	for _, i := range applied {
		p := &b.plans[i]
		if !b.counted[i] && p.rec.CheckboxID != "" {
			b.count(false)
		}
		p.rec.PushedHash = p.hash
		p.rec.PushedPrice = p.payload.Price
		p.rec.PushedPayload, _ = json.Marshal(p.payload)
		p.rec.PushedAt = now
		if b.stocked[i] {
			p.rec.PushedStock, p.rec.UpdatedAt = p.stock, sent
			b.rep.StockSent++ // as the stock step counts the stock it sends
		}
		recs = append(recs, p.rec)
		b.recorded[i] = true
	}
	if err := b.c.Store.PutGoods(ctx, recs); err != nil {
		return fmt.Errorf("record %d imported goods: %w", len(recs), err)
	}
	ids := make([]int64, len(applied))
	for n, i := range applied {
		ids[n] = b.plans[i].id
	}
	return b.st.SetKind(ctx, planSent, ids...)
}
