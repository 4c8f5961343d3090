package emulator

import (
	"cmp"
	"net/http"
	"slices"
	"strings"

	"obmin/checkbox"
)

// Goods (docs/checkbox-rest.md §4). Codes are unique; stock (count) is in thousandths.

// Goods returns the catalogue sorted by code, as a client would decode it.
func (e *Emulator) Goods() []checkbox.Good {
	e.mu.Lock()
	defer e.mu.Unlock()
	sorted := slices.Clone(e.goods)
	slices.SortFunc(sorted, func(a, b *good) int { return strings.Compare(a.code, b.code) })
	out := make([]checkbox.Good, 0, len(sorted))
	for _, g := range sorted {
		var cg checkbox.Good
		mustRoundTrip(e.goodJSON(g), &cg)
		out = append(out, cg)
	}
	return out
}

// CountGoods returns how many goods the catalogue holds.
func (e *Emulator) CountGoods() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return len(e.goods)
}

// GoodByCode returns the good with this code.
func (e *Emulator) GoodByCode(code string) (checkbox.Good, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	g := e.goodByCodeLocked(code)
	if g == nil {
		return checkbox.Good{}, false
	}
	var cg checkbox.Good
	mustRoundTrip(e.goodJSON(g), &cg)
	return cg, true
}

// Stock returns the stock of the good with this code in thousandths; ok is false when there is no
// such good or it has no stock yet (no supply).
func (e *Emulator) Stock(code string) (thousandths int64, ok bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	g := e.goodByCodeLocked(code)
	if g == nil || g.stock == nil {
		return 0, false
	}
	return *g.stock, true
}

func (e *Emulator) goodByCodeLocked(code string) *good { return e.byCode[code] }

func (e *Emulator) goodByID(id string) *good { return e.byID[id] }

// addGood puts a new good into the catalogue and its indexes: a catalogue of 300,000 goods is looked up
// by code once per import row.
func (e *Emulator) addGood(g *good) {
	e.goods = append(e.goods, g)
	e.byCode[g.code] = g
	e.byID[g.id] = g
}

// removeGood takes g out of the catalogue and its indexes.
func (e *Emulator) removeGood(g *good) {
	e.goods = slices.DeleteFunc(e.goods, func(x *good) bool { return x == g })
	delete(e.byCode, g.code)
	delete(e.byID, g.id)
}

// editGoodLocked applies f to g and keeps the code index right.
func (e *Emulator) editGoodLocked(g *good, f goodFields, taxCodes []int, groupName string) {
	code := g.code
	f.apply(g, taxCodes, groupName)
	if g.code != code {
		newCode := g.code
		g.code = code
		e.recode(g, newCode)
	}
}

// recode moves g under a new code in the index; codes are unique (checkGood).
func (e *Emulator) recode(g *good, code string) {
	if e.byCode[g.code] == g {
		delete(e.byCode, g.code)
	}
	g.code = code
	e.byCode[code] = g
}

// groupID returns the id of the goods group with this name, creating it.
func (e *Emulator) groupID(name string) string {
	if name == "" {
		return ""
	}
	id, ok := e.groups[name]
	if !ok {
		id = e.newID()
		e.groups[name] = id
	}
	return id
}

var goodsOrders = []string{"asc", "desc"}

// listGoods is GET /api/v1/goods: query searches name, code and barcodes; limit <= 1000, default 25.
func (e *Emulator) listGoods(c *call) reply {
	q := c.r.URL.Query()
	var v checker
	limit := v.queryInt(q, "limit", 25, true, 1000)
	offset := v.queryInt(q, "offset", 0, false, 0)
	groups := v.queryUUIDs(q, "group_id")
	withoutGroup := v.queryBool(q, "without_group_only", false)
	v.queryBool(q, "load_children", false)
	v.queryBool(q, "load_group", false)
	type order struct {
		dir string
		cmp func(a, b *good) int
	}
	var orders []order
	for _, o := range []struct {
		name string
		cmp  func(a, b *good) int
	}{
		{"order_by_name", func(a, b *good) int { return strings.Compare(a.name, b.name) }},
		{"order_by_code", func(a, b *good) int { return strings.Compare(a.code, b.code) }},
		{"order_by_position", func(a, b *good) int { return cmp.Compare(deref(a.position), deref(b.position)) }},
		{"order_by_count", func(a, b *good) int { return cmp.Compare(deref(a.stock), deref(b.stock)) }},
		{"order_by_price", func(a, b *good) int { return cmp.Compare(a.price, b.price) }},
	} {
		if dir := v.queryEnum(q, o.name, goodsOrders...); dir != "" {
			orders = append(orders, order{dir, o.cmp})
		}
	}
	if len(v.errs) > 0 {
		return invalid(v.errs)
	}
	terms := []string{q.Get("query"), q.Get("name"), q.Get("barcode")}
	var found []*good
	for _, g := range e.goods {
		if !g.matches(terms) || (withoutGroup && g.groupID != "") || (len(groups) > 0 && !slices.Contains(groups, g.groupID)) {
			continue
		}
		found = append(found, g)
	}
	slices.SortStableFunc(found, func(a, b *good) int {
		for _, o := range orders {
			n := o.cmp(a, b)
			if o.dir == "desc" {
				n = -n
			}
			if n != 0 {
				return n
			}
		}
		return 0
	})
	out := goodsPageJSON{Meta: metaJSON{Limit: limit, Offset: offset}, Results: []goodJSON{}, UseLeftovers: true}
	for _, g := range page(found, offset, limit) {
		out.Results = append(out.Results, e.goodJSON(g))
	}
	return jsonReply(http.StatusOK, out)
}

func deref(p *int64) int64 {
	if p == nil {
		return 0
	}
	return *p
}

// matches reports whether every non-empty term is in the good's name, code or barcodes, ignoring case.
func (g *good) matches(terms []string) bool {
	for _, t := range terms {
		t = strings.ToLower(strings.TrimSpace(t))
		if t == "" {
			continue
		}
		hay := strings.ToLower(g.name + "\x00" + g.code + "\x00" + g.barcode + "\x00" + strings.Join(g.barcodes, "\x00"))
		if !strings.Contains(hay, t) {
			return false
		}
	}
	return true
}

// page cuts one page out of items.
func page[T any](items []T, offset, limit int) []T {
	if offset >= len(items) {
		return nil
	}
	return items[offset:min(offset+limit, len(items))]
}

// goodFields is a decoded CreateGoodPayload or EditGoodsPayload; set tells which fields were sent.
type goodFields struct {
	set                        map[string]bool
	name, shortName, typ, code string
	barcode, uktzed, group     string
	barcodes                   []string
	isWeight                   bool
	price, position            int64
	taxCodes                   []string
}

// parseGood validates a goods payload (docs/checkbox-rest.md §4.2); on create name, type, code, is_weight
// and price are required. Unknown fields are ignored, as pydantic does.
func parseGood(body []byte, create bool) (goodFields, []fieldError) {
	var v checker
	f := goodFields{set: map[string]bool{}}
	o, ok := v.body(body)
	if !ok {
		return f, v.errs
	}
	read := func(key string, ok bool) {
		if ok {
			f.set[key] = true
		}
	}
	var ok1 bool
	f.name, ok1 = o.str("name", create, 0, 4000)
	read("name", ok1)
	f.shortName, ok1 = o.str("short_name", false, 0, 255)
	read("short_name", ok1)
	f.typ, ok1 = o.enum("type", create, "good", "service")
	read("type", ok1)
	f.code, ok1 = o.str("code", create, 0, 150)
	read("code", ok1)
	f.isWeight, ok1 = o.boolean("is_weight", create)
	read("is_weight", ok1)
	f.barcode, ok1 = o.str("barcode", false, 0, 100)
	read("barcode", ok1)
	f.uktzed, ok1 = o.str("uktzed", false, 0, 0)
	read("uktzed", ok1)
	f.price, ok1 = o.integer("price", create, bounds{gt: bound(0), lt: bound(1_000_000_000)})
	read("price", ok1)
	f.group, ok1 = o.uuid("group", false)
	read("group", ok1)
	f.position, ok1 = o.integer("position", false, bounds{})
	read("position", ok1)
	f.taxCodes, ok1 = o.codes("tax_codes")
	read("tax_codes", ok1)
	if items, ok := o.list("barcodes", false, 0); ok {
		for i, raw := range items {
			if b, ok := v.str(raw, loc(o.loc, "barcodes", i), 0, 100); ok {
				f.barcodes = append(f.barcodes, b)
			}
		}
		f.set["barcodes"] = true
	}
	if create {
		o.uuid("parent", false)
	}
	return f, v.errs
}

// apply copies the sent fields onto g.
func (f goodFields) apply(g *good, taxCodes []int, groupName string) {
	if f.set["name"] {
		g.name = f.name
	}
	if f.set["short_name"] {
		g.shortName = f.shortName
	}
	if f.set["type"] {
		g.typ = f.typ
	}
	if f.set["code"] {
		g.code = f.code
	}
	if f.set["is_weight"] {
		g.isWeight = f.isWeight
	}
	if f.set["barcode"] {
		g.barcode = f.barcode
	}
	if f.set["barcodes"] {
		g.barcodes = f.barcodes
	}
	if f.set["uktzed"] {
		g.uktzed = f.uktzed
	}
	if f.set["price"] {
		g.price = f.price
	}
	if f.set["position"] {
		p := f.position
		g.position = &p
	}
	if f.set["tax_codes"] {
		g.taxCodes = taxCodes
	}
	if f.set["group"] {
		g.groupID, g.groupName = f.group, groupName
	}
}

// checkGood applies the business rules a payload must pass besides its schema: a unique code and
// known tax codes. self is the good being edited, nil on create.
func (e *Emulator) checkGood(f goodFields, self *good) ([]int, string, *reply) {
	if f.set["code"] {
		if other := e.goodByCodeLocked(f.code); other != nil && other != self {
			rep := refused("Товар з кодом \""+f.code+"\" вже існує", "body", "code")
			return nil, "", &rep
		}
	}
	codes, err := e.taxCodes(f.taxCodes)
	if err != nil {
		rep := refused(err.Error(), "body", "tax_codes")
		return nil, "", &rep
	}
	groupName := ""
	if f.set["group"] {
		for name, id := range e.groups {
			if id == f.group {
				groupName = name
			}
		}
		if groupName == "" {
			rep := notFound("Групу товарів не знайдено")
			return nil, "", &rep
		}
	}
	return codes, groupName, nil
}

// createGood is POST /api/v1/goods: 200 GoodModel (the schema declares 200, not 201).
func (e *Emulator) createGood(c *call) reply {
	f, errs := parseGood(c.body, true)
	if len(errs) > 0 {
		return invalid(errs)
	}
	codes, groupName, rep := e.checkGood(f, nil)
	if rep != nil {
		return *rep
	}
	g := &good{id: e.newID(), createdAt: e.now()}
	f.apply(g, codes, groupName)
	e.addGood(g)
	return jsonReply(http.StatusOK, e.goodJSON(g))
}

// pathGood finds the good of the {good_id} path segment.
func (e *Emulator) pathGood(c *call) (*good, *reply) {
	var v checker
	id, ok := v.uuidValue(c.params[0], []any{"path", "good_id"})
	if !ok {
		rep := invalid(v.errs)
		return nil, &rep
	}
	g := e.goodByID(id)
	if g == nil {
		rep := notFound("Товар не знайдено")
		return nil, &rep
	}
	return g, nil
}

// getGood is GET /api/v1/goods/{good_id}.
func (e *Emulator) getGood(c *call) reply {
	g, rep := e.pathGood(c)
	if rep != nil {
		return *rep
	}
	return jsonReply(http.StatusOK, e.goodJSON(g))
}

// editGood is PUT /api/v1/goods/{good_id}: a partial update, every field optional.
func (e *Emulator) editGood(c *call) reply {
	g, rep := e.pathGood(c)
	if rep != nil {
		return *rep
	}
	f, errs := parseGood(c.body, false)
	if len(errs) > 0 {
		return invalid(errs)
	}
	codes, groupName, rep := e.checkGood(f, g)
	if rep != nil {
		return *rep
	}
	e.editGoodLocked(g, f, codes, groupName)
	g.updatedAt = e.now()
	return jsonReply(http.StatusOK, e.goodJSON(g))
}

// deleteGood is DELETE /api/v1/goods/{good_id}: {"ok": true}.
func (e *Emulator) deleteGood(c *call) reply {
	g, rep := e.pathGood(c)
	if rep != nil {
		return *rep
	}
	e.removeGood(g)
	return jsonReply(http.StatusOK, struct {
		OK bool `json:"ok"`
	}{true})
}

// goodByCode is GET /api/v1/goods/by-code/{code}.
func (e *Emulator) goodByCode(c *call) reply {
	g := e.goodByCodeLocked(c.params[0])
	if g == nil {
		return notFound("Товар не знайдено")
	}
	return jsonReply(http.StatusOK, e.goodJSON(g))
}

// leftovers is POST /api/v1/goods/leftovers-by-id {"good_ids": [...]}: [{"<id>": count}, ...] in the
// order asked, for the goods that exist and have stock (docs/checkbox-rest.md §5).
func (e *Emulator) leftovers(c *call) reply {
	var v checker
	var ids []string
	if o, ok := v.body(c.body); ok {
		if items, ok := o.list("good_ids", true, 0); ok {
			for i, raw := range items {
				s, ok := v.str(raw, loc(o.loc, "good_ids", i), 0, 0)
				if !ok {
					continue
				}
				if id, ok := v.uuidValue(s, loc(o.loc, "good_ids", i)); ok {
					ids = append(ids, id)
				}
			}
		}
	}
	if len(v.errs) > 0 {
		return invalid(v.errs)
	}
	out := []map[string]int64{}
	for _, id := range ids {
		if g := e.goodByID(id); g != nil && g.stock != nil {
			out = append(out, map[string]int64{g.id: *g.stock})
		}
	}
	return jsonReply(http.StatusOK, out)
}
