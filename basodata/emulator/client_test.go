package emulator_test

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"github.com/sirupsen/logrus"

	"obmin/basodata"
	"obmin/basodata/emulator"
)

const password = "s3cret-Пароль"

// env is an emulator behind an httptest server and a client speaking to it.
type env struct {
	t   *testing.T
	emu *emulator.Emulator
	srv *httptest.Server
	c   *basodata.Client
	log *bytes.Buffer
}

func newEnv(t *testing.T, cfg emulator.Config) *env {
	t.Helper()
	cfg.User, cfg.Password = "odata.user", password
	emu := emulator.New(cfg)
	srv := httptest.NewServer(emu)
	t.Cleanup(srv.Close)
	var buf bytes.Buffer
	l := logrus.New()
	l.SetOutput(&buf)
	l.SetLevel(logrus.DebugLevel)
	c, err := basodata.New(basodata.Config{BaseURL: srv.URL + emu.Root(), User: "odata.user", Password: password,
		BaseBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond, PageSize: 2, Logger: logrus.NewEntry(l)})
	if err != nil {
		t.Fatal(err)
	}
	return &env{t: t, emu: emu, srv: srv, c: c, log: &buf}
}

func TestMetadataCheck(t *testing.T) {
	en := newEnv(t, emulator.Config{})
	if _, err := en.c.CheckMetadata(context.Background()); err != nil {
		t.Fatalf("check against the emulator: %v", err)
	}
	m, err := basodata.ParseMetadata(bytes.NewReader(en.emu.Model().EDMX()))
	if err != nil {
		t.Fatal(err)
	}
	delete(m.Sets, basodata.SetTills)
	delete(m.Sets[basodata.SetReport], "ОплатаПлатежнымиКартами")
	m.Functions["Post"] = nil
	err = m.Check(basodata.Requirements())
	var me *basodata.MissingError
	if !errors.As(err, &me) || len(me.Missing) != 3 {
		t.Fatalf("want 3 missing objects, got %v", err)
	}
	for _, want := range []string{"Справочник.КассыККМ («Каси ККМ») (Catalog_КассыККМ) is not published",
		"Document_ОтчетОРозничныхПродажах) lacks ОплатаПлатежнымиКартами", "no Post function", "Настройка стандартного интерфейса OData"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("message lacks %q:\n%v", want, err)
		}
	}
}

func TestLookupsPagingAndFilters(t *testing.T) {
	en := newEnv(t, emulator.Config{MaxPage: 1}) // a server that caps pages below $top
	ctx := context.Background()
	r := en.emu.Refs()
	for _, g := range []emulator.Good{
		{ID: "11111111-0000-4000-8000-000000000001", Article: "A-1", Name: "Книга «Кобзар»", VATRate: "0"},
		{ID: "11111111-0000-4000-8000-000000000002", Article: "O'Neil", Name: "Мар'яна Савка. Вірші", VATRate: "0"},
		{ID: "11111111-0000-4000-8000-000000000003#22222222-0000-4000-8000-000000000001", Article: "T-1", Name: "Футболка (XL)", VATRate: "20"},
	} {
		if err := en.emu.AddGood(g); err != nil {
			t.Fatal(err)
		}
	}
	till, err := basodata.Lookup[basodata.Till](ctx, en.c, basodata.SetTills, "Каса 1 (Checkbox)")
	if err != nil || till.Ref != r.Till || till.Type != "АвтономнаяККМ" {
		t.Fatalf("till by name: %+v %v", till, err)
	}
	if till, err = basodata.Lookup[basodata.Till](ctx, en.c, basodata.SetTills, r.TillCode); err != nil || till.Ref != r.Till {
		t.Fatalf("till by code: %+v %v", till, err)
	}
	if _, err := basodata.Lookup[basodata.Till](ctx, en.c, basodata.SetTills, r.Till); err != nil {
		t.Fatalf("till by key: %v", err)
	}
	// Quotes doubled, Cyrillic percent-encoded.
	g, err := basodata.Lookup[basodata.Good](ctx, en.c, basodata.SetItems, "Мар'яна Савка. Вірші")
	if err != nil || g.Article != "O'Neil" {
		t.Fatalf("good by a name with a quote: %+v %v", g, err)
	}
	var arts []string
	err = basodata.List(ctx, en.c, basodata.SetItems, basodata.Query{Filter: basodata.Eq("Артикул", basodata.Str("O'Neil"))}, func(g basodata.Good) error {
		arts = append(arts, g.Article)
		return nil
	})
	if err != nil || len(arts) != 1 {
		t.Fatalf("filter with a quote: %v %v", arts, err)
	}
	// Paging through a capped server still reads everything.
	n := 0
	if err := basodata.List(ctx, en.c, basodata.SetItems, basodata.Query{}, func(basodata.Good) error { n++; return nil }); err != nil || n != 3 {
		t.Fatalf("paging: %d goods, %v", n, err)
	}
	if _, err := basodata.Lookup[basodata.Till](ctx, en.c, basodata.SetTills, "Немає такої"); !errors.Is(err, basodata.ErrNotFound) {
		t.Fatalf("missing till: %v", err)
	}
	rates, err := en.c.VATRates(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if v, err := basodata.FindVATRate(rates, 2000, false); err != nil || v.Ref != r.VAT20 {
		t.Fatalf("20%%: %+v %v", v, err)
	}
	if v, err := basodata.FindVATRate(rates, 0, true); err != nil || v.Ref != r.NoVAT {
		t.Fatalf("без ПДВ: %+v %v", v, err)
	}
	setup, err := en.c.ResolveTill(ctx, basodata.TillConfig{Till: r.TillCode, Terminal: r.TerminalCode, CardKind: "Visa"})
	if err != nil {
		t.Fatal(err)
	}
	if setup.Store.Ref != r.Shop || setup.PriceKind != r.RetailPriceKind || setup.CashFlowItem != r.CashFlowItem ||
		setup.Organization != r.Organization || setup.ShiftStatus != basodata.ShiftClosed || setup.Terminal != r.Terminal {
		t.Fatalf("resolved till: %+v", setup)
	}
	if _, err := en.c.ResolveTill(ctx, basodata.TillConfig{Till: r.TillCode, Terminal: r.TerminalCode, CardKind: "Amex"}); err == nil ||
		!strings.Contains(err.Error(), "does not list the card kind") {
		t.Fatalf("unknown card kind: %v", err)
	}
	// A literal of the wrong kind is refused, as a typed service does: the client's syntax is proven.
	err = basodata.List(ctx, en.c, basodata.SetTills, basodata.Query{Filter: basodata.Eq("Ref_Key", basodata.Str(r.Till))}, func(basodata.Till) error { return nil })
	var oe *basodata.Error
	if !errors.As(err, &oe) || !oe.OData || !strings.Contains(oe.Message, "type mismatch") {
		t.Fatalf("guid compared with a string: %v", err)
	}
}

func TestErrorsAndRetries(t *testing.T) {
	en := newEnv(t, emulator.Config{})
	ctx := context.Background()
	// A proxy's 502 and a lock conflict are retried; 1C's own refusal is not.
	en.emu.InjectFault(emulator.Fault{Path: basodata.SetTills, Status: 502})
	en.emu.InjectFault(emulator.Fault{Path: basodata.SetTills, Status: 500, Body: "lock"})
	en.emu.InjectFault(emulator.Fault{Path: basodata.SetTills, DropConnection: true})
	if _, err := basodata.Lookup[basodata.Till](ctx, en.c, basodata.SetTills, en.emu.Refs().TillCode); err != nil {
		t.Fatalf("after three transient faults: %v", err)
	}
	en.emu.InjectFault(emulator.Fault{Path: basodata.SetTills, Status: 500, Body: "odata", Times: -1})
	before := en.emu.CountCalls("GET", basodata.SetTills)
	_, err := basodata.Lookup[basodata.Till](ctx, en.c, basodata.SetTills, "x")
	var oe *basodata.Error
	if !errors.As(err, &oe) || !oe.OData || oe.Code != "-1" || !strings.Contains(err.Error(), "внутренняя ошибка OData") {
		t.Fatalf("1C's own error: %v", err)
	}
	if n := en.emu.CountCalls("GET", basodata.SetTills) - before; n != 1 {
		t.Fatalf("1C's own refusal was sent %d times, want once", n)
	}
	en.emu.ClearFaults()
	// An outage ends in an error after the attempts, naming the cause.
	en.emu.InjectFault(emulator.Fault{Status: 503, Times: -1})
	if _, err := en.c.Metadata(ctx); err == nil || !strings.Contains(err.Error(), "gave up after 5 attempts") {
		t.Fatalf("outage: %v", err)
	}
	en.emu.ClearFaults()
	// Wrong password: a 401, never retried, the password in no error and no log line.
	bad, _ := basodata.New(basodata.Config{BaseURL: en.srv.URL + en.emu.Root(), User: "odata.user", Password: "wrong-" + password})
	if _, err := bad.Metadata(ctx); err == nil || !strings.Contains(err.Error(), "401") || strings.Contains(err.Error(), password) {
		t.Fatalf("wrong password: %v", err)
	}
	if strings.Contains(en.log.String(), password) {
		t.Fatal("the password reached the log")
	}
	// A row posted on its own gets 1C's error 13.
	raw := `{"LineNumber":"1"}`
	req, _ := http.NewRequest("POST", en.srv.URL+en.emu.Root()+"/Document_ОтчетОРозничныхПродажах_Запасы?$format=json", strings.NewReader(raw))
	req.SetBasicAuth("odata.user", password)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 400 {
		t.Fatalf("row POST: %d", resp.StatusCode)
	}
}

// sampleReport is a report for the emulator's seeded till: one sale of two pieces, one return.
func sampleReport(t *testing.T, en *env, ref string) basodata.Report {
	t.Helper()
	r := en.emu.Refs()
	good := "33333333-0000-4000-8000-000000000001"
	if err := en.emu.AddGood(emulator.Good{ID: good, Article: "B-1", Name: "Книга", VATRate: "0", Stock: decimal.NewFromInt(10)}); err != nil {
		t.Fatal(err)
	}
	start := basodata.WallClock(time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC), en.c.Location())
	end := basodata.WallClock(time.Date(2026, 3, 2, 18, 0, 0, 0, time.UTC), en.c.Location())
	return basodata.Report{
		Ref: ref, Date: end, Currency: r.Currency, PriceKind: r.RetailPriceKind, Till: r.Till, Comment: "Checkbox: зміна 1; obmin-shift=S1",
		ShiftStart: start, ShiftEnd: end, Organization: r.Organization, Department: r.Department, Store: r.Shop,
		ShiftStatus: basodata.ShiftClosed, Total: 15000, VATTaxation: "ОблагаетсяНДС", IncludesVAT: true, CashFlowItem: r.CashFlowItem,
		Stock: []basodata.StockRow{
			{Line: 1, Good: good, Quantity: 2000, Unit: r.Piece, UnitType: basodata.UnitTypeClassifier, Price: 15000, Sum: 30000, VATRate: r.VAT0, Total: 30000},
			{Line: 2, Good: good, Quantity: -1000, Unit: r.Piece, UnitType: basodata.UnitTypeClassifier, Price: 15000, Sum: -15000, VATRate: r.VAT0, Total: -15000, Returned: 1000},
		},
		Cards: []basodata.CardRow{{Line: 1, Terminal: r.Terminal, CardKind: "Visa", CardNumber: "444433******1234", Sum: 10000, PaidOn: end.DateOnly()}},
	}
}

func TestSyncExactlyOnce(t *testing.T) {
	for _, mode := range []string{basodata.KeyByRef, basodata.KeyByComment} {
		for _, own := range []bool{false, true} {
			t.Run(mode+map[bool]string{false: "", true: "/base-assigns-keys"}[own], func(t *testing.T) {
				en := newEnv(t, emulator.Config{AssignOwnKeys: own})
				ctx := context.Background()
				want := sampleReport(t, en, "77777777-0000-4000-8000-000000000001")
				opt := basodata.SyncOptions{KeyMode: mode, Marker: "obmin-shift=S1", Post: true}
				// The POST takes effect but its answer is lost; then Post fails once at the proxy.
				en.emu.InjectFault(emulator.Fault{Method: "POST", Path: basodata.SetReport, AfterHandling: true, DropConnection: true})
				en.emu.InjectFault(emulator.Fault{Method: "POST", Path: basodata.SetReport + "(", Status: 504})
				res, err := en.c.Sync(ctx, want, opt)
				if err != nil {
					t.Fatal(err)
				}
				if !res.Posted || res.Total != 15000 {
					t.Fatalf("result %+v", res)
				}
				if n := len(en.emu.Reports()); n != 1 {
					t.Fatalf("%d reports, want 1", n)
				}
				if got := en.emu.StockOf(en.emu.Refs().Shop, "33333333-0000-4000-8000-000000000001", ""); !got.Equal(decimal.NewFromInt(9)) {
					t.Fatalf("stock %s, want 10 - 2 + 1 = 9", got)
				}
				// Again: nothing changes, nothing is written.
				writes := en.emu.CountCalls("PATCH", "") + en.emu.CountCalls("POST", "")
				if res, err = en.c.Sync(ctx, want, opt); err != nil || res.Created || res.Updated {
					t.Fatalf("second sync: %+v %v", res, err)
				}
				if n := en.emu.CountCalls("PATCH", "") + en.emu.CountCalls("POST", ""); n != writes {
					t.Fatalf("second sync wrote %d times", n-writes)
				}
				// A late receipt: the report is rewritten and posted again, once.
				want.Stock[0].Quantity, want.Stock[0].Sum, want.Stock[0].Total, want.Total = 3000, 45000, 45000, 30000
				if res, err = en.c.Sync(ctx, want, opt); err != nil || !res.Updated || !res.Posted || res.Total != 30000 {
					t.Fatalf("late receipt: %+v %v", res, err)
				}
				if got := en.emu.StockOf(en.emu.Refs().Shop, "33333333-0000-4000-8000-000000000001", ""); !got.Equal(decimal.NewFromInt(8)) {
					t.Fatalf("stock %s after the rewrite, want 8", got)
				}
				// Unposting changes the report's DataVersion: the PATCH carries the new one, not a stale one.
				for _, c := range en.emu.Calls() {
					if c.Status == http.StatusPreconditionFailed {
						t.Errorf("%s %s answered 412: a stale If-Match", c.Method, c.Path)
					}
				}
				reps := en.emu.Reports()
				if len(reps) != 1 || reps[0].Total != 30000 || !reps[0].Posted {
					t.Fatalf("reports: %+v", reps)
				}
			})
		}
	}
}

func TestPostingRules(t *testing.T) {
	en := newEnv(t, emulator.Config{})
	ctx := context.Background()
	want := sampleReport(t, en, "77777777-0000-4000-8000-000000000002")
	want.Cards[0].Sum = 20000 // more than the total
	_, err := en.c.Sync(ctx, want, basodata.SyncOptions{Marker: "obmin-shift=S1", Post: true})
	if err == nil || !strings.Contains(err.Error(), "Сума оплати платіжними картками перевищує суму документа") {
		t.Fatalf("cards over the total: %v", err)
	}
	// An open shift posts only partly: no stock moves.
	want.Cards[0].Sum, want.ShiftStatus = 10000, basodata.ShiftOpen
	if _, err := en.c.Sync(ctx, want, basodata.SyncOptions{Marker: "obmin-shift=S1", Post: true}); err != nil {
		t.Fatal(err)
	}
	if got := en.emu.StockOf(en.emu.Refs().Shop, "33333333-0000-4000-8000-000000000001", ""); !got.Equal(decimal.NewFromInt(10)) {
		t.Fatalf("stock %s after a partial posting, want 10", got)
	}
	// Negative price, unknown reference, missing LineNumber, zero quantity are refused.
	for name, mutate := range map[string]func(*basodata.Report){
		"negative price": func(r *basodata.Report) { r.Stock[0].Price = -1 },
		"unknown good":   func(r *basodata.Report) { r.Stock[0].Good = "99999999-0000-4000-8000-000000000009" },
		"zero quantity":  func(r *basodata.Report) { r.Stock[0].Quantity = 0 },
	} {
		r := sampleReport(t, en, "")
		r.Comment = "obmin-shift=" + name
		mutate(&r)
		_, err := en.c.Sync(ctx, r, basodata.SyncOptions{KeyMode: basodata.KeyByComment, Marker: "obmin-shift=" + name, Post: true})
		if err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}
