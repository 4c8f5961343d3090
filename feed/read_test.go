package feed

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"obmin/internal/golden"
	"obmin/internal/testenv"
)

type transcript struct {
	Offers  []Offer `json:"offers"`
	Summary Summary `json:"summary"`
	Error   string  `json:"error,omitempty"`
}

func readAll(t *testing.T, path string) transcript {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var g transcript
	g.Summary, err = Read(f, filepath.Base(path), func(o Offer) error { g.Offers = append(g.Offers, o); return nil })
	if err != nil {
		g.Error = err.Error()
	}
	return g
}

// TestReadGolden reads every testdata/*.xml and compares with testdata/*.golden.json (-update rewrites).
func TestReadGolden(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join("testdata", "*.xml"))
	if len(files) == 0 {
		t.Fatal("no test files")
	}
	for _, p := range files {
		t.Run(filepath.Base(p), func(t *testing.T) {
			got, err := json.MarshalIndent(readAll(t, p), "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			golden.Assert(t, strings.TrimSuffix(p, ".xml")+".golden.json", append(got, '\n'))
		})
	}
}

// TestReadFacts states what the golden files encode.
func TestReadFacts(t *testing.T) {
	r := readAll(t, "testdata/rozetka.xml")
	if r.Error != "" || len(r.Offers) != 2 || r.Summary.Header.Shop != "Книгарня «Обмін»" || r.Summary.Categories != 2 || r.Summary.Currencies != 1 {
		t.Fatalf("rozetka: %+v", r)
	}
	o := r.Offers[0]
	if o.ID != "KN-000001" || !*o.Available || o.Price.String() != "350" || o.Currency != "UAH" || o.VendorCode != "KN-000001" ||
		o.Title() != "Кобзар" || o.Name != "Кобзарь" || o.Quantity.String() != "12" || len(o.Barcodes) != 1 || o.Line != 12 {
		t.Errorf("offer 1: %+v", o)
	}
	if o := r.Offers[1]; o.Price.String() != "1250.5" || *o.Available || len(o.Barcodes) != 2 || o.Name != "Словник\u00a0великий" {
		t.Errorf("offer 2: %+v", o)
	}

	p := readAll(t, "testdata/prom-prices.xml")
	if p.Offers[0].Quantity.String() != "1" { // quantity_in_stock wins over quantity
		t.Errorf("prom quantity %v", p.Offers[0].Quantity)
	}
	if o := p.Offers[1]; o.Available == nil || *o.Available || o.Quantity.String() != "0" {
		t.Errorf("prom in_stock/quantity: %+v", o)
	}
	if o := p.Offers[2]; o.Available != nil || o.Quantity != nil || o.GroupID != "77" {
		t.Errorf("prom bare offer: %+v", o)
	}

	e := readAll(t, "testdata/epicentr.xml")
	if e.Error != "" || len(e.Offers) != 1 || e.Offers[0].NameUA != "Валіза" || e.Offers[0].Name != "Чемодан" || e.Offers[0].Quantity != nil {
		t.Errorf("epicentr: %+v", e)
	}

	h := readAll(t, "testdata/hotline.xml")
	if h.Error != "" || h.Summary.Header.Format != FormatHotline || h.Summary.Header.Shop != "Книгарня" || len(h.Offers) != 2 {
		t.Fatalf("hotline: %+v", h)
	}
	if o := h.Offers[0]; o.ID != "H-1" || o.VendorCode != "KN-9" || o.Price.String() != "99.9" || o.Currency != "UAH" || o.Quantity.String() != "5" || !*o.Available {
		t.Errorf("hotline item 1: %+v", o)
	}
	if o := h.Offers[1]; *o.Available || o.Quantity != nil {
		t.Errorf("hotline item 2: %+v", o)
	}
}

func TestReadErrors(t *testing.T) {
	tests := []struct {
		name, in string
		is       error
		msg      string
	}{
		{"commerceml", `<?xml version="1.0"?><КоммерческаяИнформация ВерсияСхемы="2.08"/>`, ErrNotFeed, `f.xml:1: <КоммерческаяИнформация>: root element is <КоммерческаяИнформация>, want <yml_catalog> or Hotline's <price>`},
		{"html", "<html><body/></html>", ErrNotFeed, "root element is <html>"},
		{"empty", "", ErrTruncated, "before the root element"},
		{"truncated", `<yml_catalog><shop><offers><offer id="1"><price>1`, ErrTruncated, "f.xml:1: <price>: unexpected end of file"},
		{"bad price", "<yml_catalog><offers>\n<offer id=\"1\"><price>12x</price></offer></offers></yml_catalog>", nil, `f.xml:2: <offer>: price "12x": not a decimal`},
		{"bad available", `<yml_catalog><offers><offer id="1" available="maybe"/></offers></yml_catalog>`, nil, `available "maybe": not true or false`},
		{"no id", `<yml_catalog><offers><offer available="true"><price>1</price></offer></offers></yml_catalog>`, nil, "no id"},
		{"cyrillic attribute", `<yml_catalog><offers><offer id="1" аvailable="true"/></offers></yml_catalog>`, nil,
			`attribute "аvailable" is spelled with non-Latin letters ('а' U+0430 at 1); it must be "available"`},
		{"encoding", `<?xml version="1.0" encoding="koi8-r"?><yml_catalog/>`, ErrUnsupportedEncoding, "koi8-r"},
		{"deep", "<yml_catalog>" + strings.Repeat("<a>", 1000), ErrTooLarge, "nested more than 256 deep"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Read(strings.NewReader(tt.in), "f.xml", nil)
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("got %v (%T), want a *ParseError", err, err)
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("got %v, want %v", err, tt.is)
			}
			if !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("got %q, want it to say %q", err, tt.msg)
			}
		})
	}
}

func TestReadHandlerAndIOError(t *testing.T) {
	stop := errors.New("stop")
	_, err := Read(strings.NewReader(`<yml_catalog><offers><offer id="1"/></offers></yml_catalog>`), "f.xml", func(Offer) error { return stop })
	var pe *ParseError
	if !errors.Is(err, stop) || errors.As(err, &pe) {
		t.Errorf("handler error: %v", err)
	}
	disk := errors.New("disk gone")
	_, err = Read(io.MultiReader(strings.NewReader("<yml_catalog>"), errReader{disk}), "f.xml", nil)
	if !errors.Is(err, disk) || errors.As(err, &pe) {
		t.Errorf("I/O error: %v", err)
	}
}

type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }

func TestSniff(t *testing.T) {
	head := `<?xml version="1.0"?><yml_catalog date="2026-01-01 10:00"><shop><name>S</name><offers><offer id="1">`
	h, err := Sniff(io.MultiReader(strings.NewReader(head), errReader{errors.New("read past the first offer")}), "f.xml")
	if err != nil || h.Format != FormatYML || h.Shop != "S" || h.Date != "2026-01-01 10:00" {
		t.Errorf("Sniff = %+v, %v", h, err)
	}
}

// TestReadAdversarial: huge text and tags end in ErrTooLarge in bounded memory.
func TestReadAdversarial(t *testing.T) {
	big := strings.Repeat("x", 2<<20)
	for name, in := range map[string]string{
		"text":      `<yml_catalog><offers><offer id="1"><name>` + big + `</name></offer></offers></yml_catalog>`,
		"attribute": `<yml_catalog><offers><offer id="` + big + `"/></offers></yml_catalog>`,
		"cdata":     `<yml_catalog><offers><offer id="1"><name>` + strings.Repeat("<![CDATA["+big[:4000]+"]]>", 300) + `</name></offer></offers></yml_catalog>`,
	} {
		_, err := Read(strings.NewReader(in), "f.xml", nil)
		if !errors.Is(err, ErrTooLarge) {
			t.Errorf("%s: got %v, want ErrTooLarge", name, err)
		}
	}
}

// TestReadTruncatedEverywhere cuts a small feed at every byte.
func TestReadTruncatedEverywhere(t *testing.T) {
	data, err := os.ReadFile("testdata/rozetka.xml")
	if err != nil {
		t.Fatal(err)
	}
	last := bytes.LastIndexByte(data, '>')
	for i := 0; i <= len(data); i++ {
		_, err := Read(bytes.NewReader(data[:i]), "f.xml", nil)
		var pe *ParseError
		switch {
		case err == nil && i <= last:
			t.Fatalf("cut at %d: no error", i)
		case err != nil && !errors.As(err, &pe):
			t.Fatalf("cut at %d: %v is not a *ParseError", i, err)
		}
	}
}

// TestReadSharedSamples reads every real feed of the shared sample folder samples/yml: each is read, or refused with a
// precise reason.
func TestReadSharedSamples(t *testing.T) {
	root := testenv.Shared(t, "samples/yml")
	want := map[string]struct {
		offers, withStock int
		refused           string
	}{
		"Security-Arts__rozetka/rozetka.xml":                       {offers: 1, withStock: 1},
		"alehano__goyml/yml.xml":                                   {offers: 2},
		"kryshtof208-prog__Feed-Marketplaces/epicentr_feed.xml":    {offers: 206},
		"kryshtof208-prog__Feed-Marketplaces/test_maudau_feed.xml": {offers: 2, withStock: 2},
		"xvalikan__avtopro-pricelist/prom.xml":                     {offers: 152, withStock: 152},
		// The attribute is written with a Cyrillic "а" in this real feed: availability would be lost silently.
		"pojitonov__pricelist/rozetka.xml": {refused: `attribute "аvailable" is spelled with non-Latin letters ('а' U+0430 at 1); it must be "available"`},
	}
	seen := 0
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.EqualFold(filepath.Ext(path), ".xml") {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		rel = filepath.ToSlash(rel)
		seen++
		t.Run(rel, func(t *testing.T) {
			w, ok := want[rel]
			if !ok {
				t.Fatalf("no expectation for sample %s", rel)
			}
			g := readAll(t, path)
			if w.refused != "" {
				if !strings.Contains(g.Error, w.refused) {
					t.Fatalf("got %q, want refusal %q", g.Error, w.refused)
				}
				t.Logf("refused: %s", g.Error)
				return
			}
			if g.Error != "" {
				t.Fatal(g.Error)
			}
			s := g.Summary
			if s.Offers != w.offers || s.WithStock != w.withStock {
				t.Errorf("offers %d with stock %d; want %d, %d", s.Offers, s.WithStock, w.offers, w.withStock)
			}
			noPrice := 0
			for _, o := range g.Offers {
				if o.Price == nil {
					noPrice++
				}
			}
			t.Logf("format=%s shop=%q date=%q offers=%d with_stock=%d categories=%d without price=%d",
				s.Header.Format, s.Header.Shop, s.Header.Date, s.Offers, s.WithStock, s.Categories, noPrice)
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if seen != len(want) {
		t.Errorf("saw %d samples, expected %d", seen, len(want))
	}
}

// TestNoOffers: a feed without a single offer is refused with the reason, never taken as "sells nothing".
func TestNoOffers(t *testing.T) {
	for file, want := range map[string]string{
		"no-shop.xml":   "neither <shop> nor <offers>",
		"no-offers.xml": "no <offer> in its <offers>",
	} {
		f, err := os.Open(filepath.Join("testdata", file))
		if err != nil {
			t.Fatal(err)
		}
		_, err = Read(f, file, func(Offer) error { return nil })
		f.Close()
		var pe *ParseError
		if !errors.Is(err, ErrNoOffers) || !errors.As(err, &pe) || pe.Line != 2 || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v; want a *ParseError at line 2 saying %q", file, err, want)
		}
	}
}
