package commerceml

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// TestBarcodesAndCharacteristics: barcodes come from Штрихкод elements and from every value of the
// «Штрихкод» requisite (trimmed, split, repeats dropped); characteristics of goods and offers are read.
func TestBarcodesAndCharacteristics(t *testing.T) {
	var goods []Good
	var offers []Offer
	for _, name := range []string{"catalog-barcode-requisites.xml", "offers-variants.xml"} {
		f, err := os.Open(filepath.Join("testdata", "read", name))
		if err != nil {
			t.Fatal(err)
		}
		_, err = Read(f, name, Handler{
			Good:  func(g Good) error { goods = append(goods, g); return nil },
			Offer: func(o Offer) error { offers = append(offers, o); return nil },
		})
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
	}
	for i, want := range [][]string{
		{"9789660301234", "4820000000101", "2000000000015"},
		{"9786176794622", "12345"},
		nil,
	} {
		if !reflect.DeepEqual(goods[i].Barcodes, want) {
			t.Errorf("good %d barcodes %q, want %q", i, goods[i].Barcodes, want)
		}
	}
	if want := []Characteristic{{Name: "Палітурка", Value: "тверда"}}; !reflect.DeepEqual(goods[2].Characteristics, want) {
		t.Errorf("catalogue characteristics %+v", goods[2].Characteristics)
	}
	if want := []Characteristic{{Name: "Палітурка", Value: "тверда"}, {Name: "Формат", Value: "A5"}}; !reflect.DeepEqual(offers[0].Characteristics, want) {
		t.Errorf("offer characteristics %+v", offers[0].Characteristics)
	}
	if want := []string{"9789660300008"}; !reflect.DeepEqual(offers[1].Barcodes, want) || !offers[1].Deleted {
		t.Errorf("offer barcodes from its requisite %q, deleted %v", offers[1].Barcodes, offers[1].Deleted)
	}
	if want := []Characteristic{{ID: "9c000000-0000-4000-8000-0000000000a2", Name: "м'яка"}}; !reflect.DeepEqual(offers[1].Characteristics, want) {
		t.Errorf("named characteristic %+v", offers[1].Characteristics)
	}
}

func TestVariant(t *testing.T) {
	for id, want := range map[string][3]string{
		"p#c":      {"p", "c", "true"},
		"p":        {"p", "", "false"},
		"catalog#": {"catalog#", "", "false"},
		"#c":       {"#c", "", "false"},
		"p#c#d":    {"p", "c#d", "true"},
	} {
		p, c, ok := Variant(id)
		if p != want[0] || c != want[1] || (ok != (want[2] == "true")) {
			t.Errorf("Variant(%q) = %q, %q, %v; want %v", id, p, c, ok, want)
		}
	}
}
