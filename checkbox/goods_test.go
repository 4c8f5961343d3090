package checkbox

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestGoodByCode(t *testing.T) {
	tests := []struct {
		code, escaped string
	}{
		{"A1", "A1"},
		{"12/34", "12%2F34"},
		{"Книга 1", "%D0%9A%D0%BD%D0%B8%D0%B3%D0%B0%201"},
		{"a?b#c", "a%3Fb%23c"},
		{"100%", "100%25"},
	}
	for _, tt := range tests {
		t.Run(tt.code, func(t *testing.T) {
			api := newFakeAPI(t, map[string]http.HandlerFunc{
				"GET /api/v1/goods/by-code/" + tt.escaped: func(w http.ResponseWriter, r *http.Request) {
					writeJSON(w, http.StatusOK, goodJSON("g1", strings.TrimPrefix(r.URL.Path, "/api/v1/goods/by-code/")))
				},
			})
			c, _ := newTestClient(t, api.URL, nil)
			g, err := c.GoodByCode(context.Background(), tt.code)
			if err != nil {
				t.Fatalf("GoodByCode: %v (requests %v)", err, paths(api.requests()))
			}
			if g.Code != tt.code || g.ID != "g1" || g.Price != 25000 {
				t.Fatalf("good %+v", g)
			}
		})
	}
}

func TestNotFound(t *testing.T) {
	api := newFakeAPI(t, map[string]http.HandlerFunc{
		"GET /api/v1/goods/by-code/X": func(w http.ResponseWriter, r *http.Request) {
			writeJSON(w, http.StatusNotFound, map[string]string{"message": "Товар не знайдено"})
		},
	})
	c, sl := newTestClient(t, api.URL, nil)
	_, err := c.GoodByCode(context.Background(), "X")
	if !errors.Is(err, ErrNotFound) {
		t.Fatalf("error %v, want ErrNotFound", err)
	}
	var apiErr *APIError
	if !errors.As(err, &apiErr) || apiErr.Status != 404 || apiErr.Message != "Товар не знайдено" {
		t.Fatalf("error %#v", err)
	}
	if errors.Is(&APIError{Status: 400}, ErrNotFound) {
		t.Fatal("a 400 matches ErrNotFound")
	}
	if len(sl.all()) != 0 || api.count("GET /api/v1/goods/by-code/X") != 1 {
		t.Fatal("a 404 was retried")
	}
}

// catalogue is a goods store behind a fake API, for paging and creation tests.
type catalogue struct {
	mu    sync.Mutex
	goods []map[string]any
}

func (cat *catalogue) add(code string) map[string]any {
	cat.mu.Lock()
	defer cat.mu.Unlock()
	g := goodJSON(fmt.Sprintf("id-%d", len(cat.goods)+1), code)
	cat.goods = append(cat.goods, g)
	return g
}

func (cat *catalogue) byCode(code string) map[string]any {
	cat.mu.Lock()
	defer cat.mu.Unlock()
	for _, g := range cat.goods {
		if g["code"] == code {
			return g
		}
	}
	return nil
}

func (cat *catalogue) len() int {
	cat.mu.Lock()
	defer cat.mu.Unlock()
	return len(cat.goods)
}

// list serves GET /api/v1/goods, never giving more than serverMax per page.
func (cat *catalogue) list(serverMax int) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		limit, _ := strconv.Atoi(r.URL.Query().Get("limit"))
		offset, _ := strconv.Atoi(r.URL.Query().Get("offset"))
		limit = min(limit, serverMax)
		cat.mu.Lock()
		results := []map[string]any{}
		if offset < len(cat.goods) {
			results = cat.goods[offset:min(offset+limit, len(cat.goods))]
		}
		body := map[string]any{"meta": map[string]int{"limit": limit, "offset": offset}, "results": results, "use_leftovers": true}
		cat.mu.Unlock()
		writeJSON(w, http.StatusOK, body)
	}
}

func TestAllGoods(t *testing.T) {
	tests := []struct {
		name        string
		goods       int
		serverMax   int
		wantOffsets []string
	}{
		{"short last page", 2500, 1000, []string{"0", "1000", "2000"}},
		{"exact pages end on an empty one", 2000, 1000, []string{"0", "1000", "2000"}},
		{"empty catalogue", 0, 1000, []string{"0"}},
		{"server lowers the limit", 1200, 500, []string{"0", "500", "1000"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cat := &catalogue{}
			for i := range tt.goods {
				cat.add(fmt.Sprintf("C%05d", i))
			}
			api := newFakeAPI(t, map[string]http.HandlerFunc{"GET /api/v1/goods": cat.list(tt.serverMax)})
			c, _ := newTestClient(t, api.URL, nil)
			var codes []string
			err := c.AllGoods(context.Background(), func(g Good) error {
				codes = append(codes, g.Code)
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if len(codes) != tt.goods {
				t.Fatalf("got %d goods, want %d", len(codes), tt.goods)
			}
			for i, code := range codes {
				if code != fmt.Sprintf("C%05d", i) {
					t.Fatalf("good %d has code %s", i, code)
				}
			}
			var offsets []string
			for _, r := range api.requests() {
				if r.Path == "/api/v1/goods" {
					q := parseQuery(t, r.RawQuery)
					if q.Get("limit") != "1000" {
						t.Errorf("limit %q, want 1000", q.Get("limit"))
					}
					offsets = append(offsets, q.Get("offset"))
				}
			}
			if fmt.Sprint(offsets) != fmt.Sprint(tt.wantOffsets) {
				t.Errorf("offsets %v, want %v", offsets, tt.wantOffsets)
			}
		})
	}
}

func TestAllGoodsStopsOnCallbackError(t *testing.T) {
	cat := &catalogue{}
	for i := range 1500 {
		cat.add(fmt.Sprint(i))
	}
	api := newFakeAPI(t, map[string]http.HandlerFunc{"GET /api/v1/goods": cat.list(1000)})
	c, _ := newTestClient(t, api.URL, nil)
	stop := errors.New("stop")
	if err := c.AllGoods(context.Background(), func(Good) error { return stop }); err != stop {
		t.Fatalf("error %v, want the callback's own", err)
	}
	if n := api.count("GET /api/v1/goods"); n != 1 {
		t.Fatalf("pages fetched = %d, want 1", n)
	}
}

func TestGoodsQuery(t *testing.T) {
	cat := &catalogue{}
	cat.add("A1")
	api := newFakeAPI(t, map[string]http.HandlerFunc{"GET /api/v1/goods": cat.list(1000)})
	c, _ := newTestClient(t, api.URL, nil)
	page, err := c.Goods(context.Background(), GoodsQuery{Query: "Кобзар & Ко", Limit: 10, Offset: 0})
	if err != nil || len(page.Results) != 1 || page.UseLeftovers == nil || !*page.UseLeftovers {
		t.Fatalf("Goods = %+v, %v", page, err)
	}
	q := parseQuery(t, api.requests()[1].RawQuery)
	if q.Get("query") != "Кобзар & Ко" || q.Get("limit") != "10" || q.Get("offset") != "0" {
		t.Fatalf("query %v", q)
	}
	for _, bad := range []GoodsQuery{{Limit: 1001}, {Limit: -1}, {Offset: -5}} {
		if _, err := c.Goods(context.Background(), bad); err == nil {
			t.Errorf("Goods(%+v) accepted", bad)
		}
	}
}

func TestCreateGoodDoesNotDuplicate(t *testing.T) {
	type step int
	const (
		createThen502 step = iota // Checkbox creates the good but the answer is a 502
		createThenCut             // Checkbox creates the good and the connection dies
		refuse503                 // Checkbox refuses without creating
		fine                      // Checkbox creates and answers
		invalid422                // Checkbox rejects the payload
	)
	tests := []struct {
		name        string
		posts       []step // then fine
		lookupFails int    // by-code lookups answered 500 before working
		wantPosts   int
		wantLookups int
		wantGoods   int
		wantErr     bool
	}{
		{"answer lost after creation", []step{createThen502}, 0, 1, 1, 1, false},
		{"connection cut after creation", []step{createThenCut}, 0, 1, 1, 1, false},
		{"refused before creation", []step{refuse503}, 0, 2, 1, 1, false},
		{"lookup down for a while", []step{createThen502}, 1, 1, 2, 1, false},
		{"first try fine", nil, 0, 1, 0, 1, false},
		{"invalid payload is not retried", []step{invalid422}, 0, 1, 0, 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cat := &catalogue{}
			var mu sync.Mutex
			posts, lookups := 0, 0
			api := newFakeAPI(t, map[string]http.HandlerFunc{
				"POST /api/v1/goods": func(w http.ResponseWriter, r *http.Request) {
					var p GoodPayload
					if err := json.NewDecoder(r.Body).Decode(&p); err != nil {
						t.Errorf("body: %v", err)
					}
					mu.Lock()
					s := fine
					if posts < len(tt.posts) {
						s = tt.posts[posts]
					}
					posts++
					mu.Unlock()
					switch s {
					case refuse503:
						writeJSON(w, http.StatusServiceUnavailable, map[string]string{"message": "busy"})
					case invalid422:
						writeJSON(w, http.StatusUnprocessableEntity, map[string]any{"message": "bad", "detail": []any{}})
					case createThen502:
						cat.add(p.Code)
						writeJSON(w, http.StatusBadGateway, map[string]string{"message": "gateway"})
					case createThenCut:
						cat.add(p.Code)
						if conn, _, err := w.(http.Hijacker).Hijack(); err == nil {
							conn.Close()
						}
					default:
						writeJSON(w, http.StatusOK, cat.add(p.Code))
					}
				},
				"GET /api/v1/goods/by-code/K-7": func(w http.ResponseWriter, r *http.Request) {
					mu.Lock()
					lookups++
					n := lookups
					mu.Unlock()
					if n <= tt.lookupFails {
						writeJSON(w, http.StatusInternalServerError, map[string]string{"message": "db"})
						return
					}
					if g := cat.byCode("K-7"); g != nil {
						writeJSON(w, http.StatusOK, g)
						return
					}
					writeJSON(w, http.StatusNotFound, map[string]string{"message": "not found"})
				},
			})
			c, _ := newTestClient(t, api.URL, nil)
			g, err := c.CreateGood(context.Background(), GoodPayload{Name: "Кобзар", Type: "good", Code: "K-7", Price: 25000})
			if (err != nil) != tt.wantErr {
				t.Fatalf("CreateGood: %v", err)
			}
			if !tt.wantErr && (g.Code != "K-7" || g.ID == "") {
				t.Fatalf("good %+v", g)
			}
			mu.Lock()
			defer mu.Unlock()
			if posts != tt.wantPosts || lookups != tt.wantLookups || cat.len() != tt.wantGoods {
				t.Fatalf("posts %d, lookups %d, goods %d; want %d, %d, %d", posts, lookups, cat.len(), tt.wantPosts, tt.wantLookups, tt.wantGoods)
			}
		})
	}
}

func TestUpdateAndDeleteGood(t *testing.T) {
	var mu sync.Mutex
	var put GoodPayload
	deleteOK := true
	api := newFakeAPI(t, map[string]http.HandlerFunc{
		"PUT /api/v1/goods/g1": func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			defer mu.Unlock()
			json.NewDecoder(r.Body).Decode(&put)
			writeJSON(w, http.StatusOK, goodJSON("g1", put.Code))
		},
		"DELETE /api/v1/goods/g1": func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			defer mu.Unlock()
			writeJSON(w, http.StatusOK, map[string]bool{"ok": deleteOK})
		},
	})
	c, _ := newTestClient(t, api.URL, nil)
	ctx := context.Background()
	p := GoodPayload{Name: "Кобзар", Type: "good", Code: "A1", Price: 25000, TaxCodes: []int{8}, ExternalID: "bas-guid"}
	if _, err := c.UpdateGood(ctx, "g1", p); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	if fmt.Sprint(put) != fmt.Sprint(p) {
		t.Fatalf("PUT body %+v, want %+v", put, p)
	}
	mu.Unlock()
	if err := c.DeleteGood(ctx, "g1"); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	deleteOK = false
	mu.Unlock()
	if err := c.DeleteGood(ctx, "g1"); err == nil || !strings.Contains(err.Error(), "ok=false") {
		t.Fatalf("DeleteGood with ok=false: %v", err)
	}
}

func TestLeftovers(t *testing.T) {
	var mu sync.Mutex
	var batches [][]string
	api := newFakeAPI(t, map[string]http.HandlerFunc{
		"POST /api/v1/goods/leftovers-by-id": func(w http.ResponseWriter, r *http.Request) {
			var body struct {
				GoodIDs []string `json:"good_ids"`
			}
			json.NewDecoder(r.Body).Decode(&body)
			mu.Lock()
			batches = append(batches, body.GoodIDs)
			mu.Unlock()
			w.Header().Set("Content-Type", "application/json")
			// One object per good, one value written as 1500.0.
			var parts []string
			for i, id := range body.GoodIDs {
				if i == 0 {
					parts = append(parts, fmt.Sprintf(`{%q: 1500.0}`, id))
					continue
				}
				parts = append(parts, fmt.Sprintf(`{%q: %d}`, id, i*1000))
			}
			fmt.Fprintf(w, "[%s]", strings.Join(parts, ","))
		},
	})
	c, _ := newTestClient(t, api.URL, nil)
	ids := make([]string, leftoversBatch+3)
	for i := range ids {
		ids[i] = fmt.Sprintf("id-%d", i)
	}
	got, err := c.Leftovers(context.Background(), ids)
	if err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(batches) != 2 || len(batches[0]) != leftoversBatch || len(batches[1]) != 3 {
		t.Fatalf("batches of %d and %d", len(batches[0]), len(batches[len(batches)-1]))
	}
	if len(got) != len(ids) || got["id-0"] != 1500 || got["id-1"] != 1000 || got[ids[leftoversBatch+2]] != 2000 {
		t.Fatalf("leftovers %d entries, id-0=%d id-1=%d", len(got), got["id-0"], got["id-1"])
	}
	before := len(api.requests())
	if m, err := c.Leftovers(context.Background(), nil); err != nil || len(m) != 0 || len(api.requests()) != before {
		t.Fatalf("Leftovers(nil) = %v, %v after a request", m, err)
	}
}

func TestGoodDecoding(t *testing.T) {
	in := `{"id":"g1","code":"A1","name":"Кобзар","price":25000,"type":"good","barcode":null,
		"taxes":[{"id":"t","code":8,"label":"Без ПДВ","symbol":"З","rate":0.0,"included":true,"no_vat":true,"sales_turnover":1.5}],
		"count":3000,"is_weight":false,"created_at":"2024-03-22T16:20:09.549268","updated_at":null,"branches_info":[]}`
	var g Good
	if err := json.Unmarshal([]byte(in), &g); err != nil {
		t.Fatal(err)
	}
	want := time.Date(2024, 3, 22, 16, 20, 9, 549268000, time.UTC)
	if !g.CreatedAt.Equal(want) || g.UpdatedAt != nil || g.Count == nil || *g.Count != 3000 {
		t.Fatalf("good %+v", g)
	}
	if len(g.Taxes) != 1 || g.Taxes[0].Rate != 0 || g.Taxes[0].Symbol != "З" || !g.Taxes[0].NoVAT || g.Taxes[0].Code != 8 {
		t.Fatalf("taxes %+v", g.Taxes)
	}
}
