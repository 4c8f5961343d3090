package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/sirupsen/logrus"
	"gopkg.in/natefinch/lumberjack.v2"

	basemu "obmin/basodata/emulator"
	"obmin/checkbox"
	"obmin/checkbox/emulator"
	"obmin/commerceml"
	"obmin/exchange"
	"obmin/httpapi"
	"obmin/internal/config"
	"obmin/internal/lockfile"
	"obmin/internal/quietlog"
	"obmin/spool"
	"obmin/store"
	"obmin/watch"
)

// ClientVersion is the version obmin names itself with to Checkbox: cmd/obmin sets it from its build
// stamp.
var ClientVersion = "dev"

// Emulator credentials: the built-in emulator accepts only these, and only in-process on loopback.
const (
	emuLogin    = "obmin-demo"
	emuPassword = "obmin-demo-password"
)

// App is a wired obmin: the agent, the emulator when the config asks for one, and what to close.
type App struct {
	Agent    *exchange.Agent
	Emulator *emulator.Emulator
	Client   *checkbox.Client
	Metrics  *httpapi.Metrics // served at /metrics; counts the Checkbox client's calls
	links    links            // whether Checkbox and BAS's folder answer, for notifications
	closers  []func() error
	// basEmulator is the built-in BAS OData emulator, with bas.odata.emulator (basodata.go).
	BASEmulator *basemu.Emulator
}

// CloseLast makes fn the last thing Close does.
func (a *App) CloseLast(fn func() error) { a.closers = append([]func() error{fn}, a.closers...) }

// Close stops and closes what Build started, the last started first.
func (a *App) Close() error {
	var errs []error
	for i := len(a.closers) - 1; i >= 0; i-- {
		errs = append(errs, a.closers[i]())
	}
	return errors.Join(errs...)
}

// NewLogger is a logger writing to w at the configured format and level, with hooks (the Windows Event
// Log when obmin runs as a service). A warning or error repeated within log.repeat_window is written once
// and then summarised (internal/quietlog), in w and in the hooks; FlushLog writes what is held back.
func NewLogger(c config.Log, w io.Writer, hooks ...logrus.Hook) (*logrus.Entry, error) {
	l := logrus.New()
	l.SetOutput(w)
	for _, h := range hooks {
		l.AddHook(quietlog.Hook(h, c.RepeatWindow))
	}
	var f logrus.Formatter = &logrus.TextFormatter{FullTimestamp: true, DisableColors: true}
	if c.Format == "json" {
		f = &logrus.JSONFormatter{}
	}
	l.SetFormatter(quietlog.NewFormatter(f, c.RepeatWindow))
	lvl, err := logrus.ParseLevel(c.Level)
	if err != nil {
		return nil, fmt.Errorf("log.level: %w", err)
	}
	l.SetLevel(lvl)
	return logrus.NewEntry(l), nil
}

// LogOutput is where a configured obmin logs: stderr; or, with log.file set, that file, rotated by
// size (and stderr as well when it is a terminal: a service or a scheduled task has none). The file is
// opened here, so a folder obmin may not write to is an error at start, not a silent loss of the log.
func LogOutput(c config.Log, stderr io.Writer) (w io.Writer, closeLog func() error, err error) {
	if c.File == "" {
		return stderr, func() error { return nil }, nil
	}
	f := logFile(c)
	if _, err := f.Write(nil); err != nil {
		return nil, nil, fmt.Errorf("log.file %s: %w", c.File, err)
	}
	if isTerminal(stderr) {
		return io.MultiWriter(f, stderr), f.Close, nil
	}
	return f, f.Close, nil
}

// logFile is log.file with its rotation: lumberjack renames a full file to <name>-<local time>.<ext>
// beside it and deletes the oldest beyond max_backups and max_age_days. New files are created 0600.
func logFile(c config.Log) *lumberjack.Logger {
	return &lumberjack.Logger{Filename: c.File, MaxSize: c.MaxSizeMB, MaxBackups: c.MaxBackups, MaxAge: c.MaxAgeDays, LocalTime: true}
}

// isTerminal reports whether w is a console (a character device): not a file, a pipe or a service's
// missing handle.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok || f == nil {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// FlushLog writes the summaries of repeats the logger still holds back: before its output is closed.
func FlushLog(log *logrus.Entry) {
	if f, ok := log.Logger.Formatter.(*quietlog.Formatter); ok {
		if b := f.Flush(); len(b) > 0 {
			log.Logger.Out.Write(b)
		}
	}
}

func LoadConfig(path string, getenv func(string) string) (config.Config, error) {
	if _, err := os.Stat(path); err != nil {
		return config.Config{}, fmt.Errorf("config file %s: %w (copy configs/example.yaml and edit it, or try `obmin demo`)", path, err)
	}
	return config.Load(path, getenv)
}

// Build wires obmin from a validated configuration for owner, the command that takes drops, pulls
// receipts and writes files ("obmin run"): it gets the spool and the state to itself (LockState).
// obmin status reads beside it without Build (status.go).
func Build(ctx context.Context, cfg config.Config, log *logrus.Entry, owner string) (*App, error) {
	if err := cfg.CheckFolders(); err != nil {
		return nil, err
	}
	a := &App{}
	ok := false
	defer func() {
		if !ok {
			a.Close()
		}
	}()
	release, err := LockState(cfg, owner)
	if err != nil {
		return nil, err
	}
	a.closers = append(a.closers, release)
	sp, err := spool.OpenSpool(cfg.SpoolDir)
	if err != nil {
		return nil, fmt.Errorf("spool_dir: %w", err)
	}
	st, err := store.Open(ctx, cfg.StateFile)
	if err != nil {
		return nil, fmt.Errorf("state_file: %w", err)
	}
	a.closers = append(a.closers, st.Close)
	fl, err := openFolders(ctx, cfg, log)
	if err != nil {
		return nil, fmt.Errorf("bas: %w", err)
	}
	a.closers = append(a.closers, fl.close)
	a.links = newLinks()
	fl = a.links.observe(fl)
	src := fl.src
	for _, warning := range cfg.Warnings() {
		log.Warn(warning)
	}
	own := exchange.NewOwnFiles(cfg.OwnFilesInExportDir()...)
	runs := &exchange.RunWatcher{Store: st, Own: own, Log: log.WithField("part", "bas-runs")}
	w, err := watch.New(watch.Config{Source: src, Spool: sp, Interval: cfg.BAS.PollInterval, MinAge: cfg.BAS.MinAge,
		GiveUpAfter: cfg.BAS.IncompleteTimeout, Notify: fl.notify, Logger: log.WithField("part", "watcher"), OnList: runs.Observe})
	if err != nil {
		return nil, err
	}

	a.Metrics = httpapi.NewMetrics()
	cc := checkboxConfig(cfg, log, a.Metrics.InstrumentTransport(a.links.checkbox.Transport(nil)))
	if cfg.Checkbox.Emulator {
		a.Emulator = emulator.New(emulator.Config{Login: emuLogin, Password: emuPassword})
		url, stop, err := a.Emulator.Serve(ctx, "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("start the Checkbox emulator: %w", err)
		}
		a.closers = append(a.closers, func() error {
			sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			a.Emulator.Close()
			return stop(sctx)
		})
		cc.BaseURL, cc.Login, cc.Password, cc.PINCode, cc.LicenseKey = url, emuLogin, emuPassword, "", ""
		cc.RequestsPerSecond = 1000
		log.WithField("url", url).Warn("Checkbox is the built-in EMULATOR (checkbox.emulator: true): nothing reaches a real cash register")
	}
	client, err := checkbox.New(cc)
	if err != nil {
		return nil, fmt.Errorf("checkbox: %w", err)
	}
	a.Client = client

	m := exchange.DefaultMapping()
	m.CodeField = cfg.Mapping.CodeField
	m.VariantCode = cfg.Mapping.VariantCode
	for _, f := range cfg.Mapping.Feeds {
		m.Feeds = append(m.Feeds, exchange.FeedSource{Files: f.Files, Name: f.Name, CodeField: f.CodeField})
	}
	m.PriceType = cfg.Mapping.PriceType
	if cfg.Mapping.VAT != nil {
		m.VAT = cfg.Mapping.VAT
	}
	m.DefaultTaxCodes = cfg.Mapping.DefaultTaxCodes
	if len(cfg.Mapping.WeightUnits) > 0 {
		m.WeightUnits = cfg.Mapping.WeightUnits
	}
	m.Stock = cfg.Mapping.Stock
	m.Warehouses = cfg.Mapping.Warehouses
	missing, err := exchange.ParseMissingPolicy(cfg.Mapping.Missing)
	if err != nil {
		return nil, fmt.Errorf("mapping.missing: %w", err)
	}

	enc := commerceml.EncodingUTF8BOM
	if e := strings.ToLower(cfg.BAS.Encoding); e == "windows-1251" || e == "cp1251" {
		enc = commerceml.EncodingWindows1251
	}
	a.Agent = &exchange.Agent{
		Spool: sp, Store: st, Source: src, Watcher: w, Log: log, Emulated: cfg.Checkbox.Emulator, Own: own,
		Catalog: &exchange.Catalog{API: client, Store: st, Mapping: m, Missing: missing, Workers: cfg.Checkbox.Workers,
			BulkThreshold: cfg.Checkbox.BulkThreshold, BulkBatch: cfg.Checkbox.BulkBatch, Log: log.WithField("part", "catalog")},
		Sales: &exchange.Sales{API: client, Store: st, Log: log.WithField("part", "sales"), Cfg: exchange.SalesConfig{
			Out: fl.out, OrdersFile: filepath.Base(cfg.BAS.OrdersFile), ReturnsFile: cfg.Sales.ReturnsFile,
			HeldDir: filepath.Join(cfg.SpoolDir, "held"), ReturnsDir: filepath.Join(cfg.SpoolDir, "returns"), NumbersDir: filepath.Join(cfg.SpoolDir, "numbers"),
			Encoding: enc, Returns: cfg.Sales.Returns, OrderStatus: cfg.Sales.OrderStatus, PaymentRequisites: cfg.Sales.PaymentRequisites,
			KeepRuns: cfg.Sales.KeepRuns, KeepFor: cfg.Sales.KeepFor, Overlap: cfg.Sales.Overlap,
			RecentOverlap: cfg.Sales.RecentOverlap, DeepEvery: cfg.Sales.DeepPull,
			FirstPull: cfg.Sales.FirstPull, Registers: cfg.Checkbox.CashRegisters, Currency: cfg.Sales.Currency,
			CustomerName: cfg.Sales.CustomerName, NumberPrefix: cfg.Sales.NumberPrefix,
			NumberFirst: cfg.Sales.NumberFirst, NumberLast: cfg.Sales.NumberLast, VATCodes: vatCodes(cfg.Mapping.VAT),
			NoOrdersFile: !cfg.OrdersFile(),
		}},
		Schedules: exchange.Schedules{
			PullReceipts: cfg.Schedule.PullReceipts, Retention: cfg.Schedule.Retention,
			RetentionKeep: cfg.Schedule.RetentionKeep, RetryDrops: cfg.Schedule.RetryDrops, Reconcile: cfg.Schedule.Reconcile,
		},
	}
	if cfg.RetailReports() {
		if a.Agent.Retail, err = a.retail(ctx, cfg, log, st); err != nil {
			return nil, err
		}
	}
	a.Agent.Reconciler = newReconciler(cfg, a.Agent, client, true)
	runs.OnRun = a.Agent.BASRunSeen
	ok = true
	return a, nil
}

// checkboxConfig is the Checkbox client's configuration, its calls going through transport.
func checkboxConfig(cfg config.Config, log *logrus.Entry, transport http.RoundTripper) checkbox.Config {
	return checkbox.Config{
		BaseURL: cfg.Checkbox.BaseURL, Login: cfg.Checkbox.Login, Password: cfg.Checkbox.Password,
		PINCode: cfg.Checkbox.PINCode, LicenseKey: cfg.Checkbox.LicenseKey,
		ClientName: "obmin", ClientVersion: ClientVersion, RequestsPerSecond: cfg.Checkbox.RequestsPerSecond,
		Logger:     log.WithField("part", "checkbox"),
		HTTPClient: &http.Client{Timeout: 30 * time.Second, Transport: transport},
	}
}

// vatCodes reads mapping.vat (BAS rate → Checkbox tax codes) the other way, for the orders: a code under
// "20", "7" or "0" is that VAT rate in BAS; under any other key («без пдв») it is no VAT.
func vatCodes(m map[string][]int) map[int]string {
	out := map[int]string{}
	for k, codes := range m {
		rate := strings.TrimSuffix(strings.ReplaceAll(strings.TrimSpace(k), " ", ""), "%")
		switch rate {
		case "20", "7", "0":
		default:
			rate = ""
		}
		for _, c := range codes {
			out[c] = rate
		}
	}
	return out
}

// LockState keeps a second obmin off this spool and this state file: both would take the same drops and
// write the same goods (internal/lockfile; the operating system releases the locks when the process
// ends, however it ends). The locks are obmin.lock in spool_dir and <state_file>.lock.
func LockState(cfg config.Config, owner string) (release func() error, err error) {
	var locks []*lockfile.Lock
	release = func() error {
		var errs []error
		for i := len(locks) - 1; i >= 0; i-- {
			errs = append(errs, locks[i].Release())
		}
		return errors.Join(errs...)
	}
	for _, l := range []struct{ key, dir, file string }{
		{"spool_dir", cfg.SpoolDir, filepath.Join(cfg.SpoolDir, "obmin.lock")},
		{"state_file", filepath.Dir(cfg.StateFile), cfg.StateFile + ".lock"},
	} {
		if err := os.MkdirAll(l.dir, 0o750); err != nil {
			release()
			return nil, fmt.Errorf("%s: %w", l.key, err)
		}
		lk, err := lockfile.Acquire(l.file, owner)
		var held *lockfile.HeldError
		if errors.As(err, &held) {
			release()
			who := held.Holder
			if who == "" {
				who = "its pid is unknown"
			}
			return nil, LockedError{fmt.Sprintf("another obmin is already running with this %s (%s): %s; stop it first "+
				"(obmin service stop, or Ctrl+C in its window): two would take the same drops and send the same goods twice",
				l.key, l.dir, who)}
		}
		if err != nil {
			release()
			return nil, fmt.Errorf("%s: %w", l.key, err)
		}
		locks = append(locks, lk)
	}
	return release, nil
}

// LockedError is LockState's refusal: another obmin holds the spool or the state.
type LockedError struct{ msg string }

func (e LockedError) Error() string { return e.msg }
