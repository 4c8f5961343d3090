package exchange

import (
	"reflect"
	"strings"
	"testing"
)

func TestBarcodeRules(t *testing.T) {
	for _, tt := range []struct {
		value string
		ok    bool
	}{
		{"9789660301238", true},  // EAN-13 (ISBN)
		{"9789660301235", false}, // EAN-13, wrong check digit
		{"4820000000109", true},
		{"2000000000015", true}, // in-store EAN-13
		{"96385074", true},      // EAN-8
		{"96385075", false},
		{"036000291452", true}, // UPC-A
		{"036000291453", false},
		{"10036000291459", true}, // GTIN-14
		{"12345", true},          // internal code of another length
		{"KN-0001/A", true},      // internal code printed as Code 128
		{"КН-0001", false},       // Cyrillic
		{"978 966", false},       // a space inside
		{"", false},
		{strings.Repeat("1", 101), false},
	} {
		if got := barcodeProblem(tt.value) == ""; got != tt.ok {
			t.Errorf("barcodeProblem(%q) = %q, want ok=%v", tt.value, barcodeProblem(tt.value), tt.ok)
		}
	}
	good, bad := splitBarcodes([]string{"9789660301235", "9789660301238", "12345"})
	if !reflect.DeepEqual(good, []string{"9789660301238", "12345"}) || len(bad) != 1 || !strings.Contains(bad[0], "9789660301235") {
		t.Errorf("split: %q %q", good, bad)
	}
}
