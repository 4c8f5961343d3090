package exchange

import (
	"errors"
	"testing"

	"github.com/shopspring/decimal"

	"obmin/commerceml"
)

func TestKopecks(t *testing.T) {
	tests := []struct {
		in      string
		want    int64
		wantErr bool
	}{
		{"350", 35000, false},
		{"350.00", 35000, false},
		{"185.5", 18550, false},
		{"0.01", 1, false},
		{"199.99", 19999, false},
		{"12.345", 0, true}, // a third decimal is not ours to round away
		{"0", 0, true},
		{"-5", 0, true},
		{"10000000", 0, true}, // 10^9 kopecks: Checkbox's bound is exclusive
		{"9999999.99", 999999999, false},
	}
	for _, tt := range tests {
		got, err := Kopecks(decimal.RequireFromString(tt.in))
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("Kopecks(%s) = %d, %v; want %d, err %v", tt.in, got, err, tt.want, tt.wantErr)
		}
	}
}

func TestThousandths(t *testing.T) {
	for in, want := range map[string]int64{"1": 1000, "2.25": 2250, "0.125": 125, "5.2505": 5251, "-1": -1000} {
		if got := Thousandths(decimal.RequireFromString(in)); got != want {
			t.Errorf("Thousandths(%s) = %d, want %d", in, got, want)
		}
	}
}

func TestTaxCodes(t *testing.T) {
	m := Mapping{VAT: map[string][]int{"20": {1}, "7%": {2}, "Без ПДВ": {8}}, DefaultTaxCodes: []int{3}}
	tests := map[string][]int{"20": {1}, "20.00": {1}, " 20 % ": {1}, "7": {2}, "без пдв": {8}, "БЕЗ  ПДВ": {8}, "0": {3}, "": {3}}
	for rate, want := range tests {
		got := m.TaxCodes(rate)
		if len(got) != len(want) || (len(got) > 0 && got[0] != want[0]) {
			t.Errorf("TaxCodes(%q) = %v, want %v", rate, got, want)
		}
	}
}

func TestCodeAndWeight(t *testing.T) {
	g := commerceml.Good{ID: "guid-1", Article: " KN-1 ", Barcodes: []string{"482", "483"}, Unit: commerceml.Unit{Code: "166"}}
	for field, want := range map[string]string{CodeFromArticle: "KN-1", CodeFromID: "guid-1", CodeFromBarcode: "482", "": "KN-1"} {
		if got := (Mapping{CodeField: field}).Code(g); got != want {
			t.Errorf("Code(%q) = %q, want %q", field, got, want)
		}
	}
	if !DefaultMapping().IsWeight(g.Unit) || DefaultMapping().IsWeight(commerceml.Unit{Code: "796"}) {
		t.Error("kilogram (166) is weighed, piece (796) is not")
	}
}

func TestResolvePriceType(t *testing.T) {
	retail := commerceml.PriceType{ID: "r", Name: "Роздрібна"}
	whole := commerceml.PriceType{ID: "w", Name: "Оптова"}
	other := commerceml.PriceType{ID: "o", Name: "Акційна"}
	tests := []struct {
		name    string
		conf    string
		types   []commerceml.PriceType
		want    string
		wantErr bool
	}{
		{"only one", "", []commerceml.PriceType{whole}, "w", false},
		{"retail by name", "", []commerceml.PriceType{whole, retail}, "r", false},
		{"russian retail", "", []commerceml.PriceType{whole, {ID: "x", Name: "Розничная цена"}}, "x", false},
		{"ambiguous", "", []commerceml.PriceType{whole, other}, "", true},
		{"configured by id", "w", []commerceml.PriceType{whole, retail}, "w", false},
		{"configured by name", "оптова", []commerceml.PriceType{whole, retail}, "w", false},
		{"configured but absent", "Гуртова", []commerceml.PriceType{whole, retail}, "", true},
		{"none announced, id configured", "r", nil, "r", false},
		{"repeated announcements", "", []commerceml.PriceType{whole, whole}, "w", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Mapping{PriceType: tt.conf}.ResolvePriceType(tt.types)
			if (err != nil) != tt.wantErr || got != tt.want {
				t.Fatalf("got %q, %v; want %q, err %v", got, err, tt.want, tt.wantErr)
			}
			var in *InputError
			if err != nil && !errors.As(err, &in) {
				t.Fatalf("a bad price type configuration must fail the drop as bad input, got %T", err)
			}
		})
	}
}
