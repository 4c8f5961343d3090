package httpapi_test

import (
	"archive/zip"
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sirupsen/logrus"

	"obmin/checkbox"
	"obmin/checkbox/emulator"
	"obmin/commerceml"
	"obmin/exchange"
	"obmin/folder"
	"obmin/httpapi"
	"obmin/internal/basloader"
	"obmin/internal/config"
	"obmin/internal/demo"
	"obmin/internal/safezip"
	"obmin/spool"
	"obmin/store"
	"obmin/watch"
)

const (
	user     = "bas-exchange"
	password = "s3cret-pass"
)

// rig is a running obmin behind real HTTP: the agent on real folders and SQLite, the Checkbox client
// talking HTTP to the emulator, and obmin's HTTP server on loopback.
type rig struct {
	t       *testing.T
	emu     *emulator.Emulator
	emuURL  string
	agent   *exchange.Agent
	store   *store.Store
	srv     *httpapi.Server
	url     string // obmin's base URL
	handler atomic.Pointer[http.Handler]
}

func newRig(t *testing.T, keys []string) *rig { return newRigWait(t, keys, 200*time.Millisecond) }

// newRigWait is newRig with mode=import waiting at most wait before answering progress.
func newRigWait(t *testing.T, keys []string, wait time.Duration) *rig {
	t.Helper()
	return newRigConfig(t, keys, wait, nil)
}

// newRigConfig is newRigWait with the server's configuration changed by mutate first.
func newRigConfig(t *testing.T, keys []string, wait time.Duration, mutate func(*httpapi.Config)) *rig {
	t.Helper()
	dir := t.TempDir()
	r := &rig{t: t}
	r.emu = emulator.New(emulator.Config{Login: "cashier", Password: "pass", Seed: 7,
		Webhook: emulator.WebhookPolicy{FirstRetry: 10 * time.Millisecond, MaxRetry: 20 * time.Millisecond, GiveUpAfter: time.Second, Timeout: 5 * time.Second}})
	es := httptest.NewServer(r.emu)
	r.emuURL = es.URL
	t.Cleanup(func() { es.Close(); r.emu.Close() })
	client, err := checkbox.New(checkbox.Config{BaseURL: es.URL, Login: "cashier", Password: "pass", ClientVersion: "test",
		RequestsPerSecond: 10000, BaseBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	sp, err := spool.OpenSpool(filepath.Join(dir, "spool"))
	if err != nil {
		t.Fatal(err)
	}
	r.store, err = store.Open(context.Background(), filepath.Join(dir, "state.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.store.Close() })
	export := filepath.Join(dir, "bas", "export")
	if err := os.MkdirAll(export, 0o755); err != nil {
		t.Fatal(err)
	}
	l := logrus.New()
	l.SetOutput(io.Discard)
	log := logrus.NewEntry(l)
	src := folder.LocalDir(export)
	w, err := watch.New(watch.Config{Source: src, Interval: 10 * time.Millisecond, MinAge: time.Millisecond, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	m := exchange.DefaultMapping()
	m.VAT = map[string][]int{"20": {1}, "0": {8}}
	r.agent = &exchange.Agent{
		Spool: sp, Store: r.store, Source: src, Watcher: w, Log: log, Emulated: true,
		Catalog: &exchange.Catalog{API: client, Store: r.store, Mapping: m, Workers: 4, ImportPoll: time.Millisecond,
			BulkThreshold: config.Default().Checkbox.BulkThreshold},
		Sales: &exchange.Sales{API: client, Store: r.store, Cfg: exchange.SalesConfig{
			Out: folder.LocalTarget(filepath.Join(dir, "bas")), OrdersFile: "orders.xml", HeldDir: filepath.Join(dir, "spool", "held"),
			Encoding: commerceml.EncodingWindows1251, Returns: exchange.ReturnsList, OrderStatus: "Продано на касі", Overlap: time.Hour, FirstPull: 72 * time.Hour,
			Currency: "грн", CustomerName: "Роздрібний покупець", NumberPrefix: "CB-",
		}},
	}
	cfg := httpapi.Config{User: user, Password: password, WebhookKeys: keys, StatusToken: "status-token",
		UploadDir: filepath.Join(dir, "http"), Zip: false, FileLimit: 64 << 10, MaxBody: 1 << 20, MaxUpload: 8 << 20,
		ZipLimits: safezip.Limits{MaxFiles: 10, MaxTotal: 4 << 20, MaxFile: 2 << 20}, ImportWait: wait}
	if mutate != nil {
		mutate(&cfg)
	}
	r.srv, err = httpapi.New(r.agent, cfg, log)
	if err != nil {
		t.Fatal(err)
	}
	h := r.srv.Handler()
	r.handler.Store(&h)
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) { (*r.handler.Load()).ServeHTTP(w, req) }))
	r.url = hs.URL
	t.Cleanup(func() { hs.Close(); r.srv.Close() })
	return r
}

// onec plays BAS's exchange node: it keeps the cookie and the sessid checkauth gave it.
type onec struct {
	r              *rig
	typ            string
	cookie, sessid string
}

type answer struct {
	status int
	body   string
	ctype  string
}

func (a answer) line(i int) string {
	lines := strings.Split(a.body, "\n")
	if i < len(lines) {
		return lines[i]
	}
	return ""
}

func (c *onec) do(method, mode string, params url.Values, body []byte, auth bool) answer {
	c.r.t.Helper()
	q := url.Values{"type": {c.typ}, "mode": {mode}}
	for k, v := range params {
		q[k] = v
	}
	if c.sessid != "" && mode != "checkauth" {
		q.Set("sessid", c.sessid)
	}
	req, err := http.NewRequest(method, c.r.url+"/1c/exchange?"+q.Encode(), bytes.NewReader(body))
	if err != nil {
		c.r.t.Fatal(err)
	}
	if auth {
		req.SetBasicAuth(user, password)
	}
	if c.cookie != "" {
		req.Header.Set("Cookie", c.cookie)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.r.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if len(b) == 0 {
		c.r.t.Fatalf("%s %s: empty answer (1C fails on one)", method, mode)
	}
	a := answer{resp.StatusCode, string(b), resp.Header.Get("Content-Type")}
	// Every answer must be one BAS's HTTP client can read (internal/basloader, the client's rules).
	var problems []basloader.Problem
	switch {
	case mode == "checkauth" && a.line(0) == "success":
		problems = basloader.CheckAuth(a.ctype, b)
	case mode == "init":
		problems = basloader.CheckInit(a.ctype, b)
	case mode == "file":
		problems = basloader.CheckUpload(a.ctype, b)
	case mode == "query" && a.line(0) != "failure":
		problems = basloader.CheckQuery(a.ctype, b)
	}
	for _, p := range problems {
		c.r.t.Errorf("%s %s: BAS's client: %s", method, mode, p)
	}
	return a
}

func (r *rig) login(typ string) *onec {
	r.t.Helper()
	c := &onec{r: r, typ: typ}
	a := c.do("GET", "checkauth", nil, nil, true)
	if a.status != 200 || a.line(0) != "success" || a.line(1) != httpapi.CookieName || a.line(2) == "" || !strings.HasPrefix(a.line(3), "sessid=") {
		r.t.Fatalf("checkauth: %d %q", a.status, a.body)
	}
	c.cookie = a.line(1) + "=" + a.line(2)
	c.sessid = strings.TrimPrefix(a.line(3), "sessid=")
	return c
}

// importLoop repeats mode=import while the answer is progress, as 1C does, and returns the last answer.
func (c *onec) importLoop(name string) (answer, int) {
	c.r.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for n := 1; ; n++ {
		a := c.do("GET", "import", url.Values{"filename": {name}}, nil, false)
		if a.line(0) != "progress" || time.Now().After(deadline) {
			return a, n
		}
	}
}

// uploadCatalog plays 1C's catalogue exchange with the files as separate uploads, each in chunks.
func (r *rig) uploadCatalog(books []demo.Book, at time.Time) (importCalls int) {
	r.t.Helper()
	c := r.login("catalog")
	if a := c.do("GET", "init", nil, nil, false); a.line(0) != "zip=no" || a.line(1) != "file_limit=65536" {
		r.t.Fatalf("init: %q", a.body)
	}
	for _, f := range []struct {
		name string
		data []byte
	}{{"import.xml", demo.Catalog(books, at)}, {"offers.xml", demo.Offers(books, at)}} {
		half := len(f.data) / 2 // two chunks of one file, as 1C sends files above file_limit
		for _, chunk := range [][]byte{f.data[:half], f.data[half:]} {
			if a := c.do("POST", "file", url.Values{"filename": {f.name}}, chunk, false); a.status != 200 || a.line(0) != "success" {
				r.t.Fatalf("file %s: %d %q", f.name, a.status, a.body)
			}
		}
	}
	for _, name := range []string{"import.xml", "offers.xml"} {
		a, n := c.importLoop(name)
		if a.line(0) != "success" {
			r.t.Fatalf("import %s after %d calls: %q", name, n, a.body)
		}
		importCalls += n
	}
	if a := c.do("GET", "deactivate", url.Values{"timestamp": {"1700000000"}}, nil, false); a.line(0) != "success" {
		r.t.Fatalf("deactivate: %q", a.body)
	}
	if a := c.do("GET", "complete", nil, nil, false); a.line(0) != "success" {
		r.t.Fatalf("complete: %q", a.body)
	}
	return importCalls
}

func (r *rig) checkGoods(books []demo.Book) {
	r.t.Helper()
	byCode := map[string]checkbox.Good{}
	for _, g := range r.emu.Goods() {
		byCode[g.Code] = g
	}
	want := 0
	for _, b := range books {
		if b.NoPrice {
			continue
		}
		want++
		if _, ok := byCode[b.Article]; !ok {
			r.t.Errorf("good %s missing in Checkbox", b.Article)
		}
	}
	if len(byCode) != want {
		r.t.Errorf("Checkbox holds %d goods, want %d", len(byCode), want)
	}
}

func TestCatalogChunkedUpload(t *testing.T) {
	// import answers progress at once (wait 1ns), so 1C's loop repeats the call until the drop is applied.
	r := newRigWait(t, nil, time.Nanosecond)
	if n := r.uploadCatalog(demo.Books, time.Now()); n < 3 {
		t.Errorf("%d import calls: want progress answered at least once", n)
	} else {
		t.Logf("%d import calls (progress repeated)", n)
	}
	r.checkGoods(demo.Books)
	g, _ := r.emu.GoodByCode("KN-0002")
	if g.Price != 18550 {
		t.Errorf("KN-0002 price %d, want 18550", g.Price)
	}
}

func TestCatalogZipUpload(t *testing.T) {
	r := newRig(t, nil)
	var zb bytes.Buffer
	zw := zip.NewWriter(&zb)
	for name, data := range map[string][]byte{"import.xml": demo.Catalog(demo.Books, time.Now()), "offers.xml": demo.Offers(demo.Books, time.Now()),
		"import_files/ab/cover.jpg": []byte("jpeg")} {
		w, _ := zw.Create(name)
		w.Write(data)
	}
	zw.Close()
	c := r.login("catalog")
	c.do("GET", "init", nil, nil, false)
	if a := c.do("POST", "file", url.Values{"filename": {`C:\Users\1c\AppData\Local\Temp\v8_1A2B_3c.zip`}}, zb.Bytes(), false); a.line(0) != "success" {
		t.Fatalf("file: %q", a.body)
	}
	a, n := c.importLoop("import.xml")
	if a.line(0) != "success" {
		t.Fatalf("import after %d calls: %q", n, a.body)
	}
	if a, _ := c.importLoop("offers.xml"); a.line(0) != "success" {
		t.Fatalf("import offers: %q", a.body)
	}
	r.checkGoods(demo.Books)
}

func TestCatalogZipBombRefused(t *testing.T) {
	r := newRig(t, nil)
	var zb bytes.Buffer
	zw := zip.NewWriter(&zb)
	w, _ := zw.Create("import.xml")
	w.Write(make([]byte, 8<<20)) // 8 MiB of zeros, over MaxTotal 4 MiB
	zw.Close()
	c := r.login("catalog")
	c.do("GET", "init", nil, nil, false)
	c.do("POST", "file", url.Values{"filename": {"v8_bomb.zip"}}, zb.Bytes(), false)
	if a, _ := c.importLoop("import.xml"); a.line(0) != "failure" || !strings.Contains(a.body, "limit") {
		t.Fatalf("import of a zip bomb: %q", a.body)
	}
}

func TestCatalogBadDropFails(t *testing.T) {
	r := newRig(t, nil)
	c := r.login("catalog")
	c.do("GET", "init", nil, nil, false)
	c.do("POST", "file", url.Values{"filename": {"import.xml"}}, []byte("<КоммерческаяИнформация><Каталог>"), false)
	if a, _ := c.importLoop("import.xml"); a.line(0) != "failure" || a.line(1) == "" {
		t.Fatalf("import of a broken file: %q", a.body)
	}
	if a := c.do("GET", "import", url.Values{"filename": {"never.xml"}}, nil, false); a.line(0) != "failure" {
		t.Logf("import of a file never uploaded: %q", a.body)
	}
}

func TestAuthAndNames(t *testing.T) {
	r := newRig(t, nil)
	// Wrong password.
	req, _ := http.NewRequest("GET", r.url+"/1c/exchange?type=catalog&mode=checkauth", nil)
	req.SetBasicAuth(user, "wrong")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 401 || !strings.HasPrefix(string(b), "failure\n") {
		t.Errorf("wrong password: %d %q", resp.StatusCode, b)
	}
	// Missing cookie, wrong cookie, wrong sessid.
	c := r.login("catalog")
	for _, tc := range []struct{ name, cookie, sessid string }{
		{"missing cookie", "", c.sessid},
		{"unknown cookie", httpapi.CookieName + "=0123", c.sessid},
		{"wrong sessid", c.cookie, "bad"},
	} {
		bad := &onec{r: r, typ: "catalog", cookie: tc.cookie, sessid: tc.sessid}
		if a := bad.do("GET", "init", nil, nil, true); a.status != 401 || a.line(0) != "failure" {
			t.Errorf("%s: %d %q", tc.name, a.status, a.body)
		}
	}
	// File names.
	c.do("GET", "init", nil, nil, false)
	for _, name := range []string{"../x.xml", `..\..\x.xml`, "import_files/../../x", "", "a\x00.xml"} {
		if a := c.do("POST", "file", url.Values{"filename": {name}}, []byte("x"), false); a.status != 400 || a.line(0) != "failure" {
			t.Errorf("filename %q: %d %q", name, a.status, a.body)
		}
	}
	for _, tc := range []struct{ in, want string }{
		{`C:\1C\webdata\import.xml`, "import.xml"}, {"/tmp/1c_exchange/offers.xml", "offers.xml"},
		{`import_files\ab\1.jpg`, "import_files/ab/1.jpg"}, {"import.xml", "import.xml"},
	} {
		if got, err := httpapi.CleanUploadName(tc.in); err != nil || got != tc.want {
			t.Errorf("CleanUploadName(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
	// Nothing written outside the upload folder.
	if _, err := os.Stat(filepath.Join(filepath.Dir(r.agent.Spool.Root), "x.xml")); err == nil {
		t.Error("a file escaped the upload folder")
	}
	// Body limit: a chunk above max_body is refused.
	if a := c.do("POST", "file", url.Values{"filename": {"big.xml"}}, make([]byte, 2<<20), false); a.status != 413 {
		t.Errorf("oversized chunk: %d %q", a.status, a.body)
	}
	// Status needs credentials; health does not.
	for _, tc := range []struct {
		path, auth string
		want       int
	}{{"/healthz", "", 200}, {"/status", "", 401}, {"/status", "Bearer status-token", 200}, {"/status.json", "Bearer nope", 401}, {"/status.json", "Bearer status-token", 200}} {
		req, _ := http.NewRequest("GET", r.url+tc.path, nil)
		if tc.auth != "" {
			req.Header.Set("Authorization", tc.auth)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tc.want {
			t.Errorf("%s %q: %d, want %d", tc.path, tc.auth, resp.StatusCode, tc.want)
		}
	}
}

func readNumbers(t *testing.T, data []byte) []string {
	t.Helper()
	var nums []string
	_, err := commerceml.Read(bytes.NewReader(data), "query", commerceml.Handler{Document: func(d commerceml.Document) error {
		nums = append(nums, d.Number)
		return nil
	}})
	if err != nil {
		t.Fatalf("query answer: %v", err)
	}
	return nums
}

func TestSaleExchange(t *testing.T) {
	r := newRig(t, nil)
	r.uploadCatalog(demo.Books, time.Now())
	ctx := context.Background()
	for _, code := range []string{"KN-0001", "KN-0003", "ST-0101"} {
		if _, err := r.emu.Sell(emulator.Sale{Lines: []emulator.SaleLine{{Code: code, Quantity: 1000}}}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := r.agent.PullReceipts(ctx); err != nil {
		t.Fatal(err)
	}

	c := r.login("sale")
	if a := c.do("GET", "init", url.Values{"version": {"2.08"}}, nil, false); a.line(0) != "zip=no" || !strings.HasPrefix(a.line(1), "file_limit=") {
		t.Fatalf("sale init: %q", a.body)
	}
	a := c.do("GET", "query", nil, nil, false)
	if a.ctype != "application/xml; charset=windows-1251" {
		t.Errorf("query Content-Type %q", a.ctype)
	}
	first := readNumbers(t, []byte(a.body))
	if len(first) != 3 {
		t.Fatalf("query returned %d orders, want 3", len(first))
	}
	// No success: the next query offers the same orders again.
	if again := readNumbers(t, []byte(c.do("GET", "query", nil, nil, false).body)); strings.Join(again, ",") != strings.Join(first, ",") {
		t.Fatalf("second query %v, want %v", again, first)
	}
	// A sale that arrives between query and success is not confirmed by that success.
	if _, err := r.emu.Sell(emulator.Sale{Lines: []emulator.SaleLine{{Code: "KN-0002", Quantity: 1000}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := r.agent.PullReceipts(ctx); err != nil {
		t.Fatal(err)
	}
	if a := c.do("GET", "success", nil, nil, false); a.line(0) != "success" {
		t.Fatalf("success: %q", a.body)
	}
	counts, _ := r.store.ReceiptCounts(ctx)
	if counts[exchange.StateConfirmed] != 3 || counts[exchange.StatePending] != 1 {
		t.Fatalf("after success: %v", counts)
	}
	// The late one is offered next; BAS's own document confirms it (sale/file).
	late := readNumbers(t, []byte(c.do("GET", "query", nil, nil, false).body))
	if len(late) != 1 {
		t.Fatalf("query after success: %v", late)
	}
	doc := demo.OrdersExport(late, time.Now())
	half := len(doc) / 2
	c.do("POST", "file", url.Values{"filename": {"orders-1.xml"}}, doc[:half], false)
	c.do("POST", "file", url.Values{"filename": {"orders-1.xml"}}, doc[half:], false)
	if a := c.do("GET", "import", url.Values{"filename": {"orders-1.xml"}}, nil, false); a.line(0) != "success" {
		t.Fatalf("sale import: %q", a.body)
	}
	counts, _ = r.store.ReceiptCounts(ctx)
	if counts[exchange.StateConfirmed] != 4 || counts[exchange.StatePending] != 0 {
		t.Fatalf("after BAS's document: %v", counts)
	}
	// Nothing pending: a root-only document, never an empty body.
	a = c.do("GET", "query", nil, nil, false)
	if n := readNumbers(t, []byte(a.body)); len(n) != 0 || !strings.Contains(a.body, "КоммерческаяИнформация") && !bytes.Contains([]byte(a.body), []byte{0xCA, 0xEE}) {
		t.Fatalf("empty query: %v %q", n, a.body)
	}
}

func TestWebhook(t *testing.T) {
	// Register obmin's URL with the emulator first, then start obmin with the key Checkbox returned.
	r := newRig(t, nil)
	cb, err := checkbox.New(checkbox.Config{BaseURL: r.emuURL, Login: "cashier", Password: "pass", LicenseKey: r.emu.Registers()[0].LicenseKey})
	if err != nil {
		t.Fatal(err)
	}
	hook, err := cb.SetWebhook(context.Background(), r.url+httpapi.WebhookPath)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := cb.Webhook(context.Background()); err != nil || got.URL != r.url+httpapi.WebhookPath || got.Key != "" {
		t.Fatalf("the webhook as Checkbox keeps it: %+v %v", got, err)
	}
	key := hook.Key
	cfgSrv, err := httpapi.New(r.agent, httpapi.Config{User: user, Password: password, WebhookKeys: []string{"other-register-key", key},
		UploadDir: filepath.Join(t.TempDir(), "http"), FileLimit: 64 << 10}, r.agent.Log)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cfgSrv.Close)
	h := cfgSrv.Handler()
	r.handler.Store(&h)
	r.uploadCatalog(demo.Books, time.Now())

	ctx := context.Background()
	sale, err := r.emu.Sell(emulator.Sale{Lines: []emulator.SaleLine{{Code: "KN-0001", Quantity: 1000}}})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.emu.WaitWebhooks(ctx); err != nil {
		t.Fatal(err)
	}
	rec, ok, err := r.store.Receipt(ctx, sale.ID)
	if err != nil || !ok || rec.State != exchange.StatePending {
		t.Fatalf("webhook receipt in the ledger: %+v %v %v", rec, ok, err)
	}
	for _, d := range r.emu.Deliveries() {
		if d.Status != 200 {
			t.Errorf("delivery %+v not taken", d)
		}
	}
	// The same receipt by polling: not a second time.
	rep, err := r.agent.PullReceipts(ctx)
	if err != nil || rep.New != 0 || rep.Seen == 0 {
		t.Fatalf("pull after webhook: %+v %v", rep, err)
	}
	c := r.login("sale")
	if n := readNumbers(t, []byte(c.do("GET", "query", nil, nil, false).body)); len(n) != 1 {
		t.Fatalf("orders offered: %v, want the one receipt once", n)
	}

	body := []byte(`{"receipt":{"id":"00000000-0000-4000-8000-000000000001","type":"SELL","status":"DONE","goods":[]}}`)
	for _, tc := range []struct {
		name, sig string
		want      int
	}{
		{"missing signature", "", 401},
		{"bad signature", httpapi.Sign("wrong-key", body), 401},
		{"not base64", "%%%", 401},
		{"shift event", "", 200}, // signed below; not a receipt, acknowledged
	} {
		b := body
		sig := tc.sig
		if tc.name == "shift event" {
			b = []byte(`{"shift":{"id":"x"}}`)
			sig = httpapi.Sign(key, b)
		}
		req, _ := http.NewRequest("POST", r.url+httpapi.WebhookPath, bytes.NewReader(b))
		if sig != "" {
			req.Header.Set(httpapi.SignatureHeader, sig)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tc.want {
			t.Errorf("%s: %d, want %d", tc.name, resp.StatusCode, tc.want)
		}
	}
	if _, ok, _ := r.store.Receipt(ctx, "00000000-0000-4000-8000-000000000001"); ok {
		t.Error("an unsigned receipt reached the ledger")
	}
}
