package store

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
)

// benchGoods builds n catalogue records the size of a bookstore's: Ukrainian names, BAS GUIDs.
func benchGoods(n int) []GoodRecord {
	recs := make([]GoodRecord, n)
	for i := range recs {
		recs[i] = GoodRecord{
			Code:         fmt.Sprintf("978617%07d", i),
			BASID:        fmt.Sprintf("6f1c2a3b-%04x-11ee-8c90-%012x", i%0xffff, i),
			Article:      fmt.Sprintf("978617%07d", i),
			Name:         fmt.Sprintf("Тарас Шевченко. Кобзар, том %d (тверда обкладинка)", i),
			UnitCode:     "796",
			UnitName:     "шт",
			UnitFullName: "Штука",
			UnitIntl:     "PCE",
		}
	}
	return recs
}

// BenchmarkPutGoods50k measures one PutGoods call with a 50 000-good catalogue: into an empty ledger
// (first import) and over a full one (every later import).
func BenchmarkPutGoods50k(b *testing.B) {
	ctx := context.Background()
	recs := benchGoods(50000)
	b.Run("insert", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			b.StopTimer()
			s := mustOpenStore(b, filepath.Join(b.TempDir(), "obmin.db"))
			b.StartTimer()
			if err := s.PutGoods(ctx, recs); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("update", func(b *testing.B) {
		s := mustOpenStore(b, filepath.Join(b.TempDir(), "obmin.db"))
		if err := s.PutGoods(ctx, recs); err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			if err := s.PutGoods(ctx, recs); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkAddReceipt measures the exactly-once gate: each new receipt is one committed (fsynced)
// transaction carrying about 2 KB of JSON.
func BenchmarkAddReceipt(b *testing.B) {
	ctx := context.Background()
	raw := []byte(`{"id":"x","goods":[` + strings.Repeat(`{"good":{"code":"9786170000001","name":"Кобзар","price":25000},"quantity":1000,"sum":25000},`, 12) + `{}]}`)
	doc := []byte(`{"Номер":"CB-x","Товары":[` + strings.Repeat(`{"Ид":"6f1c2a3b-0001-11ee-8c90-000000000001","Количество":"1","Сумма":"250.00"},`, 12) + `{}]}`)
	rec := func(i int64) ReceiptRecord {
		return ReceiptRecord{ID: fmt.Sprintf("rcpt-%09d", i), RegisterID: "reg", Type: "SELL", Status: "DONE",
			Number: fmt.Sprintf("CB-%09d", i), When: testT0, TotalSum: 300000, State: ReceiptStatePending, Raw: raw, Document: doc}
	}
	b.Run("new", func(b *testing.B) {
		s := mustOpenStore(b, filepath.Join(b.TempDir(), "obmin.db"))
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			if added, err := s.AddReceipt(ctx, rec(int64(i))); err != nil || !added {
				b.Fatal(added, err)
			}
		}
	})
	b.Run("known", func(b *testing.B) {
		s := mustOpenStore(b, filepath.Join(b.TempDir(), "obmin.db"))
		if _, err := s.AddReceipt(ctx, rec(0)); err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			if added, err := s.AddReceipt(ctx, rec(0)); err != nil || added {
				b.Fatal(added, err)
			}
		}
	})
	b.Run("parallel", func(b *testing.B) {
		s := mustOpenStore(b, filepath.Join(b.TempDir(), "obmin.db"))
		var next atomic.Int64
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if added, err := s.AddReceipt(ctx, rec(next.Add(1))); err != nil || !added {
					b.Error(added, err)
					return
				}
			}
		})
	})
}
