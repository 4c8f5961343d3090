package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"obmin/store"
	"path/filepath"

	"obmin/checkbox"
	"obmin/exchange"
	"obmin/internal/config"
	"obmin/reconcile"
	"obmin/spool"
)

// newReconciler is reconciliation over an agent's state, through the channels sales.to sends receipts by:
// the orders file with BAS's own orders export, the retail sales reports (read back from BAS), or both;
// repair sends goods through the agent's catalogue when repair is possible.
func newReconciler(cfg config.Config, ag *exchange.Agent, cb reconcile.Checkbox, repair bool) *reconcile.Reconciler {
	rc := &reconcile.Reconciler{
		Checkbox: cb, Ledger: ag.Store, Stock: cfg.Mapping.Stock, Registers: cfg.Checkbox.CashRegisters,
		Dir: ag.ReconcileDir(), Log: ag.Log.WithField("part", "reconcile"),
	}
	if cfg.OrdersFile() {
		rc.Channels = append(rc.Channels, ag.Sales.OrdersFileChannel(ag.Store), exchange.BASOrdersChannel(ag.Store))
	}
	if cfg.RetailReports() && ag.Retail != nil {
		rc.Channels = append(rc.Channels, ag.RetailChannel())
	}
	if repair && ag.Catalog != nil {
		rc.Goods = ag.Catalog
	}
	return rc
}

// differencesLeft is reconcile's answer when BAS and Checkbox disagree: exit 3, which a scheduler can tell
// from a reconciliation that could not be made (1).
type differencesLeft struct{ n int }

func (e differencesLeft) Error() string {
	return fmt.Sprintf("reconciliation: %d differences left between BAS and Checkbox", e.n)
}
func (e differencesLeft) ExitCode() int { return 3 }

func cmdReconcile(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := newFlags("reconcile", stderr)
	cfgPath := configFlag(fs, getenv)
	date := fs.String("date", "", "the Kyiv day whose receipts are compared, 2006-01-02 (default: yesterday)")
	repair := fs.Bool("repair", false, "fix what obmin can (goods sent again, receipts offered again), then compare again")
	asJSON := fs.Bool("json", false, "print the report as JSON instead of text")
	if err := fs.Parse(args); err != nil {
		return usageError{err.Error()}
	}
	cfg, err := loadConfig(*cfgPath, getenv)
	if err != nil {
		return err
	}
	opts := reconcile.Options{Date: *date, Repair: *repair}
	var rep *reconcile.Report
	// Another obmin running with this configuration owns goods and the orders file: compare beside it,
	// read-only (its own notifications pick the report up); repair belongs to it (its staff page).
	release, err := lockState(cfg, "obmin reconcile")
	var locked lockedError
	switch {
	case errors.As(err, &locked) && *repair:
		return fmt.Errorf("%w\nrepair changes goods and the orders file, which the running obmin owns: stop it, or repair from its staff page", err)
	case errors.As(err, &locked) && !cfg.Checkbox.Emulator:
		if rep, err = reconcileBeside(ctx, cfg, stderr, opts); err != nil {
			return err
		}
	case err != nil:
		return err
	default:
		release()
		a, _, notifier, err := startOneShot(ctx, fs, cfgPath, args, getenv, stderr, "obmin reconcile")
		if err != nil {
			return err
		}
		defer a.Close()
		rep, err = a.agent.Reconcile(ctx, opts)
		if notifier != nil {
			notifier.Deliver(ctx)
		}
		if err != nil {
			return err
		}
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(rep); err != nil {
			return err
		}
	} else {
		rep.Text(stdout)
		fmt.Fprintf(stdout, "\r\nЗвіт: %s\r\n", filepath.Join(rep.Dir, "report.html"))
	}
	if n := rep.Left(); n > 0 {
		return differencesLeft{n}
	}
	return nil
}

// reconcileBeside reconciles beside a running obmin: the state and the spool read as they are (nothing
// created, no lock), Checkbox read with the configured account; no repair.
func reconcileBeside(ctx context.Context, cfg config.Config, stderr io.Writer, opts reconcile.Options) (*reconcile.Report, error) {
	out, closeLog, err := logOutput(cfg.Log, stderr)
	if err != nil {
		return nil, err
	}
	defer closeLog()
	log, err := newLogger(cfg.Log, out)
	if err != nil {
		return nil, err
	}
	defer flushLog(log)
	st, err := store.Open(ctx, cfg.StateFile)
	if err != nil {
		return nil, fmt.Errorf("state_file: %w", err)
	}
	defer st.Close()
	sp, err := spool.AttachSpool(cfg.SpoolDir)
	if err != nil {
		return nil, fmt.Errorf("spool_dir: %w", err)
	}
	client, err := checkbox.New(checkboxConfig(cfg, log, nil))
	if err != nil {
		return nil, fmt.Errorf("checkbox: %w", err)
	}
	ag := &exchange.Agent{Spool: sp, Store: st, Log: log,
		Sales: &exchange.Sales{Store: st, Log: log, Cfg: exchange.SalesConfig{NumbersDir: filepath.Join(cfg.SpoolDir, "numbers"), Returns: cfg.Sales.Returns}}}
	if cfg.RetailReports() {
		// BAS's reports are read back, never written: no set-up check, no pass.
		a := &app{}
		defer a.Close()
		bas, err := a.basClient(ctx, cfg, log)
		if err != nil {
			return nil, err
		}
		ag.Retail = &exchange.Retail{BAS: bas, Store: st, Cfg: retailConfig(cfg, bas.Location()), Log: log.WithField("part", "retail")}
	}
	ag.Reconciler = newReconciler(cfg, ag, client, false)
	log.WithField("part", "reconcile").Info("another obmin runs with this configuration: reconciling beside it, without repair")
	return ag.Reconcile(ctx, opts)
}

// cmdReplay puts drops from failed/ back into inbox/ (exchange.ReplayDrop), beside a running obmin or not.
func cmdReplay(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := newFlags("replay", stderr)
	cfgPath := configFlag(fs, getenv)
	if err := fs.Parse(args); err != nil {
		return usageError{err.Error()}
	}
	if fs.NArg() == 0 {
		return usageError{"replay: name the drop (its folder in failed/), e.g. obmin replay 20260312-101500-1a2b3c4d-e5f6071"}
	}
	cfg, err := config.LoadWithoutCredentials(*cfgPath, getenv)
	if err != nil {
		return err
	}
	st, err := store.Open(ctx, cfg.StateFile)
	if err != nil {
		return fmt.Errorf("state_file: %w", err)
	}
	defer st.Close()
	sp, err := spool.AttachSpool(cfg.SpoolDir)
	if err != nil {
		return fmt.Errorf("spool_dir: %w", err)
	}
	var errs []error
	for _, id := range fs.Args() {
		if err := exchange.ReplayDrop(ctx, sp, st, id); err != nil {
			errs = append(errs, err)
			continue
		}
		fmt.Fprintf(stdout, "Пакет %s повернуто в inbox/: obmin застосує його знову (служба — протягом schedule.retry_drops, або наступний obmin once).\r\n", id)
	}
	return errors.Join(errs...)
}
