package emulator

import (
	"fmt"
	"strings"
	"testing"
)

func TestGoodsCRUD(t *testing.T) {
	en := signedIn(t, Config{})
	var g goodJSON
	en.must(200, "POST", "/api/v1/goods", map[string]any{
		"name": "Кобзар", "type": "good", "code": "B-001", "is_weight": false, "price": 35000,
		"barcode": "9789660000001", "barcodes": []string{"4820000000017"}, "tax_codes": []any{8},
		"uktzed": "4901", "external_id": "bas-guid-1",
	}).decode(t, &g)
	if g.ID == "" || g.Code != "B-001" || g.Price != 35000 || g.Type != "good" || len(g.Taxes) != 1 || g.Taxes[0].Symbol != "З" ||
		g.Count != nil || g.RelatedBarcodes == nil || *g.RelatedBarcodes != "4820000000017" || g.UpdatedAt != nil {
		t.Fatalf("created %+v", g)
	}

	// Codes are unique; a letter is as good as a number for a tax code.
	if r := en.must(422, "POST", "/api/v1/goods", map[string]any{"name": "x", "type": "good", "code": "B-001", "is_weight": false, "price": 1}); !strings.Contains(r.message(t), "B-001") {
		t.Errorf("duplicate message %q", r.message(t))
	}
	en.must(422, "POST", "/api/v1/goods", map[string]any{"name": "x", "type": "good", "code": "B-009", "is_weight": false, "price": 1, "tax_codes": []string{"Ж"}})
	other := en.addGood("B-002", "Енеїда", 28000)

	var got goodJSON
	en.must(200, "GET", "/api/v1/goods/"+g.ID, nil).decode(t, &got)
	if got.Name != "Кобзар" {
		t.Errorf("get %+v", got)
	}
	en.must(200, "GET", "/api/v1/goods/by-code/B-001", nil).decode(t, &got)
	if got.ID != g.ID {
		t.Errorf("by code %+v", got)
	}
	if r := en.must(404, "GET", "/api/v1/goods/by-code/NOPE", nil); r.message(t) == "" {
		t.Error("404 without a message")
	}
	en.must(422, "GET", "/api/v1/goods/not-a-uuid", nil)
	en.must(404, "GET", "/api/v1/goods/00000000-0000-4000-8000-000000000000", nil)

	// PUT changes only what it is sent; a code taken by another good is refused.
	en.must(200, "PUT", "/api/v1/goods/"+g.ID, map[string]any{"price": 36000, "tax_codes": []string{"Б"}}).decode(t, &got)
	if got.Price != 36000 || got.Name != "Кобзар" || got.Taxes[0].Code != 2 || got.UpdatedAt == nil {
		t.Errorf("after PUT %+v", got)
	}
	en.must(422, "PUT", "/api/v1/goods/"+other, map[string]any{"code": "B-001"})
	en.must(422, "PUT", "/api/v1/goods/"+g.ID, map[string]any{"price": 0})

	var ok struct{ OK bool }
	en.must(200, "DELETE", "/api/v1/goods/"+g.ID, nil).decode(t, &ok)
	if !ok.OK {
		t.Error("delete answered ok=false")
	}
	en.must(404, "GET", "/api/v1/goods/"+g.ID, nil)
	en.must(404, "DELETE", "/api/v1/goods/"+g.ID, nil)

	// Inspection sees the good as the client's types decode it.
	goods := en.e.Goods()
	if len(goods) != 1 || goods[0].Code != "B-002" || goods[0].CreatedAt.IsZero() {
		t.Errorf("Goods() = %+v", goods)
	}
	if cg, ok := en.e.GoodByCode("B-002"); !ok || cg.ID != other || cg.Price != 28000 {
		t.Errorf("GoodByCode = %+v %v", cg, ok)
	}
	if _, ok := en.e.Stock("B-002"); ok {
		t.Error("a good without supply has stock")
	}
}

func TestCreateGoodValidation(t *testing.T) {
	valid := func() map[string]any {
		return map[string]any{"name": "Книга", "type": "good", "code": "C1", "is_weight": false, "price": 100}
	}
	tests := []struct {
		name string
		edit func(m map[string]any)
		want string // a 422 detail entry
	}{
		{"no name", func(m map[string]any) { delete(m, "name") }, "body.name:missing"},
		{"no type", func(m map[string]any) { delete(m, "type") }, "body.type:missing"},
		{"no code", func(m map[string]any) { delete(m, "code") }, "body.code:missing"},
		{"no is_weight", func(m map[string]any) { delete(m, "is_weight") }, "body.is_weight:missing"},
		{"no price", func(m map[string]any) { delete(m, "price") }, "body.price:missing"},
		{"null price", func(m map[string]any) { m["price"] = nil }, "body.price:int_type"},
		{"price zero", func(m map[string]any) { m["price"] = 0 }, "body.price:greater_than"},
		{"price too big", func(m map[string]any) { m["price"] = 1_000_000_000 }, "body.price:less_than"},
		{"price in hryvnia", func(m map[string]any) { m["price"] = 12.5 }, "body.price:int_from_float"},
		{"price not a number", func(m map[string]any) { m["price"] = "12 грн" }, "body.price:int_parsing"},
		{"type not an enum", func(m map[string]any) { m["type"] = "book" }, "body.type:enum"},
		{"name not a string", func(m map[string]any) { m["name"] = 42 }, "body.name:string_type"},
		{"code too long", func(m map[string]any) { m["code"] = strings.Repeat("к", 151) }, "body.code:string_too_long"},
		{"is_weight not a bool", func(m map[string]any) { m["is_weight"] = "maybe" }, "body.is_weight:bool_parsing"},
		{"barcodes not a list", func(m map[string]any) { m["barcodes"] = "123" }, "body.barcodes:list_type"},
		{"barcode item", func(m map[string]any) { m["barcodes"] = []any{"1", 2} }, "body.barcodes.1:string_type"},
		{"group not a uuid", func(m map[string]any) { m["group"] = "books" }, "body.group:uuid_parsing"},
	}
	en := signedIn(t, Config{})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := valid()
			tt.edit(body)
			r := en.must(422, "POST", "/api/v1/goods", body)
			if d := r.detail(t); !contains(d, tt.want) {
				t.Errorf("detail %v, want %s", d, tt.want)
			}
		})
	}
	t.Run("lax coercions pass", func(t *testing.T) {
		body := valid()
		body["price"], body["is_weight"], body["code"] = "250", "true", "C2"
		var g goodJSON
		en.must(200, "POST", "/api/v1/goods", body).decode(t, &g)
		if g.Price != 250 || !g.IsWeight {
			t.Errorf("%+v", g)
		}
	})
	t.Run("all problems in one answer", func(t *testing.T) {
		r := en.must(422, "POST", "/api/v1/goods", map[string]any{"type": "x"})
		if d := r.detail(t); len(d) != 5 {
			t.Errorf("detail %v, want five entries", d)
		}
	})
}

func TestGoodsList(t *testing.T) {
	en := signedIn(t, Config{})
	for i := range 30 {
		en.addGood(fmt.Sprintf("G%02d", i), fmt.Sprintf("Книга %02d", 29-i), int64(100+i))
	}
	en.addGood("X1", "Зошит", 500)
	tests := []struct {
		query     string
		want      int
		wantFirst string // code
		wantMeta  metaJSON
	}{
		{"", 25, "G00", metaJSON{25, 0}},
		{"limit=1000", 31, "G00", metaJSON{1000, 0}},
		{"limit=10&offset=25", 6, "G25", metaJSON{10, 25}},
		{"offset=100", 0, "", metaJSON{25, 100}},
		{"query=зошит", 1, "X1", metaJSON{25, 0}},
		{"query=g1&limit=100", 10, "G10", metaJSON{100, 0}},
		{"order_by_name=desc&limit=1", 1, "G00", metaJSON{1, 0}},
		{"order_by_name=asc&limit=1", 1, "X1", metaJSON{1, 0}}, // З comes before К
		{"order_by_price=desc&limit=1", 1, "X1", metaJSON{1, 0}},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			var p goodsPageJSON
			en.must(200, "GET", "/api/v1/goods?"+tt.query, nil).decode(t, &p)
			if len(p.Results) != tt.want || p.Meta != tt.wantMeta || !p.UseLeftovers {
				t.Fatalf("%d results, meta %+v, use_leftovers %v", len(p.Results), p.Meta, p.UseLeftovers)
			}
			if tt.want > 0 && p.Results[0].Code != tt.wantFirst {
				t.Errorf("first %s, want %s", p.Results[0].Code, tt.wantFirst)
			}
		})
	}
	bad := []struct{ query, want string }{
		{"limit=1001", "query.limit:less_than_equal"},
		{"limit=0", "query.limit:greater_than"},
		{"limit=ten", "query.limit:int_parsing"},
		{"offset=-1", "query.offset:greater_than_equal"},
		{"order_by_name=up", "query.order_by_name:enum"},
	}
	for _, tt := range bad {
		t.Run(tt.query, func(t *testing.T) {
			if d := en.must(422, "GET", "/api/v1/goods?"+tt.query, nil).detail(t); !contains(d, tt.want) {
				t.Errorf("detail %v, want %s", d, tt.want)
			}
		})
	}
}

func TestLeftoversByID(t *testing.T) {
	en := signedIn(t, Config{})
	importGoods(t, en, "auto_supply=true", `{"goods":[{"good_name":"A","code":"A1","price":"10.00","leftovers":2.5},{"good_name":"B","code":"B1","price":"10.00"}]}`)
	a, _ := en.e.GoodByCode("A1")
	b, _ := en.e.GoodByCode("B1")
	var got []map[string]int64
	en.must(200, "POST", "/api/v1/goods/leftovers-by-id", map[string]any{"good_ids": []string{a.ID, b.ID, "00000000-0000-4000-8000-000000000000"}}).decode(t, &got)
	if len(got) != 1 || got[0][a.ID] != 2500 {
		t.Errorf("leftovers %v", got)
	}
	if d := en.must(422, "POST", "/api/v1/goods/leftovers-by-id", map[string]any{"good_ids": []string{"x"}}).detail(t); !contains(d, "body.good_ids.0:uuid_parsing") {
		t.Errorf("detail %v", d)
	}
	en.must(422, "POST", "/api/v1/goods/leftovers-by-id", map[string]any{})
}
