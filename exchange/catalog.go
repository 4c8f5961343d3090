package exchange

import (
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

	"obmin/checkbox"
	"obmin/commerceml"
	"obmin/feed"
	"obmin/internal/ctxio"
	"obmin/internal/safezip"
	"obmin/spool"
)

// GoodsAPI is what catalogue sync needs from Checkbox.
type GoodsAPI interface {
	GoodByCode(ctx context.Context, code string) (checkbox.Good, error)
	CreateGood(ctx context.Context, p checkbox.GoodPayload) (checkbox.Good, error)
	UpdateGood(ctx context.Context, id string, p checkbox.GoodPayload) (checkbox.Good, error)
	ImportGoods(ctx context.Context, f checkbox.ImportFile, o checkbox.ImportOptions) (checkbox.ImportResult, error)
	AllGoods(ctx context.Context, fn func(checkbox.Good) error) error
	DeleteGood(ctx context.Context, id string) error
}

// GoodsStore is the part of the state the catalogue sync reads and writes.
type GoodsStore interface {
	GoodWithCode(ctx context.Context, code string) (spool.GoodRecord, bool, error)
	GoodByBASID(ctx context.Context, basID string) (spool.GoodRecord, bool, error)
	GoodBySource(ctx context.Context, source, key string) (spool.GoodRecord, bool, error)
	HasVariants(ctx context.Context, basID string) (bool, error)
	PutGoods(ctx context.Context, recs []spool.GoodRecord) error
	ForEachGood(ctx context.Context, fn func(spool.GoodRecord) error) error
	ForgetPushed(ctx context.Context, codes ...string) error
}

// MissingPolicy says what happens in Checkbox to a good that a full package no longer lists.
type MissingPolicy string

const (
	// MissingLeave (the default) changes nothing in Checkbox and lists the goods in the drop's report.
	MissingLeave MissingPolicy = "leave"
	// MissingHide sets the good's Checkbox stock to 0 through the goods import. Checkbox has no "inactive"
	// flag on a good (checkbox-api.md §4.2), so this is the nearest thing: the till shows it out of stock.
	// It needs stock sync (mapping.stock), or the stock would never come back when the good does.
	MissingHide MissingPolicy = "hide"
	// MissingDelete deletes the good in Checkbox (DELETE /api/v1/goods/{id}, checkbox-api.md §4.1). Should it
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
	// import file (bulk.go) instead of one call each. 0 is DefaultBulkThreshold; negative turns it off.
	BulkThreshold int
	// BulkBatch is the most goods in one import file; 0 is DefaultBulkBatch.
	BulkBatch int
	Log       *logrus.Entry
	Now       func() time.Time

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
	source  string  // the feed's name
	code    string  // decided over the whole feed (feedCodes)
	variant bool    // one of several offers of a model sharing a code
	dupOf   *staged // an earlier row with the same code, of which it is no variant

	barcodes, badBarcodes []string // the valid barcodes; the others, described
}

// dropFiles sorts a drop's files by kind. Order inside a kind follows BAS's numbering: import.xml, import1.xml…
// Marketplace feeds are listed among the catalogue files (they describe goods and prices in one file) and
// marked in feeds; readDrop reads them with the feed reader.
type dropFiles struct {
	catalog, offers, documents []string
	empty                      []string // files with a valid root and nothing in it
	summaries                  map[string]commerceml.Summary
	feeds                      map[string]bool
	unzipped                   []string
}

// formatsRead is said whenever a file is refused for its format.
const formatsRead = "obmin reads CommerceML 2.x (<КоммерческаяИнформация>, BAS's exchange with a site), " +
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
	sort.Slice(names, func(i, j int) bool { return fileOrder(names[i]) < fileOrder(names[j]) })
	for _, name := range names {
		f, err := os.Open(filepath.Join(dir, name))
		if err != nil {
			return df, fmt.Errorf("open %s: %w", name, err)
		}
		_, kind, err := commerceml.Sniff(f, name)
		if errors.Is(err, commerceml.ErrNotCommerceML) {
			// Not CommerceML: a marketplace feed, told by its root (bas-and-peers.md §1.3), or refused.
			if _, serr := f.Seek(0, io.SeekStart); serr != nil {
				f.Close()
				return df, fmt.Errorf("reread %s: %w", name, serr)
			}
			_, ferr := feed.Sniff(f, name)
			f.Close()
			switch {
			case ferr == nil:
				df.catalog = append(df.catalog, name)
				df.feeds[name] = true
				continue
			case errors.Is(ferr, feed.ErrNotFeed):
				return df, &InputError{Err: fmt.Errorf("%w; %s", err, formatsRead)}
			default:
				return df, badInput(ferr)
			}
		}
		f.Close()
		if errors.Is(err, commerceml.ErrUnsupportedVersion) {
			return df, &InputError{Err: fmt.Errorf("%w; %s", err, formatsRead)}
		}
		if err != nil {
			return df, badInput(err)
		}
		df.add(name, kind)
	}
	return df, nil
}

// fileOrder sorts "import.xml" before "import1.xml" before "import10.xml", and keeps other names stable.
func fileOrder(name string) string {
	base := strings.TrimSuffix(strings.ToLower(name), ".xml")
	i := len(base)
	for i > 0 && base[i-1] >= '0' && base[i-1] <= '9' {
		i--
	}
	return fmt.Sprintf("%s\x00%08s", base[:i], base[i:])
}

// readDrop parses every catalogue and offers file of a drop and joins them by Ид.
func (c *Catalog) readDrop(ctx context.Context, dir string, df dropFiles, rep *DropReport) (map[string]*staged, []commerceml.PriceType, error) {
	goods := map[string]*staged{}
	var types []commerceml.PriceType
	read := func(name string, h commerceml.Handler) error {
		f, err := os.Open(filepath.Join(dir, name))
		if err != nil {
			return fmt.Errorf("open %s: %w", name, err)
		}
		defer f.Close()
		h.PriceType = func(pt commerceml.PriceType) error { types = append(types, pt); return nil }
		sum, err := commerceml.Read(ctxio.Reader(ctx, f), name, h)
		if err != nil {
			return badInput(err)
		}
		rep.Files = append(rep.Files, FileReport{Name: name, Summary: sum})
		return nil
	}
	for _, name := range df.catalog {
		if df.feeds[name] {
			if err := c.readFeed(ctx, dir, name, goods, rep); err != nil {
				return nil, nil, err
			}
			continue
		}
		err := read(name, commerceml.Handler{Good: func(g commerceml.Good) error {
			s := &staged{good: g, file: name, line: g.Line, chars: g.Characteristics}
			if p, _, ok := commerceml.Variant(g.ID); ok {
				s.product = p // a 2.04-style catalogue lists variants as goods of their own
			}
			goods[g.ID] = s
			return nil
		}})
		if err != nil {
			return nil, nil, err
		}
	}
	for _, name := range df.offers {
		err := read(name, commerceml.Handler{Offer: func(o commerceml.Offer) error {
			s, err := c.stageOffer(ctx, goods, o)
			if err != nil {
				return err
			}
			if s == nil {
				rep.UnknownOffr = append(rep.UnknownOffr, o.ID)
				return nil
			}
			s.offer = true
			s.file, s.line = name, o.Line
			if len(o.Characteristics) > 0 {
				s.chars = o.Characteristics
			}
			if len(o.Prices) > 0 {
				s.prices = o.Prices // prices*.xml after offers*.xml: the later file wins
			}
			if q := c.stockOf(o); q != nil {
				s.stock = q
			}
			if o.Deleted {
				s.good.Deleted = true
			}
			return nil
		}})
		if err != nil {
			return nil, nil, err
		}
	}
	for _, s := range goods {
		if s.product == "" {
			continue
		}
		if p, ok := goods[s.product]; ok {
			p.variants++
			if s.productName == "" {
				s.productName = p.good.Name
			}
		}
	}
	return goods, types, nil
}

// feedKey starts the key of a feed's row among a drop's staged goods (feedKeyOf); BAS Ид never start so.
const feedKey = "feed:"

// stageOffer finds the good an offer is for: in this drop's catalogue, as a variant (guid#guid) of a good in
// it, or in the state when the drop carries offers only (BAS's "prices and stock only" export,
// bas-and-peers.md §1.1). It returns nil for an offer of a good obmin has never seen.
func (c *Catalog) stageOffer(ctx context.Context, goods map[string]*staged, o commerceml.Offer) (*staged, error) {
	if s, ok := goods[o.ID]; ok {
		return s, nil
	}
	if base, _, ok := commerceml.Variant(o.ID); ok {
		if p, ok := goods[base]; ok {
			// A characteristic of a good of this drop: the product's description, the offer's own name
			// and barcodes (the product's barcode is not the variant's).
			g := p.good
			g.ID = o.ID
			if o.Article != "" {
				g.Article = o.Article
			}
			if o.Name != "" {
				g.Name = o.Name
			}
			g.Barcodes = o.Barcodes
			g.Characteristics = o.Characteristics
			g.Line = o.Line
			s := &staged{good: g, product: base, productName: p.good.Name}
			goods[o.ID] = s
			return s, nil
		}
	}
	rec, ok, err := c.Store.GoodByBASID(ctx, o.ID)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, nil
	}
	g := commerceml.Good{
		ID: rec.BASID, Article: rec.Article, Name: rec.Name, Deleted: rec.Deleted,
		Unit: commerceml.Unit{Code: rec.UnitCode, Name: rec.UnitName, FullName: rec.UnitFullName, Intl: rec.UnitIntl},
	}
	s := &staged{good: g}
	if p, _, ok := commerceml.Variant(o.ID); ok {
		s.product = p
	}
	if len(rec.PushedPayload) > 0 {
		var base checkbox.GoodPayload
		if err := json.Unmarshal(rec.PushedPayload, &base); err == nil {
			s.base = &base
			// The barcodes Checkbox has, for a code made from them (code_field or variant_code barcode).
			if base.Barcode != "" {
				s.good.Barcodes = append([]string{base.Barcode}, base.Barcodes...)
			}
		}
	}
	if len(o.Barcodes) > 0 {
		s.good.Barcodes = o.Barcodes
	}
	goods[o.ID] = s
	return s, nil
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

// resolvePriceType picks the price type of the configuration among those the drop announced.
func (m Mapping) resolvePriceType(types []commerceml.PriceType) (string, error) {
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
	rec     spool.GoodRecord
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
	return c.apply(ctx, dir, df)
}

func (c *Catalog) apply(ctx context.Context, dir string, df dropFiles) (DropReport, error) {
	rep := DropReport{Unzipped: df.unzipped}
	goods, types, err := c.readDrop(ctx, dir, df, &rep)
	if err != nil {
		return rep, err
	}
	priceType, err := c.Mapping.resolvePriceType(types)
	if err != nil {
		return rep, err
	}
	rep.PriceType = priceType
	rep.Goods = len(goods)

	pd, err := c.plan(ctx, goods, priceType, &rep)
	if err != nil {
		return rep, err
	}
	plans := pd.plans
	// BAS's description of every good is kept, pushed or not: sales of it must go back with BAS's Ид.
	if err := c.Store.PutGoods(ctx, pd.keep); err != nil {
		return rep, fmt.Errorf("record goods: %w", err)
	}
	if err := c.push(ctx, plans, &rep); err != nil {
		return rep, err
	}
	hide, err := c.missing(ctx, pd, &rep)
	if err != nil {
		return rep, err
	}
	if c.Mapping.Stock || len(hide) > 0 {
		var stock []plan
		if c.Mapping.Stock {
			stock = plans
		}
		if err := c.pushStock(ctx, append(stock, hide...), &rep); err != nil {
			return rep, err
		}
	}
	return rep, nil
}

// missing applies the disappeared-goods policy after a full package: a BAS catalogue that is not "only
// changes" (commerceml.md §4.1) lists every good BAS offers the site, and a marketplace feed lists every
// offer of its seller, so a good Checkbox received from an earlier package of the same source and that
// this one no longer lists has gone. Each source judges only its own goods: BAS packages the goods with
// an Ид, each feed (by name, mapping.feeds) the goods it made; a feed good of an obmin that did not record
// feeds' names is judged by none. A variant counts as listed while its product is. It returns the stock
// plans that hide goods (MissingHide); deletions are done here.
func (c *Catalog) missing(ctx context.Context, pd planned, rep *DropReport) ([]plan, error) {
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
		return nil, nil
	}
	policy := c.Missing
	if policy == "" {
		policy = MissingLeave
	}
	var gone []spool.GoodRecord
	err := c.Store.ForEachGood(ctx, func(r spool.GoodRecord) error {
		if pd.listed(r) || r.CheckboxID == "" || r.PushedHash == "" || r.Deleted {
			return nil // listed, never in Checkbox, or already removed by this policy
		}
		if (r.BASID != "" && fullBAS) || (r.BASID == "" && r.Source != "" && fullFeeds[r.Source]) {
			gone = append(gone, r)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("ledger: %w", err)
	}
	if len(gone) == 0 {
		return nil, nil
	}
	rep.MissingAction = string(policy)
	var hide []plan
	for _, r := range gone {
		switch policy {
		case MissingHide:
			if r.PushedStock != nil && *r.PushedStock == 0 {
				continue // hidden by an earlier package
			}
			zero := int64(0)
			hide = append(hide, plan{rec: r, payload: checkbox.GoodPayload{Code: r.Code, Name: r.Name}, stock: &zero})
		case MissingDelete:
			if err := c.API.DeleteGood(ctx, r.CheckboxID); err != nil && !errors.Is(err, checkbox.ErrNotFound) {
				if isRejection(err) {
					rep.Rejected = append(rep.Rejected, fmt.Sprintf("%s «%s»: delete: %v", r.Code, r.Name, err))
					continue
				}
				return nil, fmt.Errorf("delete good %s: %w", r.Code, err)
			}
			// The ledger forgets what Checkbox had: should the good come back, it is sent again.
			if err := c.Store.ForgetPushed(ctx, r.Code); err != nil {
				return nil, fmt.Errorf("record deletion of %s: %w", r.Code, err)
			}
		}
		rep.Missing = append(rep.Missing, fmt.Sprintf("%s «%s»", r.Code, r.Name))
	}
	return hide, nil
}

// unzipDrop unpacks every .zip of a claimed drop folder in place (1C sends one archive when zip is on,
// commerceml.md §6.3), with safezip's limits on entry count and sizes. The XML files of the archive come to
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
			switch zipRefusal(err) {
			case "":
				return nil, fmt.Errorf("unzip %s: %w", e.Name(), err)
			case reasonZipBroken:
				return nil, &InputError{Err: fmt.Errorf("%s is not a readable zip archive: %w", e.Name(), err)}
			}
			return nil, &InputError{Err: fmt.Errorf("%s: %w", e.Name(), err)}
		}
		for _, rel := range files {
			base, joins := zipEntryTarget(rel)
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
func (c *Catalog) priceOf(s *staged, priceType string, rec spool.GoodRecord) (int64, bool, error) {
	if o := s.feed; o != nil {
		if o.Price == nil {
			return 0, false, nil
		}
		if !inHryvnia(o.Currency) {
			return 0, false, fmt.Errorf("ціна %s у %s, а ціни Checkbox — у гривнях", o.Price, o.Currency)
		}
		k, err := Kopecks(*o.Price)
		return k, err == nil, err
	}
	for _, p := range s.prices {
		if p.TypeID != priceType {
			continue
		}
		if !perBaseUnit(p.Factor) {
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
func (c *Catalog) push(ctx context.Context, plans []plan, rep *DropReport) error {
	var todo, renamed []int
	for i, p := range plans {
		switch {
		case p.hash == p.rec.PushedHash && p.rec.CheckboxID != "":
			rep.Unchanged++
		case p.rec.OldCode != "" && p.rec.CheckboxID != "":
			// A new code for a good Checkbox has: only PUT /api/v1/goods/{id} changes it in place; an import
			// row with the new code would make a second good.
			renamed = append(renamed, i)
		default:
			todo = append(todo, i)
		}
	}
	if c.bulkOn(len(todo)) {
		var err error
		if todo, err = c.pushBulk(ctx, plans, todo, rep); err != nil {
			sort.Strings(rep.Rejected)
			return err
		}
	}
	todo = append(todo, renamed...)
	workers := max(c.Workers, 1)
	jobs := make(chan int)
	var mu sync.Mutex
	var firstErr error
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				_, created, err := c.pushOne(ctx, &plans[i])
				mu.Lock()
				switch {
				case err == nil && created:
					rep.Created++
				case err == nil:
					rep.Updated++
				case isRejection(err):
					rep.Rejected = append(rep.Rejected, fmt.Sprintf("%s «%s»: %v", plans[i].payload.Code, plans[i].payload.Name, err))
				case firstErr == nil:
					firstErr = err
				}
				mu.Unlock()
			}
		}()
	}
	for _, i := range todo {
		mu.Lock()
		stop := firstErr != nil
		mu.Unlock()
		if stop || ctx.Err() != nil {
			break
		}
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	sort.Strings(rep.Rejected)
	if firstErr != nil {
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
	id := p.rec.CheckboxID
	if id == "" {
		// Goods creation takes no client id (checkbox-api.md §9): look the code up first, so a good made by
		// hand in Checkbox, or one created just before a crash, is updated rather than duplicated.
		found, err := c.API.GoodByCode(ctx, p.payload.Code)
		switch {
		case err == nil:
			id = found.ID
		case errors.Is(err, checkbox.ErrNotFound):
		default:
			return g, false, fmt.Errorf("look up good %s: %w", p.payload.Code, err)
		}
	}
	if id != "" {
		g, err = c.API.UpdateGood(ctx, id, p.payload)
		if errors.Is(err, checkbox.ErrNotFound) {
			id = "" // deleted in Checkbox by hand: create it again
		} else if err != nil {
			return g, false, fmt.Errorf("update good %s: %w", p.payload.Code, err)
		}
	}
	if id == "" {
		g, err = c.API.CreateGood(ctx, p.payload)
		if err != nil {
			return g, false, fmt.Errorf("create good %s: %w", p.payload.Code, err)
		}
		created = true
	}
	p.rec.CheckboxID = g.ID
	p.rec.PushedHash = p.hash
	p.rec.PushedPrice = p.payload.Price
	p.rec.PushedPayload, _ = json.Marshal(p.payload)
	p.rec.PushedAt = c.now()
	if err := c.Store.PutGoods(ctx, []spool.GoodRecord{p.rec}); err != nil {
		return g, created, fmt.Errorf("record good %s: %w", p.payload.Code, err)
	}
	return g, created, nil
}

// pushStock sends stock through Checkbox's goods import, the only documented way to set it
// (checkbox-api.md §5): the JSON file's "leftovers" in pieces (a decimal), with auto_supply so goods without
// a supply get one. An import row rewrites the whole good, and what it does to a field left empty is not
// documented, so every other column is filled from what Checkbox holds right now: the import changes stock
// and nothing else.
//
// A good's stock is sent when BAS's figure differs from what obmin last sent, and also when it differs from
// what Checkbox holds now: every sale at the till moves Checkbox's count (§6), so "unchanged in BAS" does
// not mean "right in Checkbox" (BAS may have taken in as many as were sold). BAS is the master of stock:
// until it has loaded the sales, its figure overrides Checkbox's for a while, then its next export corrects
// it (found by the torture harness).
func (c *Catalog) pushStock(ctx context.Context, plans []plan, rep *DropReport) error {
	candidates := map[string]*plan{}
	for i := range plans {
		p := &plans[i]
		if p.stock == nil || p.rec.CheckboxID == "" {
			continue
		}
		candidates[p.payload.Code] = p
	}
	if len(candidates) == 0 {
		return nil
	}
	var file checkbox.ImportFile
	var sent []*plan
	err := c.API.AllGoods(ctx, func(g checkbox.Good) error {
		p, ok := candidates[g.Code]
		if !ok {
			return nil
		}
		sentBefore := p.rec.PushedStock != nil && *p.rec.PushedStock == *p.stock
		if sentBefore && countIs(g.Count, *p.stock) {
			return nil
		}
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
		left := Quantity(*p.stock)
		file.Goods = append(file.Goods, checkbox.ImportGood{
			Name: g.Name, Code: g.Code, Barcode: g.Barcode, Barcodes: barcodes, Price: UAH(g.Price).StringFixed(2),
			IsWeight: g.IsWeight, Type: g.Type, Taxes: strings.Join(letters, " "), Uktzed: g.Uktzed, Leftovers: &left,
		})
		sent = append(sent, p)
		return nil
	})
	if err != nil {
		return fmt.Errorf("read goods for the stock import: %w", err)
	}
	if len(sent) == 0 {
		return nil
	}
	// In files of BulkBatch rows, each recorded as soon as Checkbox applied it.
	for start := 0; start < len(sent); start += c.bulkBatch() {
		end := min(start+c.bulkBatch(), len(sent))
		part := checkbox.ImportFile{Goods: file.Goods[start:end]}
		if _, err := c.API.ImportGoods(ctx, part, checkbox.ImportOptions{AutoSupply: true, PollInterval: c.ImportPoll}); err != nil {
			return fmt.Errorf("stock import of %d goods: %w", end-start, err)
		}
		recs := make([]spool.GoodRecord, 0, end-start)
		for _, p := range sent[start:end] {
			p.rec.PushedStock = p.stock
			recs = append(recs, p.rec)
		}
		if err := c.Store.PutGoods(ctx, recs); err != nil {
			return fmt.Errorf("record stock: %w", err)
		}
		rep.StockSent += end - start
	}
	return nil
}

func (c *Catalog) logger() *logrus.Entry {
	if c.Log != nil {
		return c.Log
	}
	l := logrus.New()
	l.SetOutput(io.Discard)
	return logrus.NewEntry(l)
}

// countIs says whether Checkbox's count of a good is the stock obmin means (thousandths). The unit of
// GoodModel.count is not documented (checkbox-api.md §2, §12.5): thousandths or pieces are both taken as
// a match, so an unknown unit costs no import on every drop. No count at all is taken as a match too: then
// only BAS's own changes are sent.
func countIs(count *int64, thousandths int64) bool {
	if count == nil {
		return true
	}
	return *count == thousandths || thousandths%1000 == 0 && *count == thousandths/1000
}

func (c *Catalog) now() time.Time {
	if c.Now != nil {
		return c.Now()
	}
	return time.Now()
}
