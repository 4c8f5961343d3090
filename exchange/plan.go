package exchange

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"obmin/commerceml"
	"obmin/spool"
)

// planned is what a drop asks of Checkbox and of the ledger.
type planned struct {
	plans []plan             // goods to send (unless unchanged)
	keep  []spool.GoodRecord // every good's record, sent or not, renamed where its code changed
	// What the drop lists, whether or not it is sent: the codes of keep, BAS Ид (products whose
	// characteristics are sold included) and feed rows (by source and offer id).
	codes, basIDs, feedRows map[string]bool
}

// listed says whether the drop lists the good of record r: by code, by BAS Ид (a variant counts while its
// product is listed), or as a feed's offer.
func (pd planned) listed(r spool.GoodRecord) bool {
	if pd.codes[r.Code] || pd.basIDs[r.BASID] || pd.feedRows[r.Source+"\x00"+r.SourceKey] {
		return true
	}
	p, _, ok := commerceml.Variant(r.BASID)
	return ok && pd.basIDs[p]
}

// planner decides, good by good, what Checkbox should hold and whether that differs from the ledger. It
// owns the rules of codes: a code is one good's; BAS wins over every feed for a code it exports; a good's
// record is found by where it comes from (BAS's Ид, a feed's name and offer id), so that a changed code
// (a new Артикул, another variant scheme) changes the good in Checkbox in place rather than making a
// second one.
type planner struct {
	c         *Catalog
	goods     map[string]*staged
	priceType string
	rep       *DropReport
	now       time.Time
	pd        planned
	owner     map[string]string // code → who in this drop has it, for messages
	basCode   map[string]bool   // codes BAS goods of this drop have
}

// plan decides, for every staged good, what Checkbox should hold and whether that differs from the ledger.
// BAS's goods come first, in Ид order, then each feed's rows in file order: for a code BAS exports, BAS
// wins, and among feeds the first keeps it.
func (c *Catalog) plan(ctx context.Context, goods map[string]*staged, priceType string, rep *DropReport) (planned, error) {
	pl := &planner{c: c, goods: goods, priceType: priceType, rep: rep, now: c.now(),
		pd:    planned{codes: map[string]bool{}, basIDs: map[string]bool{}, feedRows: map[string]bool{}},
		owner: map[string]string{}, basCode: map[string]bool{}}
	var ids []string
	for id, s := range goods {
		if s.feed == nil {
			ids = append(ids, id)
		}
	}
	sort.Strings(ids)
	for _, id := range ids {
		if err := pl.basGood(ctx, goods[id]); err != nil {
			return planned{}, err
		}
	}
	for _, k := range sortedFeedKeys(goods) {
		if err := pl.feedRow(ctx, goods[k]); err != nil {
			return planned{}, err
		}
	}
	rep.Held = len(rep.NoPrice) + len(rep.NoCode) + len(rep.Refused) + len(rep.FeedBehindBAS)
	return pl.pd, nil
}

// where names a staged good's place in the drop: "offers.xml, рядок 12".
func (s *staged) where() string {
	if s.file == "" {
		return "з обліку obmin" // known from the ledger only (a prices-and-stock drop)
	}
	return fmt.Sprintf("%s, рядок %d", s.file, s.line)
}

func (pl *planner) refuse(format string, a ...any) {
	pl.rep.Refused = append(pl.rep.Refused, fmt.Sprintf(format, a...))
}

// checkBarcodes keeps a good's valid barcodes and reports the others.
func (pl *planner) checkBarcodes(s *staged) {
	if s.feed == nil {
		s.barcodes, s.badBarcodes = splitBarcodes(s.good.Barcodes)
	}
	for _, b := range s.badBarcodes {
		pl.rep.BadBarcodes = append(pl.rep.BadBarcodes, fmt.Sprintf("«%s» (%s): штрихкод %s", s.good.Name, s.where(), b))
	}
	s.good.Barcodes = s.barcodes
}

// basGood plans one good BAS exported.
func (pl *planner) basGood(ctx context.Context, s *staged) error {
	g := &s.good
	if g.ID != "" {
		pl.pd.basIDs[g.ID] = true
	}
	if s.variants > 0 {
		// Its characteristics carry the prices: each is a good of its own, the product is not sent.
		pl.rep.Variants = append(pl.rep.Variants, fmt.Sprintf("«%s» (Ид %s): варіантів у вивантаженні %d", g.Name, g.ID, s.variants))
		return nil
	}
	pl.checkBarcodes(s)
	code := pl.c.Mapping.Code(*g)
	if s.product != "" {
		code = pl.c.Mapping.VariantCodeOf(*g)
		g.Name = variantName(s)
	}
	if code == "" {
		pl.rep.NoCode = append(pl.rep.NoCode, fmt.Sprintf("«%s» (Ид %s, %s)", g.Name, g.ID, s.where()))
		return nil
	}
	if !pl.claim(code, s) {
		return nil
	}
	pl.basCode[code] = true
	rec, refusal, err := pl.basRecord(ctx, s, code)
	if err != nil {
		return err
	}
	if refusal != "" {
		pl.keep(rec)
		pl.refuse("«%s» (Ид %s, %s): %s", g.Name, g.ID, s.where(), refusal)
		return nil
	}
	return pl.good(ctx, s, rec)
}

// claim gives code to s unless it is too long or another good of the drop has it; it reports why not.
func (pl *planner) claim(code string, s *staged) bool {
	who := fmt.Sprintf("«%s» (%s)", s.good.Name, s.where())
	if len(code) > MaxCode {
		pl.refuse("%s: код %q довший за %d символів (межа Checkbox)", who, code, MaxCode)
		return false
	}
	if other, taken := pl.owner[code]; taken {
		if s.feed != nil && pl.basCode[code] {
			pl.behindBAS(s, code, other)
			return false
		}
		pl.refuse("%s: код %q уже має %s у цьому вивантаженні", who, code, other)
		return false
	}
	pl.owner[code] = who
	return true
}

func (pl *planner) behindBAS(s *staged, code, bas string) {
	pl.rep.FeedBehindBAS = append(pl.rep.FeedBehindBAS, fmt.Sprintf("пропозиція %s «%s» (%s), код %q: цей товар вивантажує BAS (%s)",
		s.feed.ID, s.good.Name, s.where(), code, bas))
}

// basRecord finds the ledger's record of a BAS good by its Ид and gives it code: a good whose code
// changed (its Артикул, or mapping.variant_code) keeps its record, and with it its Checkbox good, under
// the new code. A good the ledger does not know yet takes over the record of its code, if any: made from a
// feed, or by a good that had this Артикул before. refusal says why the code cannot change now.
func (pl *planner) basRecord(ctx context.Context, s *staged, code string) (rec spool.GoodRecord, refusal string, err error) {
	st := pl.c.Store
	g := s.good
	rec, ok, err := st.GoodByBASID(ctx, g.ID)
	if err != nil {
		return rec, "", fmt.Errorf("ledger: %w", err)
	}
	if ok && rec.Code != code {
		holder, held, err := st.GoodWithCode(ctx, code)
		switch {
		case err != nil:
			return rec, "", fmt.Errorf("ledger: %w", err)
		case held && holder.BASID == g.ID:
			rec = holder // a record an earlier Артикул left behind
		case held:
			return rec, fmt.Sprintf("новий код %q уже має «%s» (%s); товар лишається з кодом %q", code, holder.Name, holderName(holder), rec.Code), nil
		default:
			rec.OldCode = rec.Code
		}
	} else if !ok {
		if rec, _, err = st.GoodWithCode(ctx, code); err != nil {
			return rec, "", fmt.Errorf("ledger: %w", err)
		}
	}
	rec.Code = code
	rec.BASID, rec.Article, rec.Name, rec.Deleted = g.ID, g.Article, g.Name, g.Deleted
	rec.UnitCode, rec.UnitName, rec.UnitFullName, rec.UnitIntl = g.Unit.Code, g.Unit.Name, g.Unit.FullName, g.Unit.Intl
	rec.Source, rec.SourceKey = "", ""
	return rec, "", nil
}

// holderName says where the good holding a code comes from.
func holderName(r spool.GoodRecord) string {
	switch {
	case r.BASID != "":
		return "BAS, Ид " + r.BASID
	case r.Source != "":
		return fmt.Sprintf("фід %s, пропозиція %s", r.Source, r.SourceKey)
	}
	return "фід"
}

// feedRow plans one row of a marketplace feed.
func (pl *planner) feedRow(ctx context.Context, s *staged) error {
	o := s.feed
	pl.pd.feedRows[s.source+"\x00"+o.ID] = true
	if s.dupOf != nil {
		pl.refuse("пропозиція %s «%s» (%s): код %q має й рядок %d, і це не варіант того самого товару (той самий group_id або різні param); узято перший рядок",
			o.ID, s.good.Name, s.where(), s.code, s.dupOf.feed.Line)
		return nil
	}
	pl.checkBarcodes(s)
	code := s.code
	if code == "" {
		pl.rep.NoCode = append(pl.rep.NoCode, fmt.Sprintf("пропозиція %s «%s» (%s): немає поля, з якого фід %s бере код", o.ID, s.good.Name, s.where(), s.source))
		return nil
	}
	if !pl.claim(code, s) {
		return nil
	}
	st := pl.c.Store
	rec, ok, err := st.GoodBySource(ctx, s.source, o.ID)
	if err != nil {
		return fmt.Errorf("ledger: %w", err)
	}
	if !ok || rec.Code != code {
		holder, held, err := st.GoodWithCode(ctx, code)
		switch {
		case err != nil:
			return fmt.Errorf("ledger: %w", err)
		case held && holder.BASID != "":
			pl.behindBAS(s, code, fmt.Sprintf("«%s», Ид %s", holder.Name, holder.BASID))
			return nil
		case held && holder.Source != "" && holder.Source != s.source:
			pl.refuse("пропозиція %s «%s» (%s): код %q уже має товар з фіду %s (пропозиція %s)", o.ID, s.good.Name, s.where(), code, holder.Source, holder.SourceKey)
			return nil
		case held:
			rec = holder // a good this feed made under another id, or before feeds had names
		case ok:
			rec.OldCode = rec.Code
		}
	}
	rec.Code = code
	rec.BASID, rec.Article, rec.Name, rec.Deleted = "", o.VendorCode, s.good.Name, false
	rec.UnitCode, rec.UnitName, rec.UnitFullName, rec.UnitIntl = "", "", "", ""
	rec.Source, rec.SourceKey = s.source, o.ID
	return pl.good(ctx, s, rec)
}

func (pl *planner) keep(rec spool.GoodRecord) {
	rec.UpdatedAt = pl.now
	pl.pd.keep = append(pl.pd.keep, rec)
	pl.pd.codes[rec.Code] = true
}

// good plans a good whose record and code are settled: its price, payload and stock.
func (pl *planner) good(ctx context.Context, s *staged, rec spool.GoodRecord) error {
	g := s.good
	pl.keep(rec)
	who := fmt.Sprintf("%s «%s»", rec.Code, g.Name)
	if g.Deleted {
		pl.rep.Deleted = append(pl.rep.Deleted, who)
		return nil
	}
	price, ok, err := pl.c.priceOf(s, pl.priceType, rec)
	if err != nil {
		pl.refuse("%s (%s): %v", who, s.where(), err)
		return nil
	}
	if !ok {
		if s.product == "" && s.feed == nil && !s.offer {
			// A catalogue without offers: a product sold as characteristics has no price of its own.
			has, err := pl.c.Store.HasVariants(ctx, g.ID)
			if err != nil {
				return fmt.Errorf("ledger: %w", err)
			}
			if has {
				pl.rep.Variants = append(pl.rep.Variants, fmt.Sprintf("«%s» (Ид %s): продається як варіанти", g.Name, g.ID))
				return nil
			}
		}
		pl.rep.NoPrice = append(pl.rep.NoPrice, who)
		return nil
	}
	p := pl.c.payload(g, rec.Code, price)
	if s.base != nil {
		// Known only from the state: keep barcodes, taxes and kind as the catalogue gave them.
		p = *s.base
		p.Price = price
		p.Code = rec.Code
	}
	pln := plan{rec: rec, payload: p, hash: payloadHash(p)}
	if s.stock != nil {
		t := Thousandths(*s.stock)
		if t < 0 {
			t = 0 // negative BAS stock (commerceml.md §3.2) is "none left" for a till
		}
		pln.stock = &t
	}
	pl.pd.plans = append(pl.pd.plans, pln)
	return nil
}

// variantName is what a cashier reads for a BAS variant: the product's name and the values of its
// characteristic ("Енеїда (тверда)"); without values, BAS's own name of the offer, which 1C:УНФ writes
// as "product (characteristic)"; else the product's name with the characteristic's name.
func variantName(s *staged) string {
	product := s.productName
	if product == "" {
		return s.good.Name
	}
	var vals, names []string
	for _, c := range s.chars {
		if c.Value != "" {
			vals = append(vals, c.Value)
		} else if c.Name != "" {
			names = append(names, c.Name)
		}
	}
	switch {
	case len(vals) > 0:
		return withValues(product, vals)
	case s.good.Name != "" && s.good.Name != product:
		return s.good.Name
	case len(names) > 0:
		return product + " (" + strings.Join(names, ", ") + ")"
	}
	return product
}
