package exchange_test

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"obmin/checkbox"
	"obmin/checkbox/emulator"
	"obmin/commerceml"
	"obmin/exchange"
	"obmin/folder"
	"obmin/store"
)

// BenchmarkOrdersFileChainDay plays a chain's trading day through the orders side: 50 cash registers ×
// 500 receipts between 08:00 and 20:00, made at the emulator's tills and pulled over HTTP every five
// minutes with the defaults (a deep pull over 38 h first and every hour, the pulls between re-reading
// 10 minutes), BAS's exchange every 10 minutes, the defaults keep_runs 3 and keep_for 1h. It reports the
// orders file's largest size over the day (MB-peak, orders-peak) beside what the file would hold if it kept
// every receipt of the day, as it did when BAS's export was taken for the only acknowledgement (MB-allday,
// the baseline of the same run), the time one write of the file takes at the peak (ms/write), and the
// pulls: the slowest pull's time against the emulator without a rate limit (ms/pull-max), the most calls
// of a pull (calls/pull-max: a deep one) and what they take at the client's 5 requests a second
// (s/pull@5rps), the mean calls of a pull (calls/pull-mean), the most and the mean calls of the pulls
// between deep ones (calls/frequent-max, calls/frequent-mean). The baseline of the pulls, every pull deep
// as before sales.deep_pull (calls/alldeep-max, calls/alldeep-mean), is played in the same run with
// -short (2 registers) or -orders.alldeep: at 50 registers it takes over an hour.
func BenchmarkOrdersFileChainDay(b *testing.B) {
	registers, perRegister := *flagChainRegisters, 500
	switch {
	case testing.Short():
		registers = 2
	case !*flagChainDay:
		b.Skip("a whole chain's day takes minutes: scripts/bench runs it once with -orders.chainday")
	}
	for b.Loop() {
		res := chainDay(b, registers, perRegister, time.Hour)
		b.ReportMetric(float64(res.peakBytes)/1e6, "MB-peak")
		b.ReportMetric(float64(res.peakDocs), "orders-peak")
		b.ReportMetric(float64(res.allDayBytes)/1e6, "MB-allday")
		b.ReportMetric(float64(res.allDayDocs), "orders-allday")
		b.ReportMetric(res.peakWrite.Seconds()*1000, "ms/write")
		b.ReportMetric(res.slowestPull.Seconds()*1000, "ms/pull-max")
		b.ReportMetric(float64(res.pullCalls), "calls/pull-max")
		b.ReportMetric(float64(res.pullCalls)/5, "s/pull@5rps")
		b.ReportMetric(float64(res.allCalls)/float64(res.pulls), "calls/pull-mean")
		b.ReportMetric(float64(res.frequentMax), "calls/frequent-max")
		b.ReportMetric(float64(res.frequentCalls)/float64(max(res.frequentPulls, 1)), "calls/frequent-mean")
		if testing.Short() || *flagChainAllDeep {
			base := chainDay(b, registers, perRegister, 0)
			b.ReportMetric(float64(base.pullCalls), "calls/alldeep-max")
			b.ReportMetric(float64(base.allCalls)/float64(base.pulls), "calls/alldeep-mean")
		}
	}
}

var (
	flagChainDay       = flag.Bool("orders.chainday", false, "run BenchmarkOrdersFileChainDay at full size (50 registers)")
	flagChainRegisters = flag.Int("orders.registers", 50, "cash registers of BenchmarkOrdersFileChainDay at full size")
	flagChainAllDeep   = flag.Bool("orders.alldeep", false, "also play BenchmarkOrdersFileChainDay with every pull deep (the baseline)")
)

type chainDayResult struct {
	peakBytes, peakDocs, allDayBytes, allDayDocs int
	peakWrite                                    time.Duration
	slowestPull                                  time.Duration
	pullCalls, allCalls, pulls                   int
	frequentMax, frequentCalls, frequentPulls    int
}

// chainDay plays the day with a deep pull every deepEvery (0: every pull).
func chainDay(b *testing.B, registers, perRegister int, deepEvery time.Duration) chainDayResult {
	b.Helper()
	ctx := context.Background()
	dir := b.TempDir()
	st, err := store.Open(ctx, filepath.Join(dir, "state.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	goods := make([]store.GoodRecord, 2000)
	for i := range goods {
		goods[i] = store.GoodRecord{Code: fmt.Sprintf("BK-%06d", i), BASID: fmt.Sprintf("b0000000-0000-4000-8000-%012d", i),
			Article: fmt.Sprintf("BK-%06d", i), Name: fmt.Sprintf("Книга для мережі, том %d: історія України в документах", i),
			UnitCode: "796", UnitName: "шт", UnitFullName: "Штука", UnitIntl: "PCE"}
	}
	if err := st.PutGoods(ctx, goods); err != nil {
		b.Fatal(err)
	}
	kyiv, _ := time.LoadLocation("Europe/Kyiv")
	open := time.Date(2026, 3, 2, 8, 0, 0, 0, kyiv)
	clock := open
	// The chain's registers are the emulator's; obmin pulls them as the service does.
	emu := emulator.New(emulator.Config{Login: "cashier", Password: "pass", Seed: 5, Registers: make([]emulator.Register, registers)})
	srv := httptest.NewServer(emu)
	defer func() { srv.Close(); emu.Close() }()
	client, err := checkbox.New(checkbox.Config{BaseURL: srv.URL, Login: "cashier", Password: "pass", ClientVersion: "bench",
		HTTPClient: &http.Client{Timeout: time.Minute}, RequestsPerSecond: 1e6})
	if err != nil {
		b.Fatal(err)
	}
	regs := emu.Registers()
	s := &exchange.Sales{API: client, Store: st, Now: func() time.Time { return clock }, Cfg: exchange.SalesConfig{
		Out: folder.LocalTarget(filepath.Join(dir, "bas")), OrdersFile: "orders.xml", ReturnsFile: "returns.txt",
		NumbersDir: filepath.Join(dir, "numbers"), Encoding: commerceml.EncodingUTF8BOM, Returns: exchange.ReturnsList,
		OrderStatus: "Продано на касі", KeepRuns: 3, KeepFor: time.Hour, Currency: "грн", CustomerName: "Роздрібний покупець",
		NumberPrefix: "CB-", VATCodes: map[int]string{1: "20", 8: ""}, Overlap: 38 * time.Hour, RecentOverlap: 10 * time.Minute, DeepEvery: deepEvery, FirstPull: 24 * time.Hour,
	}}
	// Receipts spread evenly over the 12 hours, every register alike.
	total := registers * perRegister
	day := 12 * time.Hour
	rnd := rand.New(rand.NewPCG(1, 2))
	var res chainDayResult
	next := 0
	for minute := 5; minute <= int(day/time.Minute); minute += 5 {
		clock = open.Add(time.Duration(minute) * time.Minute)
		for ; next < total && open.Add(day*time.Duration(next)/time.Duration(total)).Before(clock); next++ {
			if _, err := emu.Sell(chainSale(rnd, regs[next%registers].ID, open.Add(day*time.Duration(next)/time.Duration(total)))); err != nil {
				b.Fatal(err)
			}
		}
		calls := len(emu.Calls())
		t0 := time.Now()
		rep, err := s.Pull(ctx)
		if err != nil {
			b.Fatal(err)
		}
		if took := time.Since(t0); took > res.slowestPull {
			res.slowestPull = took
		}
		n := len(emu.Calls()) - calls
		res.pullCalls, res.allCalls, res.pulls = max(res.pullCalls, n), res.allCalls+n, res.pulls+1
		if !rep.Deep {
			res.frequentMax, res.frequentCalls, res.frequentPulls = max(res.frequentMax, n), res.frequentCalls+n, res.frequentPulls+1
		}
		t0 = time.Now()
		n, err = s.WriteOrders(ctx)
		if err != nil {
			b.Fatal(err)
		}
		took := time.Since(t0)
		fi, err := os.Stat(filepath.Join(dir, "bas", "orders.xml"))
		if err != nil {
			b.Fatal(err)
		}
		if int(fi.Size()) > res.peakBytes {
			res.peakBytes, res.peakDocs, res.peakWrite = int(fi.Size()), n, took
		}
		if minute%10 == 0 {
			// BAS's run: it started after the last write and was seen a moment later.
			if err := st.RecordBASRun(ctx, "webdata - node", clock, clock.Add(time.Second)); err != nil {
				b.Fatal(err)
			}
		}
	}
	// The baseline: one file with every order of the day.
	var all []commerceml.Document
	if err := st.ReceiptsSoldSince(ctx, open, func(r store.ReceiptRecord) error {
		var d commerceml.Document
		if err := json.Unmarshal(r.Document, &d); err != nil {
			return err
		}
		d.Number = r.Number
		all = append(all, d)
		return nil
	}, exchange.StatePending, exchange.StateDelivered); err != nil {
		b.Fatal(err)
	}
	var size countWriter
	if err := commerceml.WriteDocuments(&size, commerceml.WriterOptions{Indent: true, Generated: clock}, all); err != nil {
		b.Fatal(err)
	}
	res.allDayBytes, res.allDayDocs = int(size), len(all)
	return res
}

// chainSale is a sale of the day at register reg: one to four books of the 2,000, now and then two
// copies, cash or card.
func chainSale(rnd *rand.Rand, reg string, at time.Time) emulator.Sale {
	s := emulator.Sale{RegisterID: reg, At: at, Payment: "CASH"}
	if rnd.IntN(2) == 0 {
		s.Payment = "CASHLESS"
	}
	for l := 0; l < 1+rnd.IntN(4); l++ {
		g := rnd.IntN(2000)
		s.Lines = append(s.Lines, emulator.SaleLine{Code: fmt.Sprintf("BK-%06d", g), Name: "Книга", Price: int64(10000 + 50*rnd.IntN(600)),
			Quantity: int64(1000 * (1 + rnd.IntN(2)))})
	}
	return s
}

type countWriter int

func (c *countWriter) Write(p []byte) (int, error) {
	*c += countWriter(len(p))
	return len(p), nil
}
