package commerceml

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"obmin/internal/testenv"
)

// readSampleStats is what TestReadSharedSamples counts in one file.
type readSampleStats struct {
	sum                        Summary
	withQty, negative, deleted int
	codes                      map[string]bool
	lines                      int
}

func readSample(t *testing.T, path string) (readSampleStats, error) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	st := readSampleStats{codes: map[string]bool{}}
	h := Handler{
		Good: func(g Good) error {
			if g.Deleted {
				st.deleted++
			}
			st.codes[g.Unit.Code] = true
			return nil
		},
		Offer: func(o Offer) error {
			if o.Quantity != nil {
				st.withQty++
				if o.Quantity.IsNegative() {
					st.negative++
				}
			}
			for _, s := range o.Stocks {
				if s.Quantity.IsNegative() {
					st.negative++
				}
			}
			if o.Deleted {
				st.deleted++
			}
			return nil
		},
		Document: func(d Document) error { st.lines += len(d.Lines); return nil },
	}
	st.sum, err = Read(f, filepath.Base(path), h)
	return st, err
}

// TestReadSharedSamples reads every real CommerceML file of the shared sample folder
// (testenv.Shared "samples/commerceml", with its provenance notes): every 2.x file must read without
// error and agree with Sniff; 3.1 files must be refused.
func TestReadSharedSamples(t *testing.T) {
	root := testenv.Shared(t, "samples/commerceml")
	// Facts about particular samples, checked on top of "reads without error".
	checks := map[string]func(t *testing.T, st readSampleStats){
		// docs/commerceml.md §3.2: only 81 of 1455 offers carry Количество; absent is not 0.
		"irpsv__commerceml/tests/assets/cs-cart/offers.xml": func(t *testing.T, st readSampleStats) {
			if st.sum.Offers != 1455 || st.withQty != 81 || st.sum.Kind != KindOffers {
				t.Errorf("offers %d with Количество %d kind %q; want 1455, 81, offers", st.sum.Offers, st.withQty, st.sum.Kind)
			}
		},
		"gillbeits__commerceml/example/rests___1af6e7b8-a026-4690-9752-1c9d64cb914d.xml": func(t *testing.T, st readSampleStats) {
			if st.negative == 0 || st.sum.Kind != KindRests || !st.sum.OnlyChanges {
				t.Errorf("negative %d kind %q only_changes %v; want a negative quantity, rests, true", st.negative, st.sum.Kind, st.sum.OnlyChanges)
			}
		},
		"gillbeits__commerceml/example/prices___d66a6b51-ce9c-4e7a-8c7c-25079721107f.xml": func(t *testing.T, st readSampleStats) {
			if st.sum.Kind != KindPrices || st.sum.Offers != 978 {
				t.Errorf("kind %q offers %d; want prices, 978", st.sum.Kind, st.sum.Offers)
			}
		},
		"gillbeits__commerceml/example/import___b815e2db-7a65-4265-9241-5f0c4f0565a7.xml": func(t *testing.T, st readSampleStats) {
			// УТ 11 puts price types and warehouses in Классификатор (docs/commerceml.md §3.2).
			if st.sum.Kind != KindCatalog || st.sum.PriceTypes != 1 || st.sum.Warehouses != 1 || st.sum.Groups != 97 {
				t.Errorf("summary %+v", st.sum)
			}
		},
		"dobromyslov__commerceml-parser/data/import0_1.xml": func(t *testing.T, st readSampleStats) {
			if st.deleted == 0 || !st.codes["796"] || st.codes["796 "] || st.sum.Goods != 36 {
				t.Errorf("deleted %d codes %v goods %d; want deleted goods, Код 796 trimmed, 36 goods", st.deleted, st.codes, st.sum.Goods)
			}
		},
		"carono__yii2-1c-exchange/files/xml/from.xml": func(t *testing.T, st readSampleStats) {
			if st.sum.Kind != KindDocuments || st.sum.Documents != 1 || st.lines != 2 {
				t.Errorf("windows-1251 order: kind %q documents %d lines %d", st.sum.Kind, st.sum.Documents, st.lines)
			}
		},
		"carono__yii2-1c-exchange/files/xml/to.xml": func(t *testing.T, st readSampleStats) {
			if st.sum.Kind != KindDocuments || st.sum.Documents == 0 {
				t.Errorf("windows-1251 order: kind %q documents %d", st.sum.Kind, st.sum.Documents)
			}
		},
	}
	seen := 0
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && d.Name() == "xsd" {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.EqualFold(filepath.Ext(path), ".xml") {
			return nil
		}
		rel, err := filepath.Rel(root, path)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		seen++
		t.Run(rel, func(t *testing.T) {
			st, err := readSample(t, path)
			if strings.Contains(rel, "bitrix-module-6") { // CommerceML 3.1 (docs/commerceml.md §1.4)
				if !errors.Is(err, ErrUnsupportedVersion) {
					t.Fatalf("3.1 file: got %v, want ErrUnsupportedVersion", err)
				}
				t.Logf("refused: %v", err)
				return
			}
			if err != nil {
				t.Fatalf("read: %v", err)
			}
			s := st.sum
			t.Logf("kind=%s v=%s ns=%q changes=%v groups=%d price_types=%d warehouses=%d goods=%d offers=%d (with Количество %d, negative %d) deleted=%d documents=%d (lines %d)",
				s.Kind, s.Header.SchemaVersion, s.Header.Namespace, s.OnlyChanges, s.Groups, s.PriceTypes, s.Warehouses, s.Goods, s.Offers, st.withQty, st.negative, st.deleted, s.Documents, st.lines)
			if check := checks[rel]; check != nil {
				check(t, st)
				delete(checks, rel)
			}

			f, err := os.Open(path)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			hdr, kind, err := Sniff(f, filepath.Base(path))
			if err != nil || kind != s.Kind || hdr != s.Header {
				t.Errorf("Sniff = %+v, %q, %v; Read said %+v, %q", hdr, kind, err, s.Header, s.Kind)
			}
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if seen == 0 {
		t.Fatal("no sample files found")
	}
	for rel := range checks {
		t.Errorf("sample %s is missing", rel)
	}
}
