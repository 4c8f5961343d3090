package exchange_test

import (
	"fmt"
	"testing"
	"time"

	"obmin/internal/demo"
	"obmin/internal/gen"
)

// benchBooks is a catalogue of n goods with distinct codes, barcodes and prices.
func benchBooks(n int, priceShift int) []demo.Book {
	books := make([]demo.Book, n)
	for i := range books {
		books[i] = demo.Book{
			ID: fmt.Sprintf("b0000000-0000-4000-8000-%012d", i), Article: fmt.Sprintf("BK-%06d", i),
			Name: fmt.Sprintf("Книга %d", i), Barcode: gen.EAN13(fmt.Sprintf("978%09d", i)),
			Price: fmt.Sprintf("%d.50", 100+(i+priceShift)%900), Stock: fmt.Sprint(i % 30), VAT: "0",
		}
	}
	return books
}

// BenchmarkCatalogPath measures the whole BAS → Checkbox path for a first export: watcher, ingest into
// the spool, streaming parse, mapping, the SQLite ledger, and the goods sent over HTTP to the emulator (no
// rate limit; above Catalog.BulkThreshold they go through the goods import file), plus the stock import.
// Reported as goods/s.
func BenchmarkCatalogPath(b *testing.B) {
	n := 2000
	if testing.Short() {
		n = 300
	}
	for b.Loop() {
		b.StopTimer()
		r := newRig(b, nil)
		r.drop(benchBooks(n, 0), time.Now())
		b.StartTimer()
		r.pass()
		if got := len(r.emu.Goods()); got != n {
			b.Fatalf("%d goods in Checkbox, want %d", got, n)
		}
	}
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "goods/s")
}

// BenchmarkCatalogPathUnchanged is the steady state: BAS re-exports the same catalogue and obmin must
// find that nothing changed, sending nothing. This is the cost paid on every export.
func BenchmarkCatalogPathUnchanged(b *testing.B) {
	n := 2000
	if testing.Short() {
		n = 300
	}
	r := newRig(b, nil)
	books := benchBooks(n, 0)
	r.drop(books, time.Now())
	r.pass()
	writes := r.goodsWrites()
	i := 0
	for b.Loop() {
		b.StopTimer()
		i++
		r.drop(books, time.Now().Add(time.Duration(i)*time.Minute))
		b.StartTimer()
		r.pass()
	}
	if r.goodsWrites() != writes {
		b.Fatalf("an unchanged catalogue sent %d writes", r.goodsWrites()-writes)
	}
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "goods/s")
}
