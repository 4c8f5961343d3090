package httpapi_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"obmin/checkbox"
	"obmin/checkbox/emulator"
	"obmin/drop"
	"obmin/exchange"
	"obmin/httpapi"
	"obmin/internal/demo"
)

// withMetrics serves the rig's agent through a server with its own Metrics, and makes the agent talk to
// the emulator through a Checkbox client whose transport the Metrics instrument.
func (r *rig) withMetrics() *httpapi.Metrics {
	r.t.Helper()
	m := httpapi.NewMetrics()
	client, err := checkbox.New(checkbox.Config{BaseURL: r.emuURL, Login: "cashier", Password: "pass", ClientVersion: "test",
		RequestsPerSecond: 10000, BaseBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond,
		HTTPClient: &http.Client{Timeout: 30 * time.Second, Transport: m.InstrumentTransport(nil)}})
	if err != nil {
		r.t.Fatal(err)
	}
	r.agent.Catalog.API = client
	r.agent.Sales.API = client
	srv, err := httpapi.New(r.agent, httpapi.Config{User: user, Password: password, StatusToken: "status-token",
		UploadDir: filepath.Join(r.t.TempDir(), "http"), FileLimit: 64 << 10, ImportWait: 200 * time.Millisecond,
		Metrics: m}, r.agent.Log)
	if err != nil {
		r.t.Fatal(err)
	}
	r.t.Cleanup(srv.Close)
	h := srv.Handler()
	r.handler.Store(&h)
	return m
}

// scrape GETs /metrics with the Authorization header auth and parses the text exposition.
func (r *rig) scrape(auth string) (int, metrics) {
	r.t.Helper()
	req, _ := http.NewRequest("GET", r.url+"/metrics", nil)
	req.Header.Set("Accept", "text/plain")
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		r.t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return resp.StatusCode, metrics{t: r.t}
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
		r.t.Errorf("Content-Type %q", ct)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(resp.Body)
	if err != nil {
		r.t.Fatalf("parse /metrics: %v", err)
	}
	return resp.StatusCode, metrics{r.t, fams}
}

type metrics struct {
	t    *testing.T
	fams map[string]*dto.MetricFamily
}

// get returns the value of the series of family name with these labels ("key=value"): a gauge's or
// counter's value, a histogram's sample count. ok is false when there is no such series.
func (m metrics) get(name string, labels ...string) (v float64, ok bool) {
	f := m.fams[name]
	if f == nil {
		return 0, false
	}
series:
	for _, s := range f.GetMetric() {
		have := map[string]string{}
		for _, l := range s.GetLabel() {
			have[l.GetName()] = l.GetValue()
		}
		if len(have) != len(labels) {
			continue
		}
		for _, kv := range labels {
			k, v, _ := strings.Cut(kv, "=")
			if have[k] != v {
				continue series
			}
		}
		switch {
		case s.Gauge != nil:
			return s.Gauge.GetValue(), true
		case s.Counter != nil:
			return s.Counter.GetValue(), true
		case s.Histogram != nil:
			return float64(s.Histogram.GetSampleCount()), true
		}
	}
	return 0, false
}

// want checks that the series exists and has value v.
func (m metrics) want(v float64, name string, labels ...string) {
	m.t.Helper()
	got, ok := m.get(name, labels...)
	if !ok {
		m.t.Errorf("%s%v: missing", name, labels)
	} else if got != v {
		m.t.Errorf("%s%v = %v, want %v", name, labels, got, v)
	}
}

// sum adds up every series of a family (histograms: sample counts).
func (m metrics) sum(name string) float64 {
	total := 0.0
	if f := m.fams[name]; f != nil {
		for _, s := range f.GetMetric() {
			total += s.GetCounter().GetValue() + s.GetGauge().GetValue() + float64(s.GetHistogram().GetSampleCount())
		}
	}
	return total
}

// checkCheckboxCalls checks that the counters agree with what the emulator answered, status by status.
func checkCheckboxCalls(t *testing.T, m metrics, emu *emulator.Emulator) {
	t.Helper()
	answered := map[string]float64{} // "code method"
	total := 0.0
	for _, c := range emu.Calls() {
		if c.Status != 0 { // 0: dropped without an answer
			answered[strconv.Itoa(c.Status)+" "+strings.ToLower(c.Method)]++
			total++
		}
	}
	if total == 0 {
		t.Fatal("the emulator answered no calls")
	}
	for k, n := range answered {
		code, method, _ := strings.Cut(k, " ")
		m.want(n, "obmin_checkbox_requests_total", "code="+code, "method="+method)
	}
	if got := m.sum("obmin_checkbox_requests_total"); got != total {
		t.Errorf("obmin_checkbox_requests_total adds up to %v, the emulator answered %v", got, total)
	}
	if got := m.sum("obmin_checkbox_request_duration_seconds"); got != total {
		t.Errorf("obmin_checkbox_request_duration_seconds counts %v, the emulator answered %v", got, total)
	}
}

func TestMetricsAuth(t *testing.T) {
	r := newRig(t, nil)
	r.withMetrics()
	for _, tc := range []struct {
		name, auth string
		want       int
	}{
		{"no credentials", "", 401},
		{"wrong token", "Bearer nope", 401},
		{"wrong password", "Basic " + basic(user, "wrong"), 401},
		{"status token", "Bearer status-token", 200},
		{"exchange user", "Basic " + basic(user, password), 200},
	} {
		if got, _ := r.scrape(tc.auth); got != tc.want {
			t.Errorf("%s: %d, want %d", tc.name, got, tc.want)
		}
	}
}

func boolFloat(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

func basic(u, p string) string {
	req, _ := http.NewRequest("GET", "/", nil)
	req.SetBasicAuth(u, p)
	return strings.TrimPrefix(req.Header.Get("Authorization"), "Basic ")
}

var kyivZone = func() *time.Location {
	loc, err := time.LoadLocation("Europe/Kyiv")
	if err != nil {
		return time.FixedZone("EET", 2*3600)
	}
	return loc
}()

func TestMetricsValues(t *testing.T) {
	r := newRig(t, nil)
	m := r.withMetrics()
	const auth = "Bearer status-token"

	// A fresh obmin: every family there, all zero, no job has run.
	_, s := r.scrape(auth)
	s.want(1, "obmin_checkbox_emulated")
	s.want(0, "obmin_goods")
	s.want(0, "obmin_goods_in_checkbox")
	s.want(0, "obmin_receipt_oldest_pending_age_seconds")
	for _, folder := range []string{"inbox", "processing", "done", "failed"} {
		s.want(0, "obmin_spool_drops", "folder="+folder)
	}
	for _, state := range []string{"pending", "confirmed", "held", "skipped"} {
		s.want(0, "obmin_receipts", "state="+state)
	}
	if _, ok := s.fams["obmin_job_last_run_timestamp_seconds"]; ok {
		t.Error("job metrics before any job ran")
	}
	for _, name := range []string{"go_goroutines", "process_cpu_seconds_total"} {
		if _, ok := s.fams[name]; !ok {
			t.Errorf("%s missing", name)
		}
	}

	// A catalogue upload, a broken one, a sale pulled, a retention run that fails.
	before := time.Now()
	r.uploadCatalog(demo.Books, time.Now())
	c := r.login("catalog")
	c.do("GET", "init", nil, nil, false)
	c.do("POST", "file", url.Values{"filename": {"import.xml"}}, []byte("<КоммерческаяИнформация><Каталог>"), false)
	if a, _ := c.importLoop("import.xml"); a.line(0) != "failure" {
		t.Fatalf("broken upload: %q", a.body)
	}
	ctx := context.Background()
	if _, err := r.emu.Sell(emulator.Sale{Lines: []emulator.SaleLine{{Code: "KN-0001", Quantity: 1000}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := r.agent.PullReceipts(ctx); err != nil {
		t.Fatal(err)
	}
	r.agent.Schedules.RetentionKeep = 0 // refused: a retention run that fails
	if err := r.agent.Retain(ctx); err == nil {
		t.Fatal("retention with keep 0 did not fail")
	}
	after := time.Now()

	_, s = r.scrape(auth)
	priced := 0
	for _, b := range demo.Books {
		if !b.NoPrice {
			priced++
		}
	}
	total, pushed, err := r.store.CountGoods(ctx)
	if err != nil || total < priced || pushed != priced {
		t.Fatalf("ledger: %d goods, %d pushed, %v; %d priced books", total, pushed, err, priced)
	}
	s.want(float64(total), "obmin_goods")
	s.want(float64(priced), "obmin_goods_in_checkbox")
	s.want(1, "obmin_spool_drops", "folder=done")
	s.want(1, "obmin_spool_drops", "folder=failed")
	s.want(0, "obmin_spool_drops", "folder=inbox")
	s.want(1, "obmin_receipts", "state=pending")
	s.want(0, "obmin_receipts", "state=confirmed")
	year := fmt.Sprint(time.Now().In(kyivZone).Year())
	s.want(1, "obmin_order_numbers_used", "year="+year)
	s.want(999999, "obmin_order_numbers_capacity", "year="+year)
	s.want(0, "obmin_order_numbers_short", "year="+year)
	if age, ok := s.get("obmin_receipt_oldest_pending_age_seconds"); !ok || age < 0 || age > time.Since(before).Seconds() {
		t.Errorf("oldest pending age %v (%v), want within the test's %v", age, ok, time.Since(before))
	}
	inTest := func(name string, labels ...string) float64 {
		t.Helper()
		v, ok := s.get(name, labels...)
		if !ok || v < float64(before.UnixNano())/1e9 || v > float64(after.UnixNano())/1e9 {
			t.Errorf("%s%v = %v (%v), want a time within the test", name, labels, v, ok)
		}
		return v
	}
	// Drops taken over HTTP are a run of the "drops" job as well (a bad drop in failed/ is no failed run).
	for _, job := range []struct {
		name string
		ok   bool
	}{{"drops", true}, {"pull-receipts", true}, {"retention", false}} {
		s.want(boolFloat(job.ok), "obmin_job_last_ok", "job="+job.name)
		last := inTest("obmin_job_last_run_timestamp_seconds", "job="+job.name)
		if job.ok {
			s.want(last, "obmin_job_last_success_timestamp_seconds", "job="+job.name)
		} else if v, ok := s.get("obmin_job_last_success_timestamp_seconds", "job="+job.name); ok {
			t.Errorf("%s never succeeded, last success %v", job.name, v)
		}
		if d, ok := s.get("obmin_job_last_duration_seconds", "job="+job.name); !ok || d < 0 || d > after.Sub(before).Seconds() {
			t.Errorf("%s duration %v (%v)", job.name, d, ok)
		}
	}
	pulled, _ := s.get("obmin_job_last_success_timestamp_seconds", "job=pull-receipts")
	checkCheckboxCalls(t, s, r.emu)
	if s.sum("obmin_checkbox_request_errors_total") != 0 {
		t.Error("request errors counted with every call answered")
	}

	// Checkbox failing: the pull fails, its last success stays, every 503 counted.
	r.emu.InjectFault(emulator.Fault{Status: 503, Times: -1})
	if _, err := r.agent.PullReceipts(ctx); err == nil {
		t.Fatal("pull with Checkbox answering 503 did not fail")
	}
	_, s = r.scrape(auth)
	s.want(0, "obmin_job_last_ok", "job=pull-receipts")
	s.want(pulled, "obmin_job_last_success_timestamp_seconds", "job=pull-receipts")
	if last, _ := s.get("obmin_job_last_run_timestamp_seconds", "job=pull-receipts"); last <= pulled {
		t.Errorf("last run %v not after the last success %v", last, pulled)
	}
	if n, _ := s.get("obmin_checkbox_requests_total", "code=503", "method=get"); n < 1 {
		t.Errorf("503 answers counted: %v", n)
	}
	checkCheckboxCalls(t, s, r.emu)

	// No answer at all: counted as errors, not as requests.
	r.emu.ClearFaults()
	r.emu.InjectFault(emulator.Fault{DropConnection: true, Times: -1})
	if _, err := r.agent.PullReceipts(ctx); err == nil {
		t.Fatal("pull with connections dropped did not fail")
	}
	_, s = r.scrape(auth)
	if n := s.sum("obmin_checkbox_request_errors_total"); n < 1 {
		t.Errorf("obmin_checkbox_request_errors_total = %v after dropped connections", n)
	}
	checkCheckboxCalls(t, s, r.emu)

	// One Metrics serves one server at a time.
	if _, err := httpapi.New(r.agent, httpapi.Config{User: user, Password: password, UploadDir: filepath.Join(t.TempDir(), "http"),
		Metrics: m}, r.agent.Log); err == nil {
		t.Error("a second server on the same Metrics was accepted")
	}
}

func TestMetricsStoreError(t *testing.T) {
	r := newRig(t, nil)
	r.withMetrics()
	r.store.Close() // every read of the state fails from now on
	// promhttp counts a gathering error after the families are gathered: the second scrape shows the first.
	var s metrics
	for range 2 {
		var code int
		if code, s = r.scrape("Bearer status-token"); code != http.StatusOK {
			t.Fatalf("scrape with the state unreadable: %d, want the rest served", code)
		}
	}
	if _, ok := s.fams["obmin_spool_drops"]; ok {
		t.Error("obmin_spool_drops served without a status")
	}
	s.want(1, "obmin_checkbox_emulated")
	if _, ok := s.fams["go_goroutines"]; !ok {
		t.Error("go_goroutines missing")
	}
	s.want(1, "promhttp_metric_handler_errors_total", "cause=gathering")
}

// TestMetricsFoldersAndWaiting: a folder obmin cannot use and drops that wait are in the metrics.
func TestMetricsFoldersAndWaiting(t *testing.T) {
	r := newRig(t, nil)
	r.withMetrics()
	const auth = "Bearer status-token"
	_, s := r.scrape(auth)
	s.want(0, "obmin_drops_waiting")
	s.want(0, "obmin_drop_oldest_waiting_seconds")
	s.want(1, "obmin_folder_ok", "key=bas.export_dir")
	s.want(1, "obmin_folder_ok", "key=bas.orders_file")

	ctx := context.Background()
	since := time.Now().Add(-2 * time.Minute)
	if err := r.store.SetWaiting(ctx, time.Now(), []drop.Waiting{{Folder: "webdata - 1", Files: 2, Since: since, Reason: "import.xml: XML не закрито"}}); err != nil {
		t.Fatal(err)
	}
	if err := r.store.SetFolderProblem(ctx, exchange.FolderExport, "/mnt/bas", errors.New("share gone"), time.Now()); err != nil {
		t.Fatal(err)
	}
	_, s = r.scrape(auth)
	s.want(1, "obmin_drops_waiting")
	if age, ok := s.get("obmin_drop_oldest_waiting_seconds"); !ok || age < 120 || age > time.Since(since).Seconds() {
		t.Errorf("oldest waiting %v (%v)", age, ok)
	}
	s.want(0, "obmin_folder_ok", "key=bas.export_dir")
	s.want(1, "obmin_folder_ok", "key=bas.orders_file")
}
