package inspect

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"obmin/commerceml"
	"obmin/exchange"
	"obmin/internal/golden"
	"obmin/internal/testenv"
)

const inspectCatalog = `<?xml version="1.0" encoding="UTF-8"?>
<КоммерческаяИнформация xmlns="urn:1C.ru:commerceml_2" ВерсияСхемы="2.08" ДатаФормирования="2026-03-01T10:15:00">
  <Классификатор><Ид>k1</Ид><Наименование>Книги</Наименование>
    <Группы><Группа><Ид>g1</Ид><Наименование>Проза</Наименование></Группа></Группы>
  </Классификатор>
  <Каталог СодержитТолькоИзменения="false"><Ид>c1</Ид><ИдКлассификатора>k1</ИдКлассификатора><Наименование>Каталог</Наименование>
    <Товары>
      <Товар><Ид>b1</Ид><Артикул>KOB-01</Артикул><Наименование>Кобзар</Наименование>
        <БазоваяЕдиница Код="796 ">шт</БазоваяЕдиница></Товар>
      <Товар><Ид>b2</Ид><Наименование>Енеїда</Наименование>
        <БазоваяЕдиница Код="796">шт</БазоваяЕдиница></Товар>
      <Товар Статус="Удален"><Ид>b3</Ид><Артикул>KOB-01</Артикул><Наименование>Кобзар (старе)</Наименование></Товар>
    </Товары>
  </Каталог>
</КоммерческаяИнформация>
`

const inspectOffers = `<?xml version="1.0" encoding="UTF-8"?>
<КоммерческаяИнформация ВерсияСхемы="2.08" ДатаФормирования="2026-03-01T10:15:00">
  <ПакетПредложений СодержитТолькоИзменения="true"><Ид>p1</Ид><Наименование>Пакет</Наименование>
    <ТипыЦен><ТипЦены><Ид>rt</Ид><Наименование>Роздрібна</Наименование><Валюта>грн</Валюта></ТипЦены></ТипыЦен>
    <Предложения>
      <Предложение><Ид>b1</Ид><Наименование>Кобзар</Наименование>
        <Цены><Цена><ИдТипаЦены>rt</ИдТипаЦены><ЦенаЗаЕдиницу>250.00</ЦенаЗаЕдиницу><Валюта>грн</Валюта></Цена></Цены>
        <Количество>-2</Количество></Предложение>
      <Предложение><Ид>b2#red</Ид><Наименование>Енеїда, червона</Наименование>
        <Цены><Цена><ИдТипаЦены>rt</ИдТипаЦены><ЦенаЗаЕдиницу>1200</ЦенаЗаЕдиницу><Единица>уп</Единица><Коэффициент>10</Коэффициент></Цена></Цены>
      </Предложение>
      <Предложение><Ид>b3</Ид><Наименование>Кобзар (старе)</Наименование></Предложение>
    </Предложения>
  </ПакетПредложений>
</КоммерческаяИнформация>
`

const inspectFeed = `<?xml version="1.0" encoding="UTF-8"?>
<yml_catalog date="2026-03-01 10:00">
  <shop><name>Книгарня</name>
    <currencies><currency id="UAH" rate="1"/></currencies>
    <offers>
      <offer id="1" available="true"><price>250</price><currencyId>UAH</currencyId><vendorCode>KOB-01</vendorCode><quantity_in_stock>3</quantity_in_stock></offer>
      <offer id="2" available="false"><price>99.999</price><currencyId>UAH</currencyId><vendorCode>EN-02</vendorCode></offer>
      <offer id="3"><currencyId>UAH</currencyId></offer>
    </offers>
  </shop>
</yml_catalog>
`

const inspect31 = `<?xml version="1.0" encoding="UTF-8"?>
<КоммерческаяИнформация xmlns="urn:1C.ru:commerceml_3" ВерсияСхемы="3.1" ДатаФормирования="2026-03-01T10:15:00">
  <Контейнер><Документ><Ид>1</Ид></Документ></Контейнер>
</КоммерческаяИнформация>
`

func inspectZip(t *testing.T, entries ...string) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for i := 0; i < len(entries); i += 2 {
		w, err := zw.Create(entries[i])
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write([]byte(entries[i+1])); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestInspectGolden inspects files written here and compares the output with testdata/<name>.golden
// (go test ./exchange -run TestInspectGolden -update rewrites them). The args are those of `obmin inspect`.
func TestInspectGolden(t *testing.T) {
	zipTwo := inspectZip(t, "webdata/import.xml", inspectCatalog, "webdata/offers.xml", inspectOffers, "webdata/import_files/ab/kobzar.jpg", "\xFF\xD8\xFF")
	zipSlip := inspectZip(t, "import.xml", inspectCatalog, "../../evil.xml", inspectOffers)
	truncated := inspectCatalog[:strings.Index(inspectCatalog, "<Товар Статус")]
	cases := []struct {
		name  string
		files map[string]string
		args  []string // relative to the folder the files are in; "." is the folder
		fail  bool     // a file refused or broken
	}{
		{"drop", map[string]string{"import.xml": inspectCatalog, "offers.xml": inspectOffers,
			"import_files/ab/kobzar.jpg": "\xFF\xD8\xFF", "notes.txt": "ok", "~$import.xml": ""}, []string{"."}, false},
		{"drop-json", map[string]string{"import.xml": inspectCatalog, "offers.xml": inspectOffers}, []string{"-json", "-problems", "2", "."}, false},
		{"feed", map[string]string{"prom.xml": inspectFeed}, []string{"prom.xml"}, false},
		{"zip-two-entries", map[string]string{"export.zip": string(zipTwo)}, []string{"."}, false},
		{"zip-slip", map[string]string{"export.zip": string(zipSlip)}, []string{"export.zip"}, true},
		{"commerceml-31", map[string]string{"documents.xml": inspect31}, []string{"documents.xml"}, true},
		{"not-xml", map[string]string{"import.xml": "Вивантаження не вдалося\r\n", "photo.xml": "\x89PNG\r\n\x1a\n"}, []string{"import.xml", "photo.xml"}, true},
		{"truncated-drop", map[string]string{"import.xml": truncated, "offers.xml": inspectOffers}, []string{"."}, true},
		{"missing", nil, []string{"nowhere.xml"}, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			for name, body := range tc.files {
				p := filepath.Join(dir, filepath.FromSlash(name))
				if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			var paths []string
			opt := Options{MaxProblems: 10}
			for i := 0; i < len(tc.args); i++ {
				switch a := tc.args[i]; a {
				case "-json":
					opt.JSON = true
				case "-problems":
					i++
					n, err := strconv.Atoi(tc.args[i])
					if err != nil {
						t.Fatal(err)
					}
					opt.MaxProblems = n
				default:
					paths = append(paths, filepath.Join(dir, a))
				}
			}
			var buf bytes.Buffer
			tot, err := Run(context.Background(), &buf, paths, opt)
			out := buf.String()
			if err != nil || (tot.Failed() > 0) != tc.fail {
				t.Fatalf("err %v, totals %+v, want failure %v\n%s", err, tot, tc.fail, out)
			}
			if opt.JSON {
				var v any
				if jerr := json.Unmarshal([]byte(out), &v); jerr != nil {
					t.Fatalf("JSON output is not JSON: %v\n%s", jerr, out)
				}
			}
			got := strings.ReplaceAll(out, dir, "$DIR")
			golden.Assert(t, filepath.Join("testdata", tc.name+".golden"), []byte(got))
		})
	}
}

// TestInspectZipLeavesNothing: the temporary folder a zip is unpacked into is removed afterwards.
func TestInspectZipLeavesNothing(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	p := filepath.Join(t.TempDir(), "export.zip")
	if err := os.WriteFile(p, inspectZip(t, "import.xml", inspectCatalog), 0o644); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if tot, err := Run(context.Background(), &out, []string{p}, Options{}); err != nil || tot.Failed() > 0 {
		t.Fatalf("%v %+v\n%s", err, tot, out.String())
	}
	left, err := os.ReadDir(tmp)
	if err != nil || len(left) != 0 {
		t.Fatalf("left behind in the temporary folder: %v %v", left, err)
	}
}

// collectSink keeps the reports and the drops' plans.
type collectSink struct {
	reps  []*fileReport
	plans []*dropPlan
}

func (s *collectSink) begin(string) error       { return nil }
func (s *collectSink) record(string, any) error { return nil }
func (s *collectSink) end(r *fileReport) error  { s.reps = append(s.reps, r); return nil }
func (s *collectSink) drop(p *dropPlan) error   { s.plans = append(s.plans, p); return nil }
func (s *collectSink) finish(Totals) error      { return nil }

// TestInspectEverySharedSample walks every file of the shared sample folder (testenv.Shared): each is read, or refused or
// broken with a named reason kind and a message naming the file.
func TestInspectEverySharedSample(t *testing.T) {
	root := testenv.Shared(t, "samples")
	known := map[string]bool{reasonCommerceML3: true, reasonOtherXML: true, reasonNotXML: true, reasonEncoding: true,
		reasonWrongEnc: true, reasonEmpty: true, reasonTruncated: true, reasonMalformed: true, reasonBadValue: true,
		reasonTooLarge: true, reasonZipUnsafe: true, reasonZipLimit: true, reasonZipBroken: true}
	// What particular samples are (provenance and facts: the notes beside them in the sample folder).
	want := map[string]string{
		"commerceml/SOURCES.md":              "refused not-xml",
		"yml/SOURCES.md":                     "refused not-xml",
		"commerceml/xsd/CommerceML2.0.8.XSD": "refused other-xml",
		"commerceml/xsd/commerceML 2.09.xsd": "refused other-xml",
		"commerceml/xsd/commerceML 2.10.xsd": "refused other-xml",
		"commerceml/irpsv__commerceml/tests/assets/bitrix-module-6/goods/1/rests.xml":                "refused commerceml-3",
		"commerceml/irpsv__commerceml/tests/assets/bitrix-module-6/documents/2/documents.xml":        "refused commerceml-3",
		"commerceml/gillbeits__commerceml/example/prices___d66a6b51-ce9c-4e7a-8c7c-25079721107f.xml": "read prices",
		"commerceml/gillbeits__commerceml/example/rests___1af6e7b8-a026-4690-9752-1c9d64cb914d.xml":  "read rests",
		"commerceml/dobromyslov__commerceml-parser/data/bitrix-query-response-empty.xml":             "read empty",
		"commerceml/carono__yii2-1c-exchange/files/xml/from.xml":                                     "read documents",
		"yml/pojitonov__pricelist/rozetka.xml":                                                       "broken invalid-value rozetka",
		"yml/Security-Arts__rozetka/rozetka.xml":                                                     "read rozetka",
		"yml/kryshtof208-prog__Feed-Marketplaces/epicentr_feed.xml":                                  "read epicentr",
		"yml/kryshtof208-prog__Feed-Marketplaces/test_maudau_feed.xml":                               "read maudau",
		"yml/xvalikan__avtopro-pricelist/prom.xml":                                                   "read prom",
		"yml/alehano__goyml/yml.xml":                                                                 "read yml",
	}
	sink := &collectSink{}
	in := &inspector{maxProblems: 10, sink: sink}
	in.resetDrop()
	seen := 0
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, err := filepath.Rel(root, p)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		seen++
		sink.reps = nil
		if _, err := in.file(context.Background(), p, rel); err != nil {
			t.Fatalf("%s: %v", rel, err)
		}
		r := sink.reps[0]
		got := r.Status + " " + r.Reason
		switch {
		case r.Status == statusRead:
			got = r.Status
			if r.Kind != "" {
				got += " " + r.Kind
			}
			if r.Error != nil || r.Reason != "" {
				t.Errorf("%s: read, yet error %v reason %q", rel, r.Error, r.Reason)
			}
		case !known[r.Reason]:
			t.Errorf("%s: %s with no named reason kind (%q)", rel, r.Status, r.Reason)
		case r.Error == nil || !strings.Contains(*r.Error, rel) || len(r.Problems) == 0 || r.Problems[0].Severity != "error":
			t.Errorf("%s: %s (%s) without a first error naming the file: %+v", rel, r.Status, r.Reason, r)
		}
		if r.Flavour != "" {
			got += " " + r.Flavour
		}
		if w, ok := want[rel]; ok && !strings.HasPrefix(got, w) {
			t.Errorf("%s: %q, want %q", rel, got, w)
		}
		if r.Status == statusRead && r.Format == "commerceml" && !strings.HasPrefix(r.Schema, "2.") {
			t.Errorf("%s: read with ВерсияСхемы %q", rel, r.Schema)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if seen < 30 {
		t.Fatalf("only %d sample files under %s", seen, root)
	}
}

// TestInspectPlanIsTheService: the order and price type inspect announces for a drop are the ones the
// service takes: exchange.ApplyOrder runs on a copy of the same drop, and ResolvePriceType on its types.
func TestInspectPlanIsTheService(t *testing.T) {
	prices := strings.ReplaceAll(inspectOffers, "<ПакетПредложений СодержитТолькоИзменения=\"true\">", "<ПакетПредложений>")
	prices = strings.ReplaceAll(prices, "<ТипЦены><Ид>rt</Ид>", "<ТипЦены><Ид>wh</Ид><Наименование>Оптова</Наименование></ТипЦены><ТипЦены><Ид>rt</Ид>")
	empty := `<?xml version="1.0" encoding="UTF-8"?>` + "\n" + `<КоммерческаяИнформация ВерсияСхемы="2.08"/>`
	cases := []struct {
		name  string
		files map[string]string
	}{
		{"numbered", map[string]string{"offers10.xml": inspectOffers, "import10.xml": inspectCatalog, "import.xml": inspectCatalog,
			"import2.xml": inspectCatalog, "offers.xml": prices, "orders.xml": empty}},
		{"zipped", map[string]string{"a.zip": string(inspectZip(t, "webdata/offers.xml", prices, "webdata/import_files/x/import9.xml", inspectCatalog,
			"webdata/import_files/x/k.jpg", "\xFF\xD8\xFF")), "import.xml": inspectCatalog, "prom.xml": inspectFeed}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir, copyDir := t.TempDir(), t.TempDir()
			for name, body := range tc.files {
				for _, d := range []string{dir, copyDir} {
					if err := os.WriteFile(filepath.Join(d, name), []byte(body), 0o644); err != nil {
						t.Fatal(err)
					}
				}
			}
			sink := &collectSink{}
			in := &inspector{maxProblems: 10, sink: sink}
			if _, err := in.drop(context.Background(), dir); err != nil {
				t.Fatal(err)
			}
			if len(sink.plans) != 1 || sink.plans[0].Verdict != verdictApply {
				t.Fatalf("plans %+v", sink.plans)
			}
			plan := sink.plans[0]
			var got []string
			for _, st := range plan.Order {
				if !strings.HasSuffix(st.File, ".zip") {
					got = append(got, st.File)
				}
			}
			want, err := exchange.ApplyOrder(copyDir) // unpacks the copy's archives in place, as the service does
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, want) {
				t.Errorf("inspect's order %q, the service's %q", got, want)
			}
			var types []commerceml.PriceType
			for _, r := range sink.reps {
				types = append(types, r.priceTypes...)
			}
			if id, err := exchange.DefaultMapping().ResolvePriceType(types); err != nil || id != plan.PriceType {
				t.Errorf("inspect's price type %q, the service's %q (%v)", plan.PriceType, id, err)
			}
		})
	}
}
