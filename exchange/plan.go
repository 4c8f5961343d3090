package exchange

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"obmin/checkbox"
	"obmin/store"
)

// Plan kinds in the drop's Stage: what is to happen to each good the drop describes.
const (
	planKeep      = iota // only recorded: nothing to send (no price, deleted, refused, sold as variants)
	planUnchanged        // Checkbox has it as the drop describes it
	planTodo             // to send
	planRenamed          // to send by its Checkbox id: its code changed (PUT, never an import row)
	planPerItem          // to send one by one: the goods import could not place it
	planSent             // sent by the goods import
	planHide             // not listed by a full package any more: its stock goes to 0 (mapping.missing hide)
)

// planData is a plan as the Stage keeps it (JSON).
type planData struct {
	Rec     store.GoodRecord      `json:"rec"`
	Payload *checkbox.GoodPayload `json:"payload,omitempty"`
	Hash    string                `json:"hash,omitempty"`
}

// stagePlan adds p to the stage under kind and returns its id.
func stagePlan(ctx context.Context, st *store.Stage, p plan, kind int) (int64, error) {
	d := planData{Rec: p.rec, Hash: p.hash}
	if kind != planKeep {
		d.Payload = &p.payload
	}
	data, err := json.Marshal(d)
	if err != nil {
		return 0, fmt.Errorf("stage plan %s: %w", p.rec.Code, err)
	}
	return st.AddPlan(ctx, store.StagedPlan{Code: p.rec.Code, Kind: kind, Stock: p.stock, Data: data})
}

// unstagePlan decodes a staged plan.
func unstagePlan(sp store.StagedPlan) (plan, error) {
	var d planData
	if err := json.Unmarshal(sp.Data, &d); err != nil {
		return plan{}, fmt.Errorf("staged plan %s: %w", sp.Code, err)
	}
	p := plan{id: sp.ID, kind: sp.Kind, rec: d.Rec, hash: d.Hash, stock: sp.Stock}
	if d.Payload != nil {
		p.payload = *d.Payload
	}
	return p, nil
}

// planKind says what is to happen to a good with this plan: nothing when Checkbox has it already (even
// where the ledger does not know its id yet: an import applied before a crash, learnIDs finds it), by id
// when its code changed, else it is sent.
func planKind(p plan) int {
	switch {
	case p.hash == p.rec.PushedHash && p.rec.PushedHash != "":
		return planUnchanged
	case p.rec.OldCode != "" && (p.rec.CheckboxID != "" || p.rec.PushedHash != ""):
		// A new code for a good Checkbox has: only PUT /api/v1/goods/{id} changes it in place; an import
		// row with the new code would make a second good.
		return planRenamed
	}
	return planTodo
}

// planner decides, good by good, what Checkbox should hold and whether that differs from the ledger. It
// owns the rules of codes: a code is one good's; BAS wins over every feed for a code it exports; a good's
// record is found by where it comes from (BAS's Ид, a feed's name and offer id), so that a changed code
// (a new Артикул, another variant scheme) changes the good in Checkbox in place rather than making a
// second one. What it decides goes to the drop's Stage, a plan per good.
type planner struct {
	c         *Catalog
	st        *store.Stage
	priceType string
	rep       *DropReport
	now       time.Time
	products  map[string]int // product Ид → its variants in the drop
	last      *staged        // the BAS good planned last: a variant's product comes just before it
	ledger    ledgerView
	bulk      *bulkPusher        // takes each plan to send
	recs      []store.GoodRecord // BAS's descriptions not yet in the ledger
	renames   []store.GoodRecord // and those of goods whose code changes
	// The code BAS's good planned last claimed, and who that is (claim).
	lastCode, lastWho string
}

// ledgerView is the ledger as the planner reads it, good by good, made cheap for a catalogue: nothing is
// written to the ledger while a drop is planned, so an empty ledger answers nothing without asking, and
// the records of a chunk of goods are read by their Ид at once.
type ledgerView struct {
	store   GoodsStore
	empty   bool
	byBASID map[string]store.GoodRecord // the chunk's goods the ledger knows
	chunk   map[string]bool             // the Ид of the chunk
}

// prefetch reads the records of a chunk of BAS goods.
func (v *ledgerView) prefetch(ctx context.Context, ids []string) error {
	v.byBASID, v.chunk = nil, nil
	if v.empty {
		return nil
	}
	recs, err := v.store.GoodsByBASIDs(ctx, ids)
	if err != nil {
		return fmt.Errorf("ledger: %w", err)
	}
	v.byBASID, v.chunk = recs, make(map[string]bool, len(ids))
	for _, id := range ids {
		v.chunk[id] = true
	}
	return nil
}

func (v *ledgerView) GoodByBASID(ctx context.Context, id string) (store.GoodRecord, bool, error) {
	if v.empty {
		return store.GoodRecord{}, false, nil
	}
	if v.chunk[id] {
		r, ok := v.byBASID[id]
		return r, ok, nil
	}
	return v.store.GoodByBASID(ctx, id)
}

func (v *ledgerView) GoodWithCode(ctx context.Context, code string) (store.GoodRecord, bool, error) {
	if v.empty {
		return store.GoodRecord{}, false, nil
	}
	return v.store.GoodWithCode(ctx, code)
}

func (v *ledgerView) GoodBySource(ctx context.Context, source, key string) (store.GoodRecord, bool, error) {
	if v.empty {
		return store.GoodRecord{}, false, nil
	}
	return v.store.GoodBySource(ctx, source, key)
}

func (v *ledgerView) HasVariants(ctx context.Context, basID string) (bool, error) {
	if v.empty {
		return false, nil
	}
	return v.store.HasVariants(ctx, basID)
}

// plan decides, for every staged good, what Checkbox should hold and whether that differs from the ledger.
// BAS's goods come first, by code and Ид (codeOf), then each feed's rows in file order: for a code BAS
// exports, BAS wins, among BAS's goods the lowest Ид, and among feeds the first keeps it.
func (c *Catalog) plan(ctx context.Context, st *store.Stage, priceType string, rep *DropReport, bulk *bulkPusher) error {
	products, err := st.Products(ctx)
	if err != nil {
		return err
	}
	total, _, err := c.Store.CountGoods(ctx)
	if err != nil {
		return err
	}
	pl := &planner{c: c, st: st, priceType: priceType, rep: rep, now: c.now(), products: products,
		ledger: ledgerView{store: c.Store, empty: total == 0}, bulk: bulk}
	err = st.EachGood(ctx, false, func(goods []store.StagedGood, offers map[string][][]byte) error {
		ids := make([]string, len(goods))
		for i, g := range goods {
			ids[i] = g.Key
		}
		if err := pl.ledger.prefetch(ctx, ids); err != nil {
			return err
		}
		for _, g := range goods {
			rep.Goods++
			s, err := c.withOffers(g, offers[g.Key])
			if err != nil {
				return err
			}
			s.variants = pl.products[s.good.ID]
			if s.product != "" && s.productName == "" {
				if s.productName, err = pl.productName(ctx, s.product); err != nil {
					return err
				}
			}
			if err := pl.basGood(ctx, s); err != nil {
				return err
			}
			pl.last = s
		}
		return nil
	})
	if err != nil {
		return err
	}
	pl.ledger.byBASID, pl.ledger.chunk = nil, nil
	err = st.EachGood(ctx, true, func(goods []store.StagedGood, _ map[string][][]byte) error {
		for _, g := range goods {
			rep.Goods++
			s, err := unstage(g)
			if err != nil {
				return err
			}
			if err := pl.feedRow(ctx, s); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	pl.recs = append(pl.recs, pl.renames...)
	if err := pl.flush(ctx); err != nil {
		return err
	}
	rep.Held = len(rep.NoPrice) + len(rep.NoCode) + len(rep.Refused) + len(rep.FeedBehindBAS)
	return nil
}

// productName is the name of a staged product, "" when the drop does not describe it.
func (pl *planner) productName(ctx context.Context, product string) (string, error) {
	if pl.last != nil && pl.last.good.ID == product {
		return pl.last.good.Name, nil
	}
	row, ok, err := pl.st.Good(ctx, product)
	if err != nil || !ok {
		return "", err
	}
	p, err := unstage(row)
	if err != nil {
		return "", err
	}
	return p.good.Name, nil
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
	if ok, err := pl.claim(ctx, code, s); !ok || err != nil {
		return err
	}
	rec, refusal, err := pl.basRecord(ctx, s, code)
	if err != nil {
		return err
	}
	if refusal != "" {
		pl.refuse("«%s» (Ид %s, %s): %s", g.Name, g.ID, s.where(), refusal)
		return pl.keep(ctx, rec)
	}
	return pl.good(ctx, s, rec)
}

// claim gives code to s unless it is too long or another good of the drop has it; it reports why not.
func (pl *planner) claim(ctx context.Context, code string, s *staged) (bool, error) {
	who := fmt.Sprintf("«%s» (%s)", s.good.Name, s.where())
	if len(code) > MaxCode {
		pl.refuse("%s: код %q довший за %d символів (межа Checkbox)", who, code, MaxCode)
		return false, nil
	}
	if s.feed == nil && code >= pl.lastCode {
		// BAS's goods come in code order: a good can only contest the code of the good claimed last.
		if code == pl.lastCode {
			pl.refuse("%s: код %q уже має %s у цьому вивантаженні", who, code, pl.lastWho)
			return false, nil
		}
		pl.lastCode, pl.lastWho = code, who
		return true, pl.st.Claimed(ctx, code, who, true)
	}
	ok, other, otherBAS, err := pl.st.Claim(ctx, code, who, s.feed == nil)
	if ok || err != nil {
		return ok, err
	}
	if s.feed != nil && otherBAS {
		pl.behindBAS(s, code, other)
		return false, nil
	}
	pl.refuse("%s: код %q уже має %s у цьому вивантаженні", who, code, other)
	return false, nil
}

func (pl *planner) behindBAS(s *staged, code, bas string) {
	pl.rep.FeedBehindBAS = append(pl.rep.FeedBehindBAS, fmt.Sprintf("пропозиція %s «%s» (%s), код %q: цей товар вивантажує BAS (%s)",
		s.feed.ID, s.good.Name, s.where(), code, bas))
}

// basRecord finds the ledger's record of a BAS good by its Ид and gives it code: a good whose code
// changed (its Артикул, or mapping.variant_code) keeps its record, and with it its Checkbox good, under
// the new code. A good the ledger does not know yet takes over the record of its code, if any: made from a
// feed, or by a good that had this Артикул before. refusal says why the code cannot change now.
func (pl *planner) basRecord(ctx context.Context, s *staged, code string) (rec store.GoodRecord, refusal string, err error) {
	st := &pl.ledger
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
func holderName(r store.GoodRecord) string {
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
	if s.dupLine != 0 {
		pl.refuse("пропозиція %s «%s» (%s): код %q має й рядок %d, і це не варіант того самого товару (той самий group_id або різні param); узято перший рядок",
			o.ID, s.good.Name, s.where(), s.code, s.dupLine)
		return nil
	}
	pl.checkBarcodes(s)
	code := s.code
	if code == "" {
		pl.rep.NoCode = append(pl.rep.NoCode, fmt.Sprintf("пропозиція %s «%s» (%s): немає поля, з якого фід %s бере код", o.ID, s.good.Name, s.where(), s.source))
		return nil
	}
	if ok, err := pl.claim(ctx, code, s); !ok || err != nil {
		return err
	}
	st := &pl.ledger
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

// keep records a good with nothing to send.
func (pl *planner) keep(ctx context.Context, rec store.GoodRecord) error {
	rec.UpdatedAt = pl.now
	return pl.add(ctx, plan{rec: rec}, planKeep)
}

// add stages a plan, hands a plan to send to the goods import and writes BAS's description of the good
// to the ledger, a few thousand goods to a transaction: BAS's description of every good is kept, pushed or
// not, for sales of it must go back with BAS's Ид. A good to send is recorded when it is sent: with what
// Checkbox received, or, refused, with its description alone.
func (pl *planner) add(ctx context.Context, p plan, kind int) error {
	id, err := stagePlan(ctx, pl.st, p, kind)
	if err != nil {
		return err
	}
	if kind == planTodo && pl.bulk != nil {
		p.id, p.kind = id, kind
		if err := pl.bulk.todo(ctx, p); err != nil {
			return err
		}
	}
	r := p.rec
	if was, ok := pl.ledger.byBASID[r.BASID]; ok && r.BASID != "" && r.OldCode == "" && sameDescription(was, r) {
		return nil // the ledger has it as it is
	}
	switch {
	case kind == planTodo || kind == planRenamed:
		return nil // sending it records it, whatever Checkbox answers (description)
	case r.OldCode != "":
		// A new code moves the record: written after the plan, so that every good is planned against the
		// ledger as the drop found it.
		pl.renames = append(pl.renames, description(r))
		return nil
	}
	if pl.recs = append(pl.recs, description(r)); len(pl.recs) >= recordBatch {
		return pl.flush(ctx)
	}
	return nil
}

// description is rec without what the ledger says of Checkbox: PutGoods then keeps that as it is, so a
// description written never undoes a push made meanwhile.
func description(rec store.GoodRecord) store.GoodRecord {
	rec.CheckboxID, rec.PushedHash, rec.PushedPrice, rec.PushedPayload, rec.PushedStock, rec.StockHash, rec.PushedAt = "", "", 0, nil, nil, "", time.Time{}
	return rec
}

// sameDescription says whether two records hold the same description of a good.
func sameDescription(a, b store.GoodRecord) bool {
	return a.Code == b.Code && a.BASID == b.BASID && a.Article == b.Article && a.Name == b.Name && a.Deleted == b.Deleted &&
		a.UnitCode == b.UnitCode && a.UnitName == b.UnitName && a.UnitFullName == b.UnitFullName && a.UnitIntl == b.UnitIntl &&
		a.Source == b.Source && a.SourceKey == b.SourceKey
}

// flush writes the descriptions gathered so far to the ledger.
func (pl *planner) flush(ctx context.Context) error {
	err := pl.c.Store.PutGoods(ctx, pl.recs)
	pl.recs = pl.recs[:0]
	if err != nil {
		return fmt.Errorf("record goods: %w", err)
	}
	return nil
}

// good plans a good whose record and code are settled: its price, payload and stock.
func (pl *planner) good(ctx context.Context, s *staged, rec store.GoodRecord) error {
	g := s.good
	who := fmt.Sprintf("%s «%s»", rec.Code, g.Name)
	if g.Deleted {
		pl.rep.Deleted = append(pl.rep.Deleted, who)
		return pl.keep(ctx, rec)
	}
	price, ok, err := pl.c.priceOf(s, pl.priceType, rec)
	if err != nil {
		pl.refuse("%s (%s): %v", who, s.where(), err)
		return pl.keep(ctx, rec)
	}
	if !ok {
		if s.product == "" && s.feed == nil && !s.offer {
			// A catalogue without offers: a product sold as characteristics has no price of its own.
			has, err := pl.ledger.HasVariants(ctx, g.ID)
			if err != nil {
				return fmt.Errorf("ledger: %w", err)
			}
			if has {
				pl.rep.Variants = append(pl.rep.Variants, fmt.Sprintf("«%s» (Ид %s): продається як варіанти", g.Name, g.ID))
				return pl.keep(ctx, rec)
			}
		}
		pl.rep.NoPrice = append(pl.rep.NoPrice, who)
		return pl.keep(ctx, rec)
	}
	p := pl.c.payload(g, rec.Code, price)
	if s.base != nil {
		// Known only from the state: keep barcodes, taxes and kind as the catalogue gave them.
		p = *s.base
		p.Price = price
		p.Code = rec.Code
	}
	rec.UpdatedAt = pl.now
	pln := plan{rec: rec, payload: p, hash: payloadHash(p)}
	if s.stock != nil {
		t := Thousandths(*s.stock)
		if t < 0 {
			t = 0 // negative BAS stock (docs/commerceml.md §3.2) is "none left" for a till
		}
		pln.stock = &t
	}
	return pl.add(ctx, pln, planKind(pln))
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
