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

	"obmin/checkbox"
	"obmin/spool"
)

// Large catalogues go to Checkbox through its goods import file rather than one call per good
// (checkbox-api.md §4.4: "per-item POST/PUT /goods (+ by-code lookup) for small deltas; the async file
// import for large catalogues"). At the client's 5 requests a second (§9), 300,000 titles one by one take
// 17 hours; through files of 5,000 rows they take a few minutes.
//
// Why a repeated import never duplicates a good: the code is unique in an organisation (§4.2, the import
// instructions: "Код* … Унікальне поле"), so a row whose code Checkbox already has rewrites that good;
// the emulator does the same. A crash after Checkbox applied a file and before the ledger recorded it
// therefore costs one more import of the same rows on the next run, never a second good.

const (
	// DefaultBulkThreshold is Catalog.BulkThreshold's default: a drop changing more goods than this
	// sends them through the import.
	DefaultBulkThreshold = 100
	// DefaultBulkBatch is Catalog.BulkBatch's default: the most rows of one import file. Checkbox
	// documents no limit on the file (checkbox-api.md §4.4); 5,000 rows of JSON are about 1.5 MB.
	DefaultBulkBatch = 5000
	// readBacks is about how many times a drop's import reads the goods back: after each tenth of its
	// rows, so a crash repeats at most that much, and a catalogue of n goods costs about 10·n/1000 page
	// reads, not one per file.
	readBacks = 10
)

// bulkOn tells whether n goods to push go through the import.
func (c *Catalog) bulkOn(n int) bool {
	t := c.BulkThreshold
	if t == 0 {
		t = DefaultBulkThreshold
	}
	return t > 0 && n > t
}

func (c *Catalog) bulkBatch() int {
	if c.BulkBatch > 0 {
		return c.BulkBatch
	}
	return DefaultBulkBatch
}

// bulk is one drop's import: the rows sent and what came of them.
type bulk struct {
	c       *Catalog
	plans   []plan
	rep     *DropReport
	stocked map[int]bool // plans whose row carried leftovers
	counted map[int]bool // plans already counted in the report: pushed alone, in the file for their stock
	perItem []int        // plans to push one by one after all
}

// pushBulk sends the plans of todo through the goods import, in files of BulkBatch rows, and records each
// good in the ledger. It returns the plans that must go one by one after all: the first good of each set
// of tax codes whose letters are unknown yet, and the rows of a file whose failure names no row.
func (c *Catalog) pushBulk(ctx context.Context, plans []plan, todo []int, rep *DropReport) ([]int, error) {
	b := &bulk{c: c, plans: plans, rep: rep, stocked: map[int]bool{}, counted: map[int]bool{}}
	rows, err := b.learnLetters(ctx, todo)
	if err != nil {
		return nil, err
	}
	checkpoint := max(c.bulkBatch(), len(rows)/readBacks)
	var applied []int // rows Checkbox took that the ledger does not know yet
	for start := 0; start < len(rows); start += c.bulkBatch() {
		batch := rows[start:min(start+c.bulkBatch(), len(rows))]
		ok, err := b.importBatch(ctx, batch)
		if err != nil {
			return nil, err
		}
		applied = append(applied, ok...)
		if len(applied) >= checkpoint || start+len(batch) >= len(rows) {
			if err := b.record(ctx, applied); err != nil {
				return nil, err
			}
			applied = nil
		}
	}
	return b.perItem, nil
}

// learnLetters makes sure every tax code of the rows has its letter. The import file names taxes by
// letter and the mapping gives codes (checkbox-api.md §4.3, §4.4); a good Checkbox returns carries both,
// so the first good of each set of codes with an unknown letter is pushed on its own and the letters
// are read from Checkbox's answer. It returns the plans left for the import.
func (b *bulk) learnLetters(ctx context.Context, todo []int) ([]int, error) {
	var rows []int
	tried := map[string]bool{}
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
func (b *bulk) lettersOf(codes []int) []string {
	b.c.lettersMu.Lock()
	defer b.c.lettersMu.Unlock()
	out := []string{}
	for _, code := range codes {
		l, ok := b.c.letters[code]
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

// row is the import file's row for a plan: the whole good, with the REST payload's units turned into the
// file's (checkbox-api.md §4.4: price in decimal hryvnia, taxes as letters). Leftovers go along when stock
// sync is on and the stock changed, in pieces, as pushStock sends them (§5).
func (b *bulk) row(i int) checkbox.ImportGood {
	p := &b.plans[i]
	pl := p.payload
	g := checkbox.ImportGood{
		Name: pl.Name, Code: pl.Code, Barcode: pl.Barcode, Barcodes: strings.Join(append([]string{pl.Barcode}, pl.Barcodes...), ","),
		Price: UAH(pl.Price).StringFixed(2), IsWeight: pl.IsWeight, Type: pl.Type,
		Taxes: strings.Join(b.lettersOf(pl.TaxCodes), " "), Uktzed: pl.Uktzed,
	}
	g.Barcodes = strings.Trim(g.Barcodes, ",")
	if b.c.Mapping.Stock && p.stock != nil && (p.rec.PushedStock == nil || *p.rec.PushedStock != *p.stock) {
		left := Quantity(*p.stock)
		g.Leftovers = &left
		b.stocked[i] = true
	}
	return g
}

// importBatch imports the plans of batch and returns those Checkbox took. Rows the import names in its
// errors are rejected and listed in the report. Whether Checkbox applies the other rows of such a file is
// not documented (checkbox-api.md §4.1 gives only errors[{error, address}]): when the task ends in
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
		// that one by one would all go in (§4.4 says collisions fail an import unless the flag is set).
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
	b.c.logger().WithError(err).Warnf("Goods import failed without naming the rows to blame: sending %d goods one by one", len(rows))
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

// record reads back the goods Checkbox took to learn their ids, and writes them to the ledger with what
// was sent: the same record pushOne writes. A few goods are asked by code; more, by reading the whole
// catalogue a page of 1000 at a time (checkbox-api.md §2.3), whichever costs fewer calls. A good the
// import reported taken and Checkbox does not have goes one by one.
func (b *bulk) record(ctx context.Context, applied []int) error {
	if len(applied) == 0 {
		return nil
	}
	want := make(map[string]int, len(applied)) // code → plan
	for _, i := range applied {
		want[b.plans[i].payload.Code] = i
	}
	found := make(map[string]checkbox.Good, len(applied))
	pages := len(b.plans)/1000 + 1 // Checkbox holds about as many goods as the drop describes
	if len(applied) <= pages {
		for code := range want {
			g, err := b.c.API.GoodByCode(ctx, code)
			switch {
			case err == nil:
				found[code] = g
			case errors.Is(err, checkbox.ErrNotFound):
			default:
				return fmt.Errorf("read back good %s after the import: %w", code, err)
			}
		}
	} else {
		err := b.c.API.AllGoods(ctx, func(g checkbox.Good) error {
			if _, ok := want[g.Code]; ok {
				found[g.Code] = g
				b.c.learnLetters(g.Taxes)
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("read back goods after the import: %w", err)
		}
	}
	now := b.c.now()
	var recs []spool.GoodRecord
	var took []int // plans of recs
	for _, i := range applied {
		p := &b.plans[i]
		g, ok := found[p.payload.Code]
		if !ok || g.ID == "" {
			b.perItem = append(b.perItem, i)
			continue
		}
		if !b.counted[i] {
			// For the report only: a good is new unless the ledger knew it or Checkbox had it before
			// this import (it was updated since it was created).
			b.count(p.rec.CheckboxID == "" && (g.UpdatedAt == nil || !g.UpdatedAt.After(g.CreatedAt)))
		}
		rec := p.rec
		rec.CheckboxID = g.ID
		rec.PushedHash = p.hash
		rec.PushedPrice = p.payload.Price
		rec.PushedPayload, _ = json.Marshal(p.payload)
		rec.PushedAt = now
		if b.stocked[i] {
			rec.PushedStock = p.stock
			b.rep.StockSent++ // as pushStock counts the stock it sends
		}
		recs, took = append(recs, rec), append(took, i)
	}
	if err := b.c.Store.PutGoods(ctx, recs); err != nil {
		return fmt.Errorf("record %d imported goods: %w", len(recs), err)
	}
	for n, i := range took {
		b.plans[i].rec = recs[n]
	}
	return nil
}
