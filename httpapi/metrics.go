package httpapi

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/sirupsen/logrus"

	"obmin/exchange"
	"obmin/store"
)

// Metrics is obmin's Prometheus registry, served at /metrics. It is its own registry, not the global
// default one, so only what obmin registers is exported: the Go runtime, the process, the Checkbox API
// calls made through InstrumentTransport, and the agent's state, read at each scrape (New registers it).
//
// Create it before the Checkbox client (its transport counts the calls) and pass it to New in
// Config.Metrics; one Metrics serves one Server at a time.
type Metrics struct {
	reg      *prometheus.Registry
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
	failures *prometheus.CounterVec
}

// NewMetrics returns a registry holding the Go runtime and process collectors and the (still empty)
// Checkbox call metrics.
func NewMetrics() *Metrics {
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "obmin_checkbox_requests_total",
			Help: "Checkbox API requests answered, by HTTP status code and method (each retry counts).",
		}, []string{"code", "method"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "obmin_checkbox_request_duration_seconds",
			Help: "Time from sending a Checkbox API request to its answer's headers, by method.",
			// Checkbox answers in well under a second; the client gives up after 30 s.
			Buckets: []float64{.05, .1, .25, .5, 1, 2.5, 5, 10, 30},
		}, []string{"method"}),
		failures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "obmin_checkbox_request_errors_total",
			Help: "Checkbox API requests that got no answer (network error, timeout, cancellation), by method.",
		}, []string{"method"}),
	}
	m.reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		m.requests, m.duration, m.failures,
	)
	return m
}

// Registry is the registry /metrics serves, for metrics of other parts.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// InstrumentTransport wraps next (nil: http.DefaultTransport) so that every request through it is counted
// in obmin_checkbox_requests_total, obmin_checkbox_request_duration_seconds and, when no answer came,
// obmin_checkbox_request_errors_total. Give it to the Checkbox client:
//
//	cc.HTTPClient = &http.Client{Timeout: 30 * time.Second, Transport: metrics.InstrumentTransport(nil)}
func (m *Metrics) InstrumentTransport(next http.RoundTripper) http.RoundTripper {
	if next == nil {
		next = http.DefaultTransport
	}
	counted := promhttp.RoundTripperFunc(func(r *http.Request) (*http.Response, error) {
		resp, err := next.RoundTrip(r)
		if err != nil {
			// promhttp counts answered requests only; its method label is lower case.
			m.failures.WithLabelValues(strings.ToLower(r.Method)).Inc()
		}
		return resp, err
	})
	return promhttp.InstrumentRoundTripperCounter(m.requests,
		promhttp.InstrumentRoundTripperDuration(m.duration, counted))
}

// handler serves the registry in Prometheus's exposition formats. When the agent's state cannot be read,
// the scrape still answers with everything else (the runtime, the Checkbox calls), the error is logged and
// promhttp_metric_handler_errors_total{cause="gathering"} goes up.
func (m *Metrics) handler(log *logrus.Entry) http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{
		ErrorLog:            errorLog{log},
		ErrorHandling:       promhttp.ContinueOnError,
		Registry:            m.reg,
		MaxRequestsInFlight: 4,
	})
}

// errorLog sends promhttp's messages to obmin's log as errors.
type errorLog struct{ log *logrus.Entry }

func (l errorLog) Println(v ...any) {
	l.log.WithField("part", "metrics").Error(strings.TrimSuffix(fmt.Sprintln(v...), "\n"))
}

// snapshotTimeout bounds the reads of one scrape; Prometheus's default scrape timeout is 10 s.
const snapshotTimeout = 5 * time.Second

var (
	descSpoolDrops = prometheus.NewDesc("obmin_spool_drops",
		"BAS drops in each spool folder: inbox (waiting), processing, done (kept until retention), failed (never removed).",
		[]string{"folder"}, nil)
	descReceipts = prometheus.NewDesc("obmin_receipts",
		"Checkbox receipts in obmin's ledger by state: pending (in the orders file, not yet confirmed by BAS), confirmed, held (a good BAS never exported), skipped (not a sale).",
		[]string{"state"}, nil)
	descOldestPending = prometheus.NewDesc("obmin_receipt_oldest_pending_age_seconds",
		"How long ago obmin first saw the oldest receipt BAS has not confirmed yet; 0 when none is pending.",
		nil, nil)
	descGoods = prometheus.NewDesc("obmin_goods",
		"Goods in obmin's ledger, as known from BAS's exports.", nil, nil)
	descGoodsInCheckbox = prometheus.NewDesc("obmin_goods_in_checkbox",
		"Goods of the ledger that Checkbox has received.", nil, nil)
	descJobLastRun = prometheus.NewDesc("obmin_job_last_run_timestamp_seconds",
		"When the job's last run ended, as a Unix time.", []string{"job"}, nil)
	descJobLastSuccess = prometheus.NewDesc("obmin_job_last_success_timestamp_seconds",
		"When the job's last successful run ended, as a Unix time (absent when none is in the job history).",
		[]string{"job"}, nil)
	descJobLastDuration = prometheus.NewDesc("obmin_job_last_duration_seconds",
		"How long the job's last run took.", []string{"job"}, nil)
	descJobLastOK = prometheus.NewDesc("obmin_job_last_ok",
		"1 when the job's last run succeeded, 0 when it failed.", []string{"job"}, nil)
	descWaiting = prometheus.NewDesc("obmin_drops_waiting",
		"Folders of BAS's export that are not drops yet: files still changing, or unfinished (given up on after a bound of no change, docs/folders.md).",
		nil, nil)
	descWaitingAge = prometheus.NewDesc("obmin_drop_oldest_waiting_seconds",
		"How long the folder of BAS's export that waits longest has been waiting; 0 when none waits.", nil, nil)
	descFolderOK = prometheus.NewDesc("obmin_folder_ok",
		"1 when obmin can use the configured folder (bas.export_dir lists, bas.orders_file's folder takes the file), 0 when it is missing or unreadable.",
		[]string{"key"}, nil)
	descEmulated = prometheus.NewDesc("obmin_checkbox_emulated",
		"1 when Checkbox is the built-in emulator (demo, tests): nothing reaches a real cash register.", nil, nil)
	descNumbersUsed = prometheus.NewDesc("obmin_order_numbers_used",
		"BAS order numbers given this year (6 digits, counted per calendar year for every cash register).", []string{"year"}, nil)
	descNumbersCapacity = prometheus.NewDesc("obmin_order_numbers_capacity",
		"BAS order numbers a year allows (sales.number_first to sales.number_last).", []string{"year"}, nil)
	descNumbersProjected = prometheus.NewDesc("obmin_order_numbers_projected",
		"BAS order numbers this year will use at this year's pace.", []string{"year"}, nil)
	descNumbersShort = prometheus.NewDesc("obmin_order_numbers_short",
		"1 when this year's BAS order numbers may run out: alert on it.", []string{"year"}, nil)
	descBASRuns = prometheus.NewDesc("obmin_bas_runs_24h",
		"BAS exchange runs seen in its export folder in the last 24 hours (orders leave the orders file after sales.keep_runs of them).", nil, nil)
	descBASLastRun = prometheus.NewDesc("obmin_bas_last_run_timestamp_seconds",
		"When the last BAS exchange run was seen, as a Unix time (absent when none was).", nil, nil)
)

// receiptStates are always exported, with 0 for a state no receipt is in.
var receiptStates = []store.ReceiptState{exchange.StatePending, exchange.StateConfirmed, exchange.StateDelivered, exchange.StateHeld,
	exchange.StateSkipped, exchange.StateReturn, exchange.StateAmended, exchange.StateListed}

// agentCollector reads the agent's status at each scrape.
type agentCollector struct {
	agent   StatusSource
	timeout time.Duration
}

func (c agentCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descSpoolDrops, descReceipts, descOldestPending, descGoods, descGoodsInCheckbox,
		descJobLastRun, descJobLastSuccess, descJobLastDuration, descJobLastOK, descEmulated, descWaiting, descWaitingAge, descFolderOK,
		descNumbersUsed, descNumbersCapacity, descNumbersProjected, descNumbersShort, descBASRuns, descBASLastRun,
		descRetailReports, descRetailOldestWaiting} {
		ch <- d
	}
}

func (c agentCollector) Collect(ch chan<- prometheus.Metric) {
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	gauge(descEmulated, boolFloat(c.agent.CheckboxEmulated()))

	ctx, cancel := context.WithTimeout(context.Background(), c.timeout)
	defer cancel()
	st, err := c.agent.Snapshot(ctx)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(descSpoolDrops, fmt.Errorf("obmin status: %w", err))
		return
	}
	for folder, n := range st.Spool {
		gauge(descSpoolDrops, float64(n), folder)
	}
	for _, state := range receiptStates {
		gauge(descReceipts, float64(st.Receipts[state]), string(state))
	}
	for state, n := range st.Receipts {
		if !slices.Contains(receiptStates, state) {
			gauge(descReceipts, float64(n), string(state))
		}
	}
	gauge(descGoods, float64(st.Goods))
	gauge(descGoodsInCheckbox, float64(st.Pushed))
	year := strconv.Itoa(st.Numbers.Year)
	gauge(descNumbersUsed, float64(st.Numbers.Used), year)
	gauge(descNumbersCapacity, float64(st.Numbers.Capacity), year)
	gauge(descNumbersProjected, float64(st.Numbers.Projected), year)
	gauge(descNumbersShort, boolFloat(st.Numbers.Short), year)
	gauge(descBASRuns, float64(st.BASRuns))
	if !st.LastBASRun.IsZero() {
		gauge(descBASLastRun, unixSeconds(st.LastBASRun))
	}
	gauge(descWaiting, float64(len(st.Waiting)))
	oldest := 0.0
	for _, w := range st.Waiting {
		oldest = max(oldest, st.At.Sub(w.Since).Seconds())
	}
	gauge(descWaitingAge, oldest)
	for _, key := range []string{exchange.FolderExport, exchange.FolderOrders} {
		ok := !slices.ContainsFunc(st.Problems, func(p store.FolderProblem) bool { return p.Key == key })
		gauge(descFolderOK, boolFloat(ok), key)
	}
	collectRetail(st, gauge)

	if first, ok, err := c.agent.OldestPending(ctx); err != nil {
		ch <- prometheus.NewInvalidMetric(descOldestPending, err)
	} else {
		age := 0.0
		if ok {
			age = max(st.At.Sub(first).Seconds(), 0)
		}
		gauge(descOldestPending, age)
	}

	successes, err := c.agent.LastSuccesses(ctx)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(descJobLastSuccess, err)
	}
	for _, j := range st.Jobs {
		gauge(descJobLastRun, unixSeconds(j.End), j.Name)
		gauge(descJobLastOK, boolFloat(j.Err == ""), j.Name)
		if !j.Start.IsZero() && !j.End.IsZero() {
			gauge(descJobLastDuration, max(j.End.Sub(j.Start).Seconds(), 0), j.Name)
		}
		last := successes[j.Name]
		if j.Err == "" && j.End.After(last) {
			last = j.End
		}
		if err == nil && !last.IsZero() {
			gauge(descJobLastSuccess, unixSeconds(last), j.Name)
		}
	}
}

func boolFloat(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

func unixSeconds(t time.Time) float64 { return float64(t.UnixNano()) / 1e9 }
