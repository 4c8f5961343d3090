package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"time"

	"obmin/checkbox/emulator"
	"obmin/exchange"
	"obmin/internal/config"
	"obmin/internal/demo"
	"obmin/internal/lockfile"
)

// demoMarker marks a folder the demo made, so a re-run may clear it and nothing else.
const demoMarker = ".obmin-demo"

// DemoLock is the lock file a running demo holds in its folder: a second demo there would clear the folder
// under the first one.
const DemoLock = "obmin-demo.lock"

// prepareDemoDir locks dir for this demo and clears it; unlock gives the lock up.
func prepareDemoDir(dir string) (root string, unlock func() error, err error) {
	root, err = filepath.Abs(dir)
	if err != nil {
		return "", nil, err
	}
	entries, err := os.ReadDir(root)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return "", nil, err
	}
	if len(entries) > 0 {
		if _, err := os.Stat(filepath.Join(root, demoMarker)); err != nil && !(len(entries) == 1 && entries[0].Name() == DemoLock) {
			return "", nil, fmt.Errorf("%s is not empty and was not made by the demo: choose another -dir", root)
		}
	}
	if err := os.MkdirAll(root, 0o755); err != nil {
		return "", nil, err
	}
	l, err := lockfile.Acquire(filepath.Join(root, DemoLock), "obmin demo")
	var held *lockfile.HeldError
	if errors.As(err, &held) {
		return "", nil, fmt.Errorf("another obmin demo is running in %s (%s): wait for it or choose another -dir", root, held.Holder)
	}
	if err != nil {
		return "", nil, err
	}
	for _, e := range entries {
		if e.Name() != DemoLock {
			if err := os.RemoveAll(filepath.Join(root, e.Name())); err != nil {
				l.Release()
				return "", nil, err
			}
		}
	}
	if err := os.WriteFile(filepath.Join(root, demoMarker), []byte("made by obmin demo; safe to delete\n"), 0o644); err != nil {
		l.Release()
		return "", nil, err
	}
	return root, l.Release, nil
}

// sellHandMadeGood plays a cashier who types in a good that is not in the catalogue and sells it: BAS has
// never heard of it, so obmin must hold the receipt back rather than let BAS invent a new item.
func sellHandMadeGood(emu *emulator.Emulator) error {
	_, err := emu.Sell(emulator.Sale{Payment: "CASHLESS", Lines: []emulator.SaleLine{
		{Code: "PK-1", Name: "Пакет паперовий", Price: 500, Quantity: 1000},
	}})
	return err
}

// DemoOptions are `obmin demo`'s flags.
type DemoOptions struct {
	Dir   string    // the demo's spool, state and BAS folders (cleared first)
	Sales int       // how many receipts to generate in the emulator
	Log   io.Writer // obmin's log; nil: none
}

// Demo runs obmin end to end on its embedded defaults: local folders under opt.Dir, embedded state, the
// built-in Checkbox emulator, and tells stdout what happens. It plays BAS's part too: it drops a
// catalogue export, then runs BAS's exchange a few times, the last with BAS's own orders export that
// confirms part of what BAS loaded.
func Demo(ctx context.Context, opt DemoOptions, stdout io.Writer) error {
	dir, sales := &opt.Dir, &opt.Sales
	root, unlock, err := prepareDemoDir(*dir)
	if err != nil {
		return err
	}
	defer unlock()
	cfg := config.Default()
	cfg.Dir = root
	cfg.Checkbox.Emulator = true
	cfg.SpoolDir, cfg.StateFile = "spool", "state.db"
	cfg.BAS.ExportDir, cfg.BAS.OrdersFile = filepath.Join("bas", "export"), filepath.Join("bas", "orders.xml")
	cfg.Mapping.Stock = true // the emulator applies the goods import's leftovers
	cfg.BAS.PollInterval = 200 * time.Millisecond
	cfg.BAS.MinAge = 300 * time.Millisecond
	cfg.Schedule.RetentionKeep = 0
	cfg.Sales.FirstPull = 48 * time.Hour
	// Both channels: the orders file, and BAS's own retail sales report per shift through its OData
	// interface, here the built-in BAS emulator, seeded below with the goods BAS exports.
	cfg.Sales.To = config.SalesToBoth
	cfg.BAS.OData.Emulator = true
	cfg.BAS.OData.UntaxedRate = "без ПДВ" // a good typed in at the till carries no tax
	cfg.Mapping.VAT = map[string][]int{"20": {1}, "7": {2}, "0": {3}, "без ПДВ": {8}}
	cfg.BAS.OData.Registers = []config.BASRegister{{Checkbox: emulator.FirstFiscalNumber, Till: "Каса 1 (Checkbox)", Terminal: "Термінал ПриватБанку",
		CardKinds: map[string]string{"Картка": "Visa"}}}
	if err := cfg.Finish(func(string) string { return "" }); err != nil {
		return err
	}
	// The demo plays BAS: it makes BAS's folders, which obmin never does.
	for _, d := range []string{cfg.BAS.ExportDir, filepath.Dir(cfg.BAS.OrdersFile)} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return err
		}
	}
	logOut := io.Discard
	if opt.Log != nil {
		logOut = opt.Log
	}
	log, err := NewLogger(cfg.Log, logOut)
	if err != nil {
		return err
	}
	a, err := Build(ctx, cfg, log, "obmin demo")
	if err != nil {
		return err
	}
	defer a.Close()
	emu, agent := a.Emulator, a.Agent
	settle := cfg.BAS.MinAge + cfg.BAS.PollInterval
	p := func(format string, args ...any) { fmt.Fprintf(stdout, format+"\n", args...) }
	if err := seedDemoBAS(a, time.Now()); err != nil {
		return err
	}
	stockBefore := demoStock(a)

	p("obmin demo — Checkbox is the built-in EMULATOR; folders under %s", root)
	p("")
	catalogue := demoCatalogue()
	p("1. BAS exports its catalogue (%d goods, %d of them with characteristics: bindings, sizes) into %s",
		len(catalogue), len(demo.Editions), filepath.Join(cfg.BAS.ExportDir, demo.FolderName))
	if _, err := demo.WriteDrop(cfg.BAS.ExportDir, catalogue, time.Now()); err != nil {
		return err
	}
	if err := agent.Once(ctx, settle); err != nil {
		return fmt.Errorf("first pass: %w", err)
	}
	goods := emu.Goods()
	p("   obmin took the drop, mapped it and created %d goods in Checkbox:", len(goods))
	for _, g := range goods {
		stock := "-"
		if q, ok := emu.Stock(g.Code); ok {
			stock = exchange.Quantity(q).String()
		}
		p("     %-16s %10s грн  stock %-6s %s", g.Code, exchange.UAH(g.Price).StringFixed(2), stock, g.Name)
	}
	p("   (each characteristic is a good of its own, coded Артикул-XXXXXXXX; the good without a retail price")
	p("   was reported, not sent at 0: see the report in %s)", filepath.Join(cfg.SpoolDir, "done"))

	p("")
	p("2. The shop sells: %d receipts in the emulator, returns among them, and the shift closes; in the next", *sales)
	p("   shift a cashier sells a good added in Checkbox by hand (BAS never exported it), and that shift closes too")
	if _, err := emu.GenerateSales(rand.New(rand.NewPCG(1, 2)), *sales, 4); err != nil {
		return fmt.Errorf("generate sales: %w", err)
	}
	emu.CloseShifts()
	if err := sellHandMadeGood(emu); err != nil {
		return err
	}
	emu.CloseShifts()
	if _, err := agent.PullReceipts(ctx); err != nil {
		return fmt.Errorf("pull receipts: %w", err)
	}
	st, err := agent.Snapshot(ctx)
	if err != nil {
		return err
	}
	p("   obmin pulled them: %d orders in the BAS orders file %s (discounts inside the line sums, VAT as BAS reads it),",
		st.Receipts[exchange.StatePending], cfg.BAS.OrdersFile)
	p("   %d returns listed for staff in %s and %s, %d held back (described in %s)",
		st.Receipts[exchange.StateListed], filepath.Join(filepath.Dir(cfg.BAS.OrdersFile), cfg.Sales.ReturnsFile), filepath.Join(cfg.SpoolDir, "returns"),
		st.Receipts[exchange.StateHeld], filepath.Join(cfg.SpoolDir, "held"))

	p("")
	p("3. obmin wrote each closed shift into BAS as BAS's own retail sales report («Звіт про роздрібні продажі»)")
	p("   through BAS's OData interface (the built-in BAS emulator) and posted it; BAS moved the stock itself:")
	if err := printDemoReports(stdout, a, stockBefore); err != nil {
		return err
	}

	p("")
	p("4. BAS runs its exchange three times: each run empties its folder %s, writes its export again and", demo.FolderName)
	p("   loads the orders file; in the last run it also exports its own orders list, naming half of obmin's orders")
	numbers, err := exchange.ReadOrderNumbers(cfg.BAS.OrdersFile)
	if err != nil {
		return err
	}
	before := emu.CountCalls("POST", "/api/v1/goods") + emu.CountCalls("PUT", "/api/v1/goods")
	for run := 1; run <= 3; run++ {
		at := time.Now().Add(time.Duration(run) * time.Second)
		dir, err := demo.WriteDrop(cfg.BAS.ExportDir, catalogue, at)
		if err != nil {
			return err
		}
		if run == 3 {
			if err := os.WriteFile(filepath.Join(dir, "orders-5d0e.xml"), demo.OrdersExport(numbers[:len(numbers)/2], at), 0o644); err != nil {
				return err
			}
		}
		if err := agent.Once(ctx, settle); err != nil {
			return fmt.Errorf("BAS run %d: %w", run, err)
		}
	}
	after := emu.CountCalls("POST", "/api/v1/goods") + emu.CountCalls("PUT", "/api/v1/goods")
	st, err = agent.Snapshot(ctx)
	if err != nil {
		return err
	}
	p("   obmin saw %d runs; BAS confirmed %d orders, which left the file; %d stay in it until they have been there",
		st.BASRuns, st.Receipts[exchange.StateConfirmed], st.Receipts[exchange.StatePending])
	p("   across %d runs and for %s (sales.keep_runs, sales.keep_for). Goods calls to Checkbox for the unchanged catalogue: %d",
		cfg.Sales.KeepRuns, cfg.Sales.KeepFor, after-before)

	p("")
	p("Where to look:")
	p("  %-40s what staff see first", filepath.Join(cfg.SpoolDir, "status.txt"))
	p("  %-40s the file BAS's exchange node loads", cfg.BAS.OrdersFile)
	p("  %-40s each BAS drop, with obmin-report.txt", filepath.Join(cfg.SpoolDir, "done"))
	p("  %-40s receipts waiting for goods from BAS", filepath.Join(cfg.SpoolDir, "held"))
	p("  %-40s shifts whose retail sales report waits", filepath.Join(cfg.SpoolDir, "held-shifts"))
	p("  %-40s returns to enter in BAS", filepath.Join(cfg.SpoolDir, "returns"))
	p("  %-40s every order number obmin gave", filepath.Join(cfg.SpoolDir, "numbers"))
	p("  %-40s obmin's state (SQLite)", cfg.StateFile)
	p("")
	st.Text(stdout)
	return nil
}
