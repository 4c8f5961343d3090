package exchange

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sync"

	"github.com/shopspring/decimal"
	"golang.org/x/sync/errgroup"

	"obmin/checkbox"
	"obmin/commerceml"
	"obmin/feed"
	"obmin/internal/ctxio"
	"obmin/store"
)

// A drop is staged, not held: every good and offer its files describe goes into the drop's store.Stage as
// it is read, and the plan and the push walk the Stage a chunk at a time. Memory holds a chunk, whatever
// the size of the catalogue (docs/performance.md, "Memory").

// stagedData is a staged good as the Stage keeps it (JSON); staged is the same in memory.
type stagedData struct {
	Good        commerceml.Good             `json:"good"`
	Base        *checkbox.GoodPayload       `json:"base,omitempty"`
	Prices      []commerceml.Price          `json:"prices,omitempty"`
	Stock       *decimal.Decimal            `json:"stock,omitempty"`
	Offer       bool                        `json:"offer,omitempty"`
	File        string                      `json:"file,omitempty"`
	Line        int                         `json:"line,omitempty"`
	Product     string                      `json:"product,omitempty"`
	ProductName string                      `json:"product_name,omitempty"`
	Chars       []commerceml.Characteristic `json:"chars,omitempty"`
	Feed        *feed.Offer                 `json:"feed,omitempty"`
	Source      string                      `json:"source,omitempty"`
	Code        string                      `json:"code,omitempty"`
	Variant     bool                        `json:"variant,omitempty"`
	DupLine     int                         `json:"dup_line,omitempty"`
	Barcodes    []string                    `json:"barcodes,omitempty"`
	BadBarcodes []string                    `json:"bad_barcodes,omitempty"`
}

// stageRow encodes s for the Stage under key.
func stageRow(key string, s *staged) (store.StagedGood, error) {
	d := stagedData{
		Good: s.good, Base: s.base, Prices: s.prices, Stock: s.stock, Offer: s.offer, File: s.file, Line: s.line,
		Product: s.product, ProductName: s.productName, Chars: s.chars, Feed: s.feed, Source: s.source, Code: s.code,
		Variant: s.variant, DupLine: s.dupLine, Barcodes: s.barcodes, BadBarcodes: s.badBarcodes,
	}
	data, err := json.Marshal(d)
	if err != nil {
		return store.StagedGood{}, fmt.Errorf("stage good %s: %w", key, err)
	}
	g := store.StagedGood{Key: key, Product: s.product, Source: s.source, Code: s.code, Variant: s.variant, Data: data}
	if s.feed != nil {
		g.Line, g.Group = s.feed.Line, s.feed.GroupID
	}
	return g, nil
}

// unstage decodes a staged good.
func unstage(g store.StagedGood) (*staged, error) {
	var d stagedData
	if err := json.Unmarshal(g.Data, &d); err != nil {
		return nil, fmt.Errorf("staged good %s: %w", g.Key, err)
	}
	return &staged{
		good: d.Good, base: d.Base, prices: d.Prices, stock: d.Stock, offer: d.Offer, file: d.File, line: d.Line,
		product: d.Product, productName: d.ProductName, chars: d.Chars, feed: d.Feed, source: d.Source, code: d.Code,
		variant: d.Variant, dupLine: d.DupLine, barcodes: d.Barcodes, badBarcodes: d.BadBarcodes,
	}, nil
}

// stagedOffer is an offer as the Stage keeps it: the offer and the file it is in.
type stagedOffer struct {
	Offer commerceml.Offer `json:"offer"`
	File  string           `json:"file"`
}

// readDrop parses every catalogue and offers file of a drop into st. Offers are joined to their goods by Ид
// when the goods are planned (withOffers); an offer of a good the drop does not describe is staged here
// (stageOrphans).
func (c *Catalog) readDrop(ctx context.Context, dir string, df dropFiles, st *store.Stage, rep *DropReport) ([]commerceml.PriceType, error) {
	var mu sync.Mutex // over types
	var types []commerceml.PriceType
	read := func(name string, h commerceml.Handler) (FileReport, error) {
		f, err := os.Open(filepath.Join(dir, name))
		if err != nil {
			return FileReport{}, fmt.Errorf("open %s: %w", name, err)
		}
		defer f.Close()
		h.PriceType = func(pt commerceml.PriceType) error {
			mu.Lock()
			defer mu.Unlock()
			types = append(types, pt)
			return nil
		}
		sum, err := commerceml.Read(ctxio.Reader(ctx, f), name, h)
		if err != nil {
			return FileReport{}, badInput(err)
		}
		return FileReport{Name: name, Summary: sum}, nil
	}
	// Catalogue files and offers files are read side by side, and what they hold is encoded and staged by
	// a third goroutine: parsing is the slow part, and the catalogue the longer file. Each kind is read in
	// BAS's order and staged in the order read, so a later file still wins.
	type item struct {
		good  *staged
		offer *commerceml.Offer
		file  string
	}
	items := make(chan item, 128)
	g, gctx := errgroup.WithContext(ctx)
	put := func(it item) error {
		select {
		case items <- it:
			return nil
		case <-gctx.Done():
			return gctx.Err()
		}
	}
	var parsers sync.WaitGroup
	parse := func(fn func() error) {
		parsers.Add(1)
		g.Go(func() error {
			defer parsers.Done()
			return fn()
		})
	}
	var catalog, offers []FileReport
	parse(func() error {
		for _, name := range df.Catalog {
			if df.feeds[name] {
				fr, err := c.readFeed(gctx, dir, name, st, rep)
				if err != nil {
					return err
				}
				catalog = append(catalog, fr)
				continue
			}
			fr, err := read(name, commerceml.Handler{Good: func(g commerceml.Good) error {
				s := &staged{good: g, file: name, line: g.Line, chars: g.Characteristics}
				if p, _, ok := commerceml.Variant(g.ID); ok {
					s.product = p // a 2.04-style catalogue lists variants as goods of their own
				}
				return put(item{good: s})
			}})
			if err != nil {
				return err
			}
			catalog = append(catalog, fr)
		}
		return nil
	})
	parse(func() error {
		for _, name := range df.Offers {
			fr, err := read(name, commerceml.Handler{Offer: func(o commerceml.Offer) error {
				return put(item{offer: &o, file: name})
			}})
			if err != nil {
				return err
			}
			offers = append(offers, fr)
		}
		return nil
	})
	go func() {
		parsers.Wait()
		close(items)
	}()
	g.Go(func() error {
		for it := range items {
			if err := c.stage(gctx, st, it.good, it.offer, it.file); err != nil {
				return err // the parsers stop at their next item (gctx)
			}
		}
		return nil
	})
	if err := g.Wait(); err != nil {
		return nil, err
	}
	rep.Files = append(append(rep.Files, catalog...), offers...)
	if err := c.stageOrphans(ctx, st, rep); err != nil {
		return nil, err
	}
	return types, nil
}

// stage encodes a good of the catalogue (s) or an offer (o, of file) into st.
func (c *Catalog) stage(ctx context.Context, st *store.Stage, s *staged, o *commerceml.Offer, file string) error {
	if s != nil {
		row, err := stageRow(s.good.ID, s)
		if err != nil {
			return err
		}
		row.Code = c.codeOf(s)
		_, err = st.PutGood(ctx, row, true) // a later file describes the good again: it wins
		return err
	}
	data, err := json.Marshal(stagedOffer{Offer: *o, File: file})
	if err != nil {
		return fmt.Errorf("stage offer %s: %w", o.ID, err)
	}
	return st.AddOffer(ctx, o.ID, data)
}

// stageOrphans stages the good of each offer whose good the drop's catalogue does not describe: a variant
// (guid#guid) of a good in it, or a good the ledger knows when the drop carries offers only (BAS's "prices
// and stock only" export, docs/commerceml.md §1.5). An offer of a good obmin has never seen is reported.
func (c *Catalog) stageOrphans(ctx context.Context, st *store.Stage, rep *DropReport) error {
	return st.OrphanOffers(ctx, func(key string, first []byte) error {
		var so stagedOffer
		if err := json.Unmarshal(first, &so); err != nil {
			return fmt.Errorf("staged offer %s: %w", key, err)
		}
		s, err := c.orphanGood(ctx, st, so.Offer)
		if err != nil || s == nil {
			if err == nil {
				rep.UnknownOffr = append(rep.UnknownOffr, key)
			}
			return err
		}
		row, err := stageRow(key, s)
		if err == nil {
			row.Code = c.codeOf(s)
			_, err = st.PutGood(ctx, row, false)
		}
		return err
	})
}

// codeOf is what basGood makes a BAS good's code: goods are planned in code order, so that the ledger,
// keyed by code, is written in order (far fewer pages than in the order of BAS's Ид). A contested code
// still goes to the good with the lowest Ид, as the goods sharing it are planned in Ид order.
func (c *Catalog) codeOf(s *staged) string {
	g := s.good
	g.Barcodes, _ = splitBarcodes(g.Barcodes)
	if s.product != "" {
		return c.Mapping.VariantCodeOf(g)
	}
	return c.Mapping.Code(g)
}

// orphanGood makes the staged good of offer o, whose good the catalogue of the drop does not describe;
// nil when obmin has never seen it.
func (c *Catalog) orphanGood(ctx context.Context, st *store.Stage, o commerceml.Offer) (*staged, error) {
	if base, _, ok := commerceml.Variant(o.ID); ok {
		row, found, err := st.Good(ctx, base)
		if err != nil {
			return nil, err
		}
		if found {
			p, err := unstage(row)
			if err != nil {
				return nil, err
			}
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
			return &staged{good: g, product: base, productName: p.good.Name}, nil
		}
	}
	rec, ok, err := c.Store.GoodByBASID(ctx, o.ID)
	if err != nil || !ok {
		return nil, err
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
	return s, nil
}

// withOffers decodes a staged good and applies its offers in the order the drop gave them: a later file
// (prices*.xml after offers*.xml) wins for what it carries.
func (c *Catalog) withOffers(g store.StagedGood, offers [][]byte) (*staged, error) {
	s, err := unstage(g)
	if err != nil {
		return nil, err
	}
	for _, data := range offers {
		var so stagedOffer
		if err := json.Unmarshal(data, &so); err != nil {
			return nil, fmt.Errorf("staged offer %s: %w", g.Key, err)
		}
		o := so.Offer
		s.offer = true
		s.file, s.line = so.File, o.Line
		if len(o.Characteristics) > 0 {
			s.chars = o.Characteristics
		}
		if len(o.Prices) > 0 {
			s.prices = o.Prices
		}
		if q := c.stockOf(o); q != nil {
			s.stock = q
		}
		if o.Deleted {
			s.good.Deleted = true
		}
	}
	return s, nil
}
