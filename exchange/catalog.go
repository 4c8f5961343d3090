package exchange

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/shopspring/decimal"
	"github.com/sirupsen/logrus"
	"golang.org/x/sync/errgroup"

	"obmin/checkbox"
	"obmin/commerceml"
	"obmin/drop"
	"obmin/feed"
	"obmin/internal/quietlog"
	"obmin/internal/safezip"
	"obmin/store"
)

// GoodsAPI is what catalogue sync needs from Checkbox.
type GoodsAPI interface {
	GoodByCode(ctx context.Context, code string) (checkbox.Good, error)
	CreateGood(ctx context.Context, p checkbox.GoodPayload) (checkbox.Good, error)
	UpdateGood(ctx context.Context, id string, p checkbox.GoodPayload) (checkbox.Good, error)
	ImportGoods(ctx context.Context, f checkbox.ImportFile, o checkbox.ImportOptions) (checkbox.ImportResult, error)
	AllGoods(ctx context.Context, fn func(checkbox.Good) error) error
	DeleteGood(ctx context.Context, id string) error
	Leftovers(ctx context.Context, goodIDs []string) (map[string]int64, error)
}

// GoodsStore is the part of the state the catalogue sync reads and writes.
type GoodsStore interface {
	GoodWithCode(ctx context.Context, code string) (store.GoodRecord, bool, error)
	GoodByBASID(ctx context.Context, basID string) (store.GoodRecord, bool, error)
	GoodBySource(ctx context.Context, source, key string) (store.GoodRecord, bool, error)
	HasVariants(ctx context.Context, basID string) (bool, error)
	PutGoods(ctx context.Context, recs []store.GoodRecord) error
	ForEachGood(ctx context.Context, fn func(store.GoodRecord) error) error
	ForgetPushed(ctx context.Context, codes ...string) error

	// At the scale of a catalogue, and the stock sync (store/stock.go).
	CountGoods(ctx context.Context) (total, pushed int, err error)
	GoodsWithCodes(ctx context.Context, codes []string) (map[string]store.GoodRecord, error)
	GoodsByBASIDs(ctx context.Context, ids []string) (map[string]store.GoodRecord, error)
	GoodsWithoutID(ctx context.Context, limit int) (int, []string, error)
	SetCheckboxIDs(ctx context.Context, ids map[string]string) error
	MarkStockMoved(ctx context.Context, codesOf func(raw []byte) ([]string, error)) (int, error)
	StockMoved(ctx context.Context, codes []string) (map[string]bool, error)
	ClearStockMoved(ctx context.Context, codes []string) error
	StockCheckedAt(ctx context.Context) (time.Time, error)
	SetStockCheckedAt(ctx context.Context, t time.Time) error
}

// MissingPolicy says what happens in Checkbox to a good that a full package no longer lists.
type MissingPolicy string

const (
	// MissingLeave (the default) changes nothing in Checkbox and lists the goods in the drop's report.
	MissingLeave MissingPolicy = "leave"
	// MissingHide sets the good's Checkbox stock to 0 through the goods import. Checkbox has no "inactive"
	// flag on a good (docs/checkbox-rest.md §4.2), so this is the nearest thing: the till shows it out of stock.
	// It needs stock sync (mapping.stock), or the stock would never come back when the good does.
	MissingHide MissingPolicy = "hide"
	// MissingDelete deletes the good in Checkbox (DELETE /api/v1/goods/{id}, docs/checkbox-rest.md §4.1). Should it
	// come back in a later package it is created again; past receipts keep their own copy of the good.
	MissingDelete MissingPolicy = "delete"
)

// ParseMissingPolicy checks a mapping.missing value; "" is MissingLeave.
func ParseMissingPolicy(s string) (MissingPolicy, error) {
	switch p := MissingPolicy(strings.ToLower(strings.TrimSpace(s))); p {
	case "", MissingLeave:
		return MissingLeave, nil
	case MissingHide, MissingDelete:
		return p, nil
	}
	return "", fmt.Errorf("%q: want leave, hide or delete", s)
}

// InputError is a drop that can never succeed as it is (bad XML, a value out of range, an ambiguous price
// type): it goes to failed/ with the message, and retrying it would not help.
type InputError struct{ Err error }

func (e *InputError) Error() string { return e.Err.Error() }
func (e *InputError) Unwrap() error { return e.Err }

func inputErrorf(format string, a ...any) error { return &InputError{Err: fmt.Errorf(format, a...)} }

// badInput marks the reader's verdicts on the file itself as bad input; an I/O or state error met while
// reading stays transient, so an outage never sends a good file to failed/.
func badInput(err error) error {
	var pe *commerceml.ParseError
	if errors.As(err, &pe) || errors.Is(err, commerceml.ErrUnsupportedVersion) || errors.Is(err, commerceml.ErrNotCommerceML) ||
		errors.Is(err, commerceml.ErrTruncated) || errors.Is(err, commerceml.ErrUnsupportedEncoding) {
		return &InputError{Err: err}
	}
	var fe *feed.ParseError
	if errors.As(err, &fe) || errors.Is(err, safezip.ErrLimit) || errors.Is(err, safezip.ErrUnsafe) {
		return &InputError{Err: err}
	}
	return err
}

// Catalog maps BAS catalogue drops onto Checkbox goods.
type Catalog struct {
	API     GoodsAPI
	Store   GoodsStore
	Mapping Mapping
	Workers int // parallel Checkbox calls; the client's rate limit still applies
	// ImportPoll is how often a stock import's status is asked; 0 is the client's default.
	ImportPoll time.Duration
	// Missing is what happens to goods a full package no longer lists; "" is MissingLeave.
	Missing MissingPolicy
	// BulkThreshold: when a drop changes more goods than this, they go to Checkbox through the goods
	// import file (bulk.go) instead of one call each; 0 never. As checkbox.bulk_threshold, whose default is
	// internal/config's (config.Default).
	BulkThreshold int
	// BulkBatch is the most goods in one import file; 0 is DefaultBulkBatch.
	BulkBatch int
	// StockCheck is how often every good's Checkbox stock is compared with BAS's, not only the goods the
	// receipts show were sold (stock.go); 0 is DefaultStockCheck.
	StockCheck time.Duration
	Log        *logrus.Entry
	Now        func() time.Time

	lettersMu sync.Mutex
	letters   map[int]string // Checkbox tax code → letter, learnt from goods Checkbox returned (bulk.go)
}

// FileReport is what one file of a drop held.
type FileReport struct {
	Name    string             `json:"name"`
	Summary commerceml.Summary `json:"summary"`
	Feed    *feed.Summary      `json:"feed,omitempty"`   // set instead of Summary for a marketplace feed
	Source  string             `json:"source,omitempty"` // a feed's name (mapping.feeds)
}

// DropReport says what a catalogue drop did. It is written beside the drop for staff to read. The counts
// are the same whichever way the goods went to Checkbox: one call each, or its goods import file.
type DropReport struct {
	Files     []FileReport `json:"files"`
	PriceType string       `json:"price_type,omitempty"`
	Goods     int          `json:"goods"`
	Created   int          `json:"created"`
	Updated   int          `json:"updated"`
	Unchanged int          `json:"unchanged"`
	// Held is how many goods obmin did not send by its own rules: NoPrice, NoCode, Refused and FeedBehindBAS.
	Held     int      `json:"held"`
	Deleted  []string `json:"deleted,omitempty"`  // marked deleted in BAS: left in Checkbox, listed here
	NoPrice  []string `json:"no_price,omitempty"` // no price of the configured type: never sent at 0
	NoCode   []string `json:"no_code,omitempty"`  // the code field is empty: cannot be a Checkbox good
	Refused  []string `json:"refused,omitempty"`  // refused by obmin's own rules (a shared code, a price it cannot send…), with the reason
	Rejected []string `json:"rejected,omitempty"` // Checkbox refused the good (its message beside it)
	// FeedBehindBAS are feed rows for a code BAS exports: BAS is the master of its goods, the row is not sent.
	FeedBehindBAS []string `json:"feed_behind_bas,omitempty"`
	// Variants are goods sold as their characteristics: each priced characteristic is a Checkbox good of
	// its own, the good itself is not sent.
	Variants    []string `json:"sold_as_variants,omitempty"`
	BadBarcodes []string `json:"bad_barcodes,omitempty"`   // values left out of a good's barcodes, and why; the good is sent
	UnknownOffr []string `json:"unknown_offers,omitempty"` // offers for goods BAS never exported
	Unzipped    []string `json:"unzipped,omitempty"`       // zip archives of the drop, unpacked in place
	// Missing are goods Checkbox has from an earlier full package that this full package no longer lists;
	// MissingAction says what was done to them (leave, hide, delete).
	Missing       []string `json:"missing,omitempty"`
	MissingAction string   `json:"missing_action,omitempty"`
	StockSent     int      `json:"stock_sent"`
	Confirmed     int      `json:"orders_confirmed"`
}

// staged is one good as the drop describes it, catalogue and offers joined.
type staged struct {
	good   commerceml.Good
	base   *checkbox.GoodPayload // what Checkbox last received, for goods known only from the state
	prices []commerceml.Price
	stock  *decimal.Decimal
	offer  bool
	file   string // the file that described it last, and the line there, for messages
	line   int

	// A BAS variant (Ид productGUID#characteristicGUID): its product's Ид and name, its properties.
	product     string
	productName string
	chars       []commerceml.Characteristic
	variants    int // for a product: how many of its variants the drop has

	// A marketplace feed's row: it has no BAS Ид.
	feed    *feed.Offer
	source  string // the feed's name
	code    string // decided over the whole feed (feedCodes)
	variant bool   // one of several offers of a model sharing a code
	dupLine int    // the line of an earlier row with the same code, of which it is no variant

	barcodes, badBarcodes []string // the valid barcodes; the others, described
}

// dropFiles sorts a drop's files by kind. Order inside a kind follows BAS's numbering: import.xml, import1.xml…
// Marketplace feeds are listed among the catalogue files (they describe goods and prices in one file) and
// marked in feeds; readDrop reads them with the feed reader.
type dropFiles struct {
	drop.Files
	summaries map[string]commerceml.Summary
	feeds     map[string]bool
	unzipped  []string
}

// FormatsRead is said whenever a file is refused for its format.
const FormatsRead = "obmin reads CommerceML 2.x (<КоммерческаяИнформация>, BAS's exchange with a site), " +
	"YML marketplace feeds (<yml_catalog>: Rozetka, Prom.ua, Epicentr, MAUDAU) and Hotline price lists (<price>)"

func classify(dir string) (dropFiles, error) {
	df := dropFiles{summaries: map[string]commerceml.Summary{}, feeds: map[string]bool{}}
	unzipped, err := unzipDrop(context.Background(), dir)
	if err != nil {
		return df, err
	}
	df.unzipped = unzipped
	entries, err := os.ReadDir(dir)
	if err != nil {
		return df, fmt.Errorf("read drop %s: %w", dir, err)
	}
	var names []string
	for _, e := range entries {
		if e.Type().IsRegular() && strings.EqualFold(filepath.Ext(e.Name()), ".xml") {
			names = append(names, e.Name())
		}
	}
	drop.SortNames(names)
	for _, name := range names {
		f, err := os.Open(filepath.Join(dir, name))
		if err != nil {
			return df, fmt.Errorf("open %s: %w", name, err)
		}
		_, kind, err := commerceml.Sniff(f, name)
		if errors.Is(err, commerceml.ErrNotCommerceML) {
			// Not CommerceML: a marketplace feed, told by its root (docs/formats.md), or refused.
			if _, serr := f.Seek(0, io.SeekStart); serr != nil {
				f.Close()
				return df, fmt.Errorf("reread %s: %w", name, serr)
			}
			_, ferr := feed.Sniff(f, name)
			f.Close()
			switch {
			case ferr == nil:
				df.Catalog = append(df.Catalog, name)
				df.feeds[name] = true
				continue
			case errors.Is(ferr, feed.ErrNotFeed):
				return df, &InputError{Err: fmt.Errorf("%w; %s", err, FormatsRead)}
			default:
				return df, badInput(ferr)
			}
		}
		f.Close()
		if errors.Is(err, commerceml.ErrUnsupportedVersion) {
			return df, &InputError{Err: fmt.Errorf("%w; %s", err, FormatsRead)}
		}
		if err != nil {
			return df, badInput(err)
		}
		df.Add(name, kind)
	}
	return df, nil
}

// stockOf is the quantity that counts for Checkbox: the chosen warehouses, or the offer's total.
func (c *Catalog) stockOf(o commerceml.Offer) *decimal.Decimal {
	if len(c.Mapping.Warehouses) > 0 {
		var sum decimal.Decimal
		found := false
		for _, s := range o.Stocks {
			if slices.Contains(c.Mapping.Warehouses, s.WarehouseID) {
				sum = sum.Add(s.Quantity)
				found = true
			}
		}
		if found {
			return &sum
		}
		return nil
	}
	if o.Quantity != nil {
		return o.Quantity
	}
	if len(o.Stocks) > 0 {
		var sum decimal.Decimal
		for _, s := range o.Stocks {
			sum = sum.Add(s.Quantity)
		}
		return &sum
	}
	return nil
}

// ResolvePriceType picks the price type of the configuration among those the drop announced.
func (m Mapping) ResolvePriceType(types []commerceml.PriceType) (string, error) {
	if m.PriceType != "" {
		for _, t := range types {
			if t.ID == m.PriceType || strings.EqualFold(strings.TrimSpace(t.Name), strings.TrimSpace(m.PriceType)) {
				return t.ID, nil
			}
		}
		if len(types) == 0 {
			// Split packages announce price types in another drop; an Ид still works.
			return m.PriceType, nil
		}
		return "", inputErrorf("price type %q (mapping.price_type) is not among the drop's price types: %s", m.PriceType, typeNames(types))
	}
	uniq := map[string]commerceml.PriceType{}
	for _, t := range types {
		uniq[t.ID] = t
	}
	if len(uniq) == 1 {
		for id := range uniq {
			return id, nil
		}
	}
	var retail []string
	for id, t := range uniq {
		n := strings.ToLower(t.Name)
		if strings.Contains(n, "роздр") || strings.Contains(n, "розн") {
			retail = append(retail, id)
		}
	}
	if len(retail) == 1 {
		return retail[0], nil
	}
	if len(uniq) == 0 {
		return "", nil
	}
	return "", inputErrorf("the drop has several price types (%s): set mapping.price_type to the retail one", typeNames(types))
}

func typeNames(types []commerceml.PriceType) string {
	var s []string
	seen := map[string]bool{}
	for _, t := range types {
		if !seen[t.ID] {
			seen[t.ID] = true
			s = append(s, fmt.Sprintf("%q (Ид %s)", t.Name, t.ID))
		}
	}
	return strings.Join(s, ", ")
}

// plan is one good's desired Checkbox state and what the ledger knows of it.
type plan struct {
	id      int64 // in the drop's Stage
	kind    int   // planKeep, planTodo…
	rec     store.GoodRecord
	payload checkbox.GoodPayload
	hash    string
	stock   *int64
}

// Apply pushes one claimed drop (a folder of XML files) to Checkbox and records what Checkbox received.
// Catalogue and offers of the drop are applied together. An *InputError means the drop is bad; any other
// error is transient and the drop should be retried as it is.
func (c *Catalog) Apply(ctx context.Context, dir string) (DropReport, error) {
	df, err := classify(dir)
	if err != nil {
		return DropReport{}, err
	}
	return c.apply(ctx, dir, df, nil)
}

// apply stages the drop, plans it, records BAS's description of every good, sends what changed, applies
// the missing-goods policy, learns the ids the goods import did not answer and sets stock. beforeStock,
// when set, runs before stock is compared: the agent pulls receipts there, so that the goods sold since
// are known (stock.go).
func (c *Catalog) apply(ctx context.Context, dir string, df dropFiles, beforeStock func(context.Context) error) (DropReport, error) {
	rep := DropReport{Unzipped: df.unzipped}
	st, err := store.OpenStage(ctx)
	if err != nil {
		return rep, err
	}
	defer st.Close()
	log, began := c.log(), c.now()
	phase := func(what string) {
		log.WithFields(logrus.Fields{"phase": what, "seconds": c.now().Sub(began).Seconds()}).Debug("drop phase done")
	}
	types, err := c.readDrop(ctx, dir, df, st, &rep)
	if err != nil {
		return rep, err
	}
	phase("read")
	priceType, err := c.Mapping.ResolvePriceType(types)
	if err != nil {
		return rep, err
	}
	rep.PriceType = priceType
	_, pushedBefore, err := c.Store.CountGoods(ctx)
	if err != nil {
		return rep, err
	}
	// Planned, recorded and sent side by side: files go to Checkbox's goods import while later goods are
	// still planned.
	bctx, cancel := context.WithCancel(ctx)
	defer cancel()
	bulk := c.startBulk(bctx, st, &rep)
	err = c.plan(ctx, st, priceType, &rep, bulk)
	if err != nil {
		cancel() // a drop that cannot be planned whole sends no more
	}
	if berr := bulk.finish(); err == nil {
		err = berr
	}
	if err != nil {
		sort.Strings(rep.Rejected)
		return rep, err
	}
	phase("plan")
	if err := c.push(ctx, st, &rep, bulk.bulk); err != nil {
		return rep, err
	}
	phase("push")
	hide := 0
	if pushedBefore > 0 { // else every good Checkbox has from obmin came in this drop
		if hide, err = c.missing(ctx, st, &rep); err != nil {
			return rep, err
		}
	}
	phase("missing")
	err = c.settle(ctx, st, &rep, hide, beforeStock)
	phase("settle")
	return rep, err
}

// recordBatch is how many goods' records share a ledger transaction.
const recordBatch = 5000

// missing applies the disappeared-goods policy after a full package: a BAS catalogue that is not "only
// changes" (docs/commerceml.md §4.1) lists every good BAS offers the site, and a marketplace feed lists every
// offer of its seller, so a good Checkbox received from an earlier package of the same source and that
// this one no longer lists has gone. Each source judges only its own goods: BAS packages the goods with
// an Ид, each feed (by name, mapping.feeds) the goods it made; a feed good of an obmin that did not record
// feeds' names is judged by none. A variant counts as listed while its product is. Goods to hide
// (MissingHide) are staged as planHide for the stock step, which it says how many; deletions are done here.
func (c *Catalog) missing(ctx context.Context, st *store.Stage, rep *DropReport) (int, error) {
	fullBAS, partial := false, false
	for _, f := range rep.Files {
		if f.Feed == nil && f.Summary.Kind == commerceml.KindCatalog {
			fullBAS = fullBAS || f.Summary.Goods > 0
			partial = partial || f.Summary.OnlyChanges
		}
	}
	fullBAS = fullBAS && !partial
	fullFeeds := feedSources(rep.Files)
	if !fullBAS && len(fullFeeds) == 0 {
		return 0, nil
	}
	policy := c.Missing
	if policy == "" {
		policy = MissingLeave
	}
	// The ledger is walked a chunk at a time; the goods of a chunk the drop lists are found in its Stage.
	var chunk []store.GoodRecord
	gone := 0
	judge := func() error {
		codes := make([]string, len(chunk))
		for i, r := range chunk {
			codes[i] = r.Code
		}
		planned, err := st.PlansWithCodes(ctx, codes)
		if err != nil {
			return err
		}
		for _, r := range chunk {
			if _, ok := planned[r.Code]; ok {
				continue
			}
			if listed, err := listedBy(ctx, st, r); err != nil || listed {
				if err != nil {
					return err
				}
				continue
			}
			gone++
			// Staged to act on after the walk: deleting reaches Checkbox and the ledger.
			zero := int64(0)
			if _, err := stagePlan(ctx, st, plan{rec: r, stock: &zero}, planHide); err != nil {
				return err
			}
		}
		chunk = chunk[:0]
		return nil
	}
	err := c.Store.ForEachGood(ctx, func(r store.GoodRecord) error {
		if r.PushedHash == "" || r.Deleted {
			return nil // never in Checkbox, or already removed by this policy
		}
		if (r.BASID != "" && fullBAS) || (r.BASID == "" && r.Source != "" && fullFeeds[r.Source]) {
			chunk = append(chunk, r)
		}
		if len(chunk) >= 500 {
			return judge()
		}
		return nil
	})
	if err == nil && len(chunk) > 0 {
		err = judge()
	}
	if err != nil {
		return 0, fmt.Errorf("ledger: %w", err)
	}
	if gone == 0 {
		return 0, nil
	}
	rep.MissingAction = string(policy)
	hide := 0
	err = st.EachPlan(ctx, false, func(sp store.StagedPlan) error {
		p, err := unstagePlan(sp)
		if err != nil {
			return err
		}
		r := p.rec
		switch policy {
		case MissingLeave:
			if err := st.SetKind(ctx, planKeep, sp.ID); err != nil {
				return err
			}
		case MissingHide:
			if r.PushedStock != nil && *r.PushedStock == 0 {
				return st.SetKind(ctx, planKeep, sp.ID) // hidden by an earlier package
			}
			hide++
		case MissingDelete:
			if err := st.SetKind(ctx, planKeep, sp.ID); err != nil {
				return err
			}
			if deleted, err := c.deleteGone(ctx, r, rep); !deleted || err != nil {
				return err
			}
		}
		rep.Missing = append(rep.Missing, fmt.Sprintf("%s «%s»", r.Code, r.Name))
		return nil
	}, planHide)
	return hide, err
}

// listedBy says whether the drop lists the good of record r other than by its code: by BAS Ид (a variant
// counts while its product is listed), or as a feed's offer.
func listedBy(ctx context.Context, st *store.Stage, r store.GoodRecord) (bool, error) {
	keys := []string{}
	if r.BASID != "" {
		keys = append(keys, r.BASID)
		if p, _, ok := commerceml.Variant(r.BASID); ok {
			keys = append(keys, p)
		}
	}
	if r.Source != "" || r.SourceKey != "" {
		keys = append(keys, feedKeyOf(r.Source, r.SourceKey))
	}
	for _, k := range keys {
		if _, ok, err := st.Good(ctx, k); ok || err != nil {
			return ok, err
		}
	}
	return false, nil
}

// deleteGone deletes a good a full package no longer lists (MissingDelete), found by its id or, where an
// import made it and the ledger has no id yet, by its code.
func (c *Catalog) deleteGone(ctx context.Context, r store.GoodRecord, rep *DropReport) (bool, error) {
	id := r.CheckboxID
	if id == "" {
		g, err := c.API.GoodByCode(ctx, r.Code)
		switch {
		case errors.Is(err, checkbox.ErrNotFound):
		case err != nil:
			return false, fmt.Errorf("look up good %s: %w", r.Code, err)
		default:
			id = g.ID
		}
	}
	if id != "" {
		if err := c.API.DeleteGood(ctx, id); err != nil && !errors.Is(err, checkbox.ErrNotFound) {
			if isRejection(err) {
				rep.Rejected = append(rep.Rejected, fmt.Sprintf("%s «%s»: delete: %v", r.Code, r.Name, err))
				return false, nil
			}
			return false, fmt.Errorf("delete good %s: %w", r.Code, err)
		}
	}
	// The ledger forgets what Checkbox had: should the good come back, it is sent again.
	if err := c.Store.ForgetPushed(ctx, r.Code); err != nil {
		return false, fmt.Errorf("record deletion of %s: %w", r.Code, err)
	}
	return true, nil
}

// unzipDrop unpacks every .zip of a claimed drop folder in place (1C sends one archive when zip is on,
// docs/commerceml.md §6.3), with safezip's limits on entry count and sizes. The XML files of the archive come to
// the top of the drop, pictures (import_files/) stay in a folder of their own and are ignored. An unpacked
// archive is renamed <name>.unpacked, so a retried drop is not unpacked twice.
func unzipDrop(ctx context.Context, dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("read drop %s: %w", dir, err)
	}
	var done []string
	for _, e := range entries {
		if !e.Type().IsRegular() || !strings.EqualFold(filepath.Ext(e.Name()), ".zip") {
			continue
		}
		zipPath := filepath.Join(dir, e.Name())
		dest := zipPath + ".d"
		if err := os.RemoveAll(dest); err != nil { // a half-done earlier attempt
			return nil, fmt.Errorf("unzip %s: %w", e.Name(), err)
		}
		files, err := safezip.Extract(ctx, zipPath, dest, safezip.Limits{})
		if err != nil {
			switch drop.ZipRefusal(err) {
			case "":
				return nil, fmt.Errorf("unzip %s: %w", e.Name(), err)
			case drop.ZipBroken:
				return nil, &InputError{Err: fmt.Errorf("%s is not a readable zip archive: %w", e.Name(), err)}
			}
			return nil, &InputError{Err: fmt.Errorf("%s: %w", e.Name(), err)}
		}
		for _, rel := range files {
			base, joins := drop.ZipEntry(rel)
			if !joins {
				continue // pictures and anything else stay where they are
			}
			to := filepath.Join(dir, base)
			if _, err := os.Lstat(to); err == nil {
				return nil, &InputError{Err: fmt.Errorf("%s: %s is in the drop twice (in the archive and beside it, or in two folders of it)", e.Name(), base)}
			}
			if err := os.Rename(filepath.Join(dest, filepath.FromSlash(rel)), to); err != nil {
				return nil, fmt.Errorf("unzip %s: %w", e.Name(), err)
			}
		}
		if err := os.Rename(zipPath, zipPath+".unpacked"); err != nil {
			return nil, fmt.Errorf("unzip %s: %w", e.Name(), err)
		}
		done = append(done, e.Name())
	}
	return done, nil
}

// priceOf is a good's price in kopecks. A good the drop gives no offer for (a catalogue-only export) keeps
// the price Checkbox last received, so a change of its name or barcode still goes out.
func (c *Catalog) priceOf(s *staged, priceType string, rec store.GoodRecord) (int64, bool, error) {
	if o := s.feed; o != nil {
		if o.Price == nil {
			return 0, false, nil
		}
		if !InHryvnia(o.Currency) {
			return 0, false, fmt.Errorf("ціна %s у %s, а ціни Checkbox — у гривнях", o.Price, o.Currency)
		}
		k, err := Kopecks(*o.Price)
		return k, err == nil, err
	}
	for _, p := range s.prices {
		if p.TypeID != priceType {
			continue
		}
		if !PerBaseUnit(p.Factor) {
			return 0, false, fmt.Errorf("ціна за %s з Коэффициент %s: передаються лише ціни за базову одиницю", p.Unit, strings.TrimSpace(p.Factor))
		}
		k, err := Kopecks(p.PerUnit)
		if err != nil {
			return 0, false, err
		}
		return k, true, nil
	}
	if !s.offer && rec.PushedHash != "" && rec.PushedPrice > 0 {
		return rec.PushedPrice, true, nil
	}
	return 0, false, nil
}

func (c *Catalog) payload(g commerceml.Good, code string, price int64) checkbox.GoodPayload {
	p := checkbox.GoodPayload{
		Name:       g.Name,
		Type:       "good",
		Code:       code,
		IsWeight:   c.Mapping.IsWeight(g.Unit),
		Price:      price,
		TaxCodes:   c.Mapping.TaxCodes(g.VATRate),
		ExternalID: g.ID, // "" for a feed good: it has no BAS Ид
	}
	for _, r := range g.Requisites {
		if strings.EqualFold(r.Name, "ТипНоменклатуры") && (strings.EqualFold(r.Value, "Услуга") || strings.EqualFold(r.Value, "Послуга")) {
			p.Type = "service"
		}
	}
	if len(g.Barcodes) > 0 {
		p.Barcode = g.Barcodes[0]
		if len(g.Barcodes) > 1 {
			p.Barcodes = g.Barcodes[1:]
		}
	}
	return p
}

// push sends the goods whose payload differs from what Checkbox last received, a few at a time, and
// records each success at once so a crash or restart never sends it again. Many changed goods go through
// the goods import instead (pushBulk); what it cannot place is sent here one by one.
func (c *Catalog) push(ctx context.Context, st *store.Stage, rep *DropReport, bulkDone bool) error {
	defer sort.Strings(rep.Rejected)
	var err error
	if rep.Unchanged, err = st.CountPlans(ctx, false, planUnchanged); err != nil {
		return err
	}
	kinds := []int{planTodo, planRenamed, planPerItem}
	if bulkDone {
		kinds = []int{planRenamed, planPerItem}
	}
	var mu sync.Mutex
	var firstErr error
	push := func(p plan) {
		_, created, err := c.pushOne(ctx, &p)
		mu.Lock()
		switch {
		case err == nil && created:
			rep.Created++
		case err == nil:
			rep.Updated++
		case isRejection(err):
			rep.Rejected = append(rep.Rejected, fmt.Sprintf("%s «%s»: %v", p.payload.Code, p.payload.Name, err))
		case firstErr == nil:
			firstErr = err
		}
		mu.Unlock()
		if err != nil && isRejection(err) {
			if err := c.Store.PutGoods(ctx, []store.GoodRecord{description(p.rec)}); err != nil {
				mu.Lock()
				firstErr = cmp.Or(firstErr, fmt.Errorf("record good %s: %w", p.rec.Code, err))
				mu.Unlock()
			}
		}
	}
	// A refusal of one good does not stop the others; the first other error stops taking new ones.
	var pushers errgroup.Group
	pushers.SetLimit(max(c.Workers, 1))
	errStop := errors.New("stop")
	walkErr := st.EachPlan(ctx, false, func(sp store.StagedPlan) error {
		mu.Lock()
		stop := firstErr != nil
		mu.Unlock()
		if stop || ctx.Err() != nil {
			return errStop
		}
		p, err := unstagePlan(sp)
		if err != nil {
			return err
		}
		pushers.Go(func() error { push(p); return nil }) // waits for a free pusher
		return nil
	}, kinds...)
	_ = pushers.Wait() // push keeps its error in firstErr
	switch {
	case walkErr != nil && !errors.Is(walkErr, errStop):
		return walkErr
	case firstErr != nil:
		return firstErr
	}
	return ctx.Err()
}

// isRejection tells a refusal of one good (a 4xx other than auth) from an outage.
func isRejection(err error) bool {
	var api *checkbox.APIError
	return errors.As(err, &api) && api.Status >= 400 && api.Status < 500 && api.Status != 401 && api.Status != 403 && api.Status != 429
}

// pushOne creates or updates one good and records it; it returns the good as Checkbox answered.
func (c *Catalog) pushOne(ctx context.Context, p *plan) (g checkbox.Good, created bool, err error) {
	updated := false
	if id := p.rec.CheckboxID; id != "" {
		g, err = c.API.UpdateGood(ctx, id, p.payload)
		switch {
		case err == nil:
			updated = true
		case !errors.Is(err, checkbox.ErrNotFound):
			return g, false, fmt.Errorf("update good %s: %w", p.payload.Code, err)
		}
		// Not found: deleted in Checkbox by hand (created again below), or made again by an import.
	}
	if !updated {
		// Goods creation takes no client id (docs/checkbox-rest.md §9): look the code up first, so a good made by
		// hand in Checkbox, or one created just before a crash, is updated rather than duplicated. A good
		// whose code changed is under its old code there, unless the change reached Checkbox already.
		id := ""
		for _, code := range slices.Compact([]string{p.rec.OldCode, p.payload.Code}) {
			if code == "" {
				continue
			}
			found, err := c.API.GoodByCode(ctx, code)
			if err == nil {
				id = found.ID
				break
			}
			if !errors.Is(err, checkbox.ErrNotFound) {
				return g, false, fmt.Errorf("look up good %s: %w", code, err)
			}
		}
		if id != "" {
			if g, err = c.API.UpdateGood(ctx, id, p.payload); err != nil {
				return g, false, fmt.Errorf("update good %s: %w", p.payload.Code, err)
			}
		} else {
			if g, err = c.API.CreateGood(ctx, p.payload); err != nil {
				return g, false, fmt.Errorf("create good %s: %w", p.payload.Code, err)
			}
			created = true
		}
	}
	p.rec.CheckboxID = g.ID
	p.rec.PushedHash = p.hash
	p.rec.PushedPrice = p.payload.Price
	p.rec.PushedPayload, _ = json.Marshal(p.payload)
	p.rec.PushedAt = c.now()
	if err := c.Store.PutGoods(ctx, []store.GoodRecord{p.rec}); err != nil {
		return g, created, fmt.Errorf("record good %s: %w", p.payload.Code, err)
	}
	return g, created, nil
}

func (c *Catalog) log() *logrus.Entry { return quietlog.Or(c.Log) }

func (c *Catalog) now() time.Time {
	if c.Now != nil {
		return c.Now()
	}
	return time.Now()
}
