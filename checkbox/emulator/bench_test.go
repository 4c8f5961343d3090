package emulator

import (
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"testing"
)

// benchEmulator has n goods in stock and a signed-in token.
func benchEmulator(b *testing.B, n int) (*Emulator, string) {
	b.Helper()
	e := New(Config{Clock: newClock().Now})
	b.Cleanup(e.Close)
	e.mu.Lock()
	for i := range n {
		stock := int64(1_000_000)
		e.goods = append(e.goods, &good{id: e.newID(), code: fmt.Sprintf("B-%05d", i), name: fmt.Sprintf("Книга %d", i),
			typ: "good", price: int64(1000 + i), taxCodes: []int{8}, stock: &stock, createdAt: e.now()})
	}
	tok := e.issue(e.apiUser, nil).AccessToken
	e.mu.Unlock()
	return e, tok
}

func BenchmarkSell(b *testing.B) {
	e, _ := benchEmulator(b, 100)
	sale := Sale{Payment: "CASHLESS", Lines: []SaleLine{{Code: "B-00001", Quantity: 2000, DiscountPercent: 10}, {Code: "B-00042", Quantity: 1000}}}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := e.Sell(sale); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkSearchPage(b *testing.B) {
	e, tok := benchEmulator(b, 100)
	if _, err := e.GenerateSales(rand.New(rand.NewPCG(1, 2)), 1000, 10); err != nil {
		b.Fatal(err)
	}
	benchGet(b, e, tok, "/api/v1/receipts/search?self_receipts=false&limit=100&offset=500")
}

func BenchmarkGoodsPage(b *testing.B) {
	e, tok := benchEmulator(b, 5000)
	benchGet(b, e, tok, "/api/v1/goods?limit=1000&offset=2000")
}

func benchGet(b *testing.B, e *Emulator, tok, target string) {
	b.Helper()
	b.ReportAllocs()
	for b.Loop() {
		req := httptest.NewRequest("GET", target, nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		req.Header.Set("X-Client-Name", "bench")
		w := httptest.NewRecorder()
		e.ServeHTTP(w, req)
		if w.Code != http.StatusOK {
			b.Fatalf("%d %s", w.Code, w.Body)
		}
		b.SetBytes(int64(w.Body.Len()))
	}
}
