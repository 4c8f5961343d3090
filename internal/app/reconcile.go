package app

import (
	"context"
	"fmt"
	"io"
	"path/filepath"

	"obmin/checkbox"
	"obmin/exchange"
	"obmin/internal/config"
	"obmin/reconcile"
	"obmin/spool"
	"obmin/store"
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

// ReconcileBeside reconciles beside a running obmin: the state and the spool read as they are (nothing
// created, no lock), Checkbox read with the configured account; no repair.
func ReconcileBeside(ctx context.Context, cfg config.Config, stderr io.Writer, opts reconcile.Options) (*reconcile.Report, error) {
	out, closeLog, err := LogOutput(cfg.Log, stderr)
	if err != nil {
		return nil, err
	}
	defer closeLog()
	log, err := NewLogger(cfg.Log, out)
	if err != nil {
		return nil, err
	}
	defer FlushLog(log)
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
		a := &App{}
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
