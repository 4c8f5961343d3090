package feed

import (
	"errors"
	"strings"
	"testing"

	"golang.org/x/text/encoding/charmap"
)

func cp1251(t *testing.T, s string) string {
	t.Helper()
	b, err := charmap.Windows1251.NewEncoder().String(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestReadEncodingMismatch: a feed whose bytes contradict its declaration fails with ErrWrongEncoding
// at the line of the first such text; windows-1251 text that happens to hold a valid UTF-8 pair ("Рі" is
// 0xD0 0xB3, UTF-8 for "г") is not taken for UTF-8.
func TestReadEncodingMismatch(t *testing.T) {
	feed := func(decl, shop string) string {
		return decl + "\n<yml_catalog date=\"2025-01-01\">\n<shop>\n<name>" + shop + "</name>\n<offers>\n" +
			"<offer id=\"1\"><name>Кобзар</name><price>350</price></offer>\n</offers>\n</shop>\n</yml_catalog>\n"
	}
	const (
		declCP   = `<?xml version="1.0" encoding="windows-1251"?>`
		declUTF8 = `<?xml version="1.0" encoding="UTF-8"?>`
	)
	tests := []struct {
		name     string
		input    string
		shop     string // wanted when no error
		encoding string
		line     int // 0: no error wanted
		contain  string
	}{
		{name: "windows-1251", input: cp1251(t, feed(declCP, "Рівне")), shop: "Рівне", encoding: "windows-1251"},
		{name: "windows-1251, a lone valid UTF-8 pair", input: cp1251(t, feed(declCP, "Рі")), shop: "Рі", encoding: "windows-1251"},
		{name: "UTF-8", input: feed(declUTF8, "Рівне"), shop: "Рівне", encoding: "UTF-8"},
		{name: "windows-1251 declared, UTF-8 bytes", input: feed(declCP, "Книгарня «Обмін»"), line: 4, contain: "bytes are UTF-8"},
		{name: "UTF-8 declared, windows-1251 bytes", input: cp1251(t, feed(declUTF8, "Книгарня «Обмін»")), line: 4, contain: "look like windows-1251"},
		{name: "no declaration, windows-1251 bytes", input: cp1251(t, feed("", "Рівне")), line: 4, contain: `they say "Рівне"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sum, err := Read(strings.NewReader(tt.input), "rozetka.xml", nil)
			if tt.line == 0 {
				if err != nil {
					t.Fatal(err)
				}
				if sum.Header.Shop != tt.shop || sum.Encoding != tt.encoding || sum.Offers != 1 {
					t.Errorf("summary %+v, want shop %q encoding %q", sum, tt.shop, tt.encoding)
				}
				return
			}
			var pe *ParseError
			if !errors.As(err, &pe) || !errors.Is(err, ErrWrongEncoding) {
				t.Fatalf("error %v, want a *ParseError wrapping ErrWrongEncoding", err)
			}
			if pe.Line != tt.line || !strings.Contains(err.Error(), tt.contain) {
				t.Errorf("error %q: line %d, want line %d and %q", err, pe.Line, tt.line, tt.contain)
			}
		})
	}
}
