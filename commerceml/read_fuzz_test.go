package commerceml

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// FuzzRead feeds arbitrary bytes to Read and Sniff: they must never panic, every error must be a
// *ParseError (the sentinels arrive wrapped in one), and the summary must count exactly the records
// handed to the handler.
func FuzzRead(f *testing.F) {
	files, err := filepath.Glob(filepath.Join("testdata", "read", "*.xml"))
	if err != nil {
		f.Fatal(err)
	}
	for _, p := range files {
		data, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte(""))
	f.Add([]byte(`<КоммерческаяИнформация ВерсияСхемы="2.08"><Документ><Дата>2025-01-01</Дата><Время>T1:2:3</Время></Документ></КоммерческаяИнформация>`))
	// Bytes that contradict the declaration: UTF-8 under windows-1251, windows-1251 under UTF-8.
	f.Add([]byte("<?xml version=\"1.0\" encoding=\"windows-1251\"?>\n<КоммерческаяИнформация/>"))
	f.Add([]byte("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<\xca\xee\xec\xec\xe5\xf0\xf7\xe5\xf1\xea\xe0\xff/>"))
	f.Add([]byte(`<КоммерческаяИнформация><Классификатор><Группы><Группа><Группы><Группа><Ид>x</Ид></Группа></Группы></Группа></Группы></Классификатор></КоммерческаяИнформация>`))

	f.Fuzz(func(t *testing.T, data []byte) {
		var groups, priceTypes, warehouses, goods, offers, docs int
		h := Handler{
			Header:    func(Header) error { return nil },
			Group:     func(Group) error { groups++; return nil },
			PriceType: func(PriceType) error { priceTypes++; return nil },
			Warehouse: func(Warehouse) error { warehouses++; return nil },
			Good:      func(Good) error { goods++; return nil },
			Offer:     func(Offer) error { offers++; return nil },
			Document:  func(Document) error { docs++; return nil },
		}
		sum, err := Read(bytes.NewReader(data), "fuzz.xml", h)
		readFuzzCheckErr(t, "Read", err)
		got := [6]int{groups, priceTypes, warehouses, goods, offers, docs}
		want := [6]int{sum.Groups, sum.PriceTypes, sum.Warehouses, sum.Goods, sum.Offers, sum.Documents}
		if got != want {
			t.Errorf("handled %v records, summary counts %v", got, want)
		}
		_, _, err = Sniff(bytes.NewReader(data), "fuzz.xml")
		readFuzzCheckErr(t, "Sniff", err)
	})
}

func readFuzzCheckErr(t *testing.T, what string, err error) {
	t.Helper()
	if err == nil {
		return
	}
	var pe *ParseError
	if !errors.As(err, &pe) || pe.File != "fuzz.xml" || pe.Err == nil {
		t.Fatalf("%s: error %v (%T) is not a *ParseError naming the file", what, err, err)
	}
}
