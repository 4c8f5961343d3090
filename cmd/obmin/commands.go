package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	basemu "obmin/basodata/emulator"
	"obmin/checkbox"
	"obmin/exchange"
	"obmin/httpapi"
	"obmin/internal/app"
	"obmin/internal/atomicfile"
	"obmin/internal/config"
	"obmin/internal/demo"
	"obmin/internal/winservice"
	"obmin/notify"
	"obmin/reconcile"
	"obmin/spool"
	"obmin/store"
)

func startApp(ctx context.Context, fs interface{ Parse([]string) error }, cfgPath *string, args []string, getenv func(string) string, stderr io.Writer, owner string) (*app.App, config.Config, error) {
	if err := fs.Parse(args); err != nil {
		return nil, config.Config{}, usageError{err.Error()}
	}
	cfg, err := app.LoadConfig(*cfgPath, getenv)
	if err != nil {
		return nil, cfg, err
	}
	out, closeLog, err := app.LogOutput(cfg.Log, stderr)
	if err != nil {
		return nil, cfg, err
	}
	log, err := app.NewLogger(cfg.Log, out, winservice.LogHooks(ctx)...)
	if err != nil {
		closeLog()
		return nil, cfg, err
	}
	a, err := app.Build(ctx, cfg, log, owner)
	if err != nil {
		if cfg.Log.File != "" { // the error goes to stderr too, which nobody sees under a service or a scheduler
			log.WithError(err).Error("obmin could not start")
		}
		closeLog()
		return nil, cfg, err
	}
	a.CloseLast(func() error { app.FlushLog(log); return closeLog() }) // the log closes last
	return a, cfg, nil
}

func cmdRun(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := newFlags("run", stderr)
	cfgPath := configFlag(fs, getenv)
	a, cfg, err := startApp(ctx, fs, cfgPath, args, getenv, stderr, "obmin run")
	if err != nil {
		return err
	}
	defer a.Close()
	stopNotify, err := app.StartNotify(ctx, cfg, a, a.Agent.Log)
	if err != nil {
		return err
	}
	defer stopNotify()
	stopHTTP, err := app.StartHTTP(ctx, cfg, a, a.Agent.Log.WithField("part", "http"))
	if err != nil {
		return err
	}
	runErr := a.Agent.Run(ctx)
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return errors.Join(runErr, stopHTTP(sctx))
}

func cmdOnce(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := newFlags("once", stderr)
	cfgPath := configFlag(fs, getenv)
	a, cfg, notifier, err := startOneShot(ctx, fs, cfgPath, args, getenv, stderr, "obmin once")
	if err != nil {
		return err
	}
	defer a.Close()
	settle := max(cfg.BAS.MinAge, cfg.BAS.PollInterval)
	err = a.Agent.Once(ctx, settle)
	if notifier != nil { // what this pass found, and what earlier passes could not deliver
		notifier.Check(ctx)
		notifier.Deliver(ctx)
	}
	if st, serr := a.Agent.Snapshot(ctx); serr == nil {
		st.Text(stdout)
	}
	return err
}

func cmdCheck(args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := newFlags("check", stderr)
	cfgPath := configFlag(fs, getenv)
	if err := fs.Parse(args); err != nil {
		return usageError{err.Error()}
	}
	cfg, err := app.LoadConfig(*cfgPath, getenv)
	if err != nil {
		return err
	}
	if err := cfg.CheckFolders(); err != nil {
		return fmt.Errorf("config %s: %w", *cfgPath, err)
	}
	out, err := yaml.Marshal(cfg.Redacted())
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "# %s is valid\n%s", *cfgPath, out)
	for _, w := range cfg.Warnings() {
		fmt.Fprintf(stdout, "# WARNING: %s\n", w)
	}
	if cfg.Checkbox.Emulator {
		fmt.Fprintln(stdout, "# NOTE: checkbox.emulator is true: obmin will talk to its built-in emulator, not to Checkbox")
	}
	for _, w := range cfg.QuoteWarnings() {
		fmt.Fprintf(stdout, "# WARNING: %s\n", w)
	}
	return app.CheckRetail(cfg, stdout)
}

// startOneShot starts obmin for a command that does its work and exits (once, reconcile), with the
// notifier of the notify section (nil when none is set), which such a command checks and delivers itself.
func startOneShot(ctx context.Context, fs interface{ Parse([]string) error }, cfgPath *string, args []string, getenv func(string) string,
	stderr io.Writer, owner string) (*app.App, config.Config, *notify.Service, error) {
	a, cfg, err := startApp(ctx, fs, cfgPath, args, getenv, stderr, owner)
	if err != nil {
		return nil, cfg, nil, err
	}
	n, err := app.NewNotifier(cfg, a, a.Agent.Log)
	if err != nil {
		a.Close()
		return nil, cfg, nil, err
	}
	return a, cfg, n, nil
}

// cmdWebhook registers obmin's webhook URL with Checkbox.
//
//	obmin webhook [-config F] register [-url U] [-key-file F]
//
// Checkbox keeps one webhook per cash register, set with that register's licence key
// (OBMIN_CHECKBOX_LICENSE_KEY or checkbox.license_key_file). The secret key Checkbox answers is written to
// -key-file (default http.webhook_key_file; appended, one per line, so several registers can share the
// file) and never printed unless no file is configured.
func cmdWebhook(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := newFlags("webhook", stderr)
	cfgPath := configFlag(fs, getenv)
	if err := fs.Parse(args); err != nil {
		return usageError{err.Error()}
	}
	if fs.NArg() == 0 || fs.Arg(0) != "register" {
		return usageError{"usage: obmin webhook [-config F] register [-url https://obmin.example/checkbox/webhook] [-key-file F]"}
	}
	sub := newFlags("webhook register", stderr)
	hookURL := sub.String("url", "", "the URL Checkbox posts to (default http.public_url + "+httpapi.WebhookPath+")")
	keyFile := sub.String("key-file", "", "where the secret key is saved (default http.webhook_key_file)")
	if err := sub.Parse(fs.Args()[1:]); err != nil {
		return usageError{err.Error()}
	}
	cfg, err := app.LoadConfig(*cfgPath, getenv)
	if err != nil {
		return err
	}
	if cfg.Checkbox.Emulator {
		return errors.New("webhook: checkbox.emulator is true; register a webhook against a real Checkbox account")
	}
	if cfg.Checkbox.LicenseKey == "" {
		return errors.New("webhook: the cash register's licence key is required: set OBMIN_CHECKBOX_LICENSE_KEY or checkbox.license_key_file")
	}
	u := *hookURL
	if u == "" {
		if cfg.HTTP.PublicURL == "" {
			return usageError{"webhook: give -url or set http.public_url"}
		}
		u = strings.TrimRight(cfg.HTTP.PublicURL, "/") + httpapi.WebhookPath
	}
	if !strings.HasPrefix(u, "https://") {
		fmt.Fprintln(stderr, "warning: the webhook URL is not https://; receipts would cross the internet unencrypted")
	}
	out := *keyFile
	if out == "" {
		out = cfg.HTTP.WebhookKeyFile
	} else if !filepath.IsAbs(out) {
		out = filepath.Join(cfg.Dir, out)
	}
	cb, err := checkbox.New(checkbox.Config{
		BaseURL: cfg.Checkbox.BaseURL, Login: cfg.Checkbox.Login, Password: cfg.Checkbox.Password,
		PINCode: cfg.Checkbox.PINCode, LicenseKey: cfg.Checkbox.LicenseKey, ClientVersion: Version,
	})
	if err != nil {
		return fmt.Errorf("webhook: %w", err)
	}
	hook, err := cb.SetWebhook(ctx, u)
	if err != nil {
		return fmt.Errorf("webhook: %w", err)
	}
	key := hook.Key
	if out == "" {
		fmt.Fprintf(stdout, "webhook set: %s\nsecret key (Checkbox shows it only now; give it to obmin as OBMIN_HTTP_WEBHOOK_KEY):\n%s\n", u, key)
		return nil
	}
	old, err := os.ReadFile(out)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("webhook: %w", err)
	}
	if len(old) > 0 && !strings.HasSuffix(string(old), "\n") {
		old = append(old, '\n')
	}
	if err := atomicfile.WriteFile(out, 0o600, func(w io.Writer) error {
		_, err := fmt.Fprintf(w, "%s%s\n", old, key)
		return err
	}); err != nil {
		return fmt.Errorf("webhook: save the key: %w", err)
	}
	fmt.Fprintf(stdout, "webhook set: %s\nits secret key was added to %s; restart obmin to use it\n", u, out)
	return nil
}

// cmdBASEmulator runs the BAS OData emulator as a process of its own, for the torture harness and for
// trying obmin against a BAS that can be made to fail. It listens on loopback only, prints its service
// root on stdout and stops on SIGTERM or Ctrl+C. The OData user's password comes from
// OBMIN_BAS_EMULATOR_PASSWORD (default "odata"); with OBMIN_BAS_EMULATOR_ADMIN_TOKEN set, /_emulator/
// answers control calls (basodata/emulator AdminClient, docs/torture.md).
func cmdBASEmulator(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := newFlags("bas-emulator", stderr)
	listen := fs.String("listen", "127.0.0.1:0", "loopback address to listen on")
	user := fs.String("user", "odata.user", "the OData user")
	seedDemo := fs.Bool("demo", false, "seed the demo catalogue's goods and stock (internal/demo)")
	ownKeys := fs.Bool("assign-own-keys", false, "ignore a Ref_Key sent with a POST, as a base may")
	negative := fs.Bool("control-negative-stock", false, "refuse a posting that takes stock below zero")
	if err := fs.Parse(args); err != nil {
		return usageError{err.Error()}
	}
	emu := basemu.New(basemu.Config{User: *user, Password: envOr(getenv, "OBMIN_BAS_EMULATOR_PASSWORD", "odata"),
		AssignOwnKeys: *ownKeys, ControlNegativeStock: *negative})
	if *seedDemo {
		at := time.Now()
		if _, err := emu.SeedExport(demo.Catalog(demo.Books, at), demo.Offers(demo.Books, at)); err != nil {
			return fmt.Errorf("bas-emulator: seed the demo catalogue: %w", err)
		}
	}
	emu.SetAdminToken(getenv("OBMIN_BAS_EMULATOR_ADMIN_TOKEN"))
	root, err := emu.Serve(ctx, *listen) // loopback only, as the Checkbox emulator
	if err != nil {
		return usageError{err.Error()}
	}
	defer emu.Close()
	fmt.Fprintln(stdout, root)
	<-ctx.Done()
	return nil
}

func cmdReconcile(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := newFlags("reconcile", stderr)
	cfgPath := configFlag(fs, getenv)
	date := fs.String("date", "", "the Kyiv day whose receipts are compared, 2006-01-02 (default: yesterday)")
	repair := fs.Bool("repair", false, "fix what obmin can (goods sent again, receipts offered again), then compare again")
	asJSON := fs.Bool("json", false, "print the report as JSON instead of text")
	if err := fs.Parse(args); err != nil {
		return usageError{err.Error()}
	}
	cfg, err := app.LoadConfig(*cfgPath, getenv)
	if err != nil {
		return err
	}
	opts := reconcile.Options{Date: *date, Repair: *repair}
	var rep *reconcile.Report
	// Another obmin running with this configuration owns goods and the orders file: compare beside it,
	// read-only (its own notifications pick the report up); repair belongs to it (its staff page).
	release, err := app.LockState(cfg, "obmin reconcile")
	var locked app.LockedError
	switch {
	case errors.As(err, &locked) && *repair:
		return fmt.Errorf("%w\nrepair changes goods and the orders file, which the running obmin owns: stop it, or repair from its staff page", err)
	case errors.As(err, &locked) && !cfg.Checkbox.Emulator:
		if rep, err = app.ReconcileBeside(ctx, cfg, stderr, opts); err != nil {
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
		rep, err = a.Agent.Reconcile(ctx, opts)
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

// cmdStatus prints what status.txt shows, read from the spool and the state as they are: it needs no
// Checkbox credentials (it talks to nobody), creates no folder and no file, opens no log and takes no
// lock, so it runs beside a running obmin and against a configuration that has never run.
func cmdStatus(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fl := newFlags("status", stderr)
	cfgPath := configFlag(fl, getenv)
	asJSON := fl.Bool("json", false, "print JSON (snake_case keys, nested objects)")
	if err := fl.Parse(args); err != nil {
		return usageError{err.Error()}
	}
	if _, err := os.Stat(*cfgPath); err != nil {
		return fmt.Errorf("config file %s: %w (copy configs/example.yaml and edit it, or try `obmin demo`)", *cfgPath, err)
	}
	cfg, err := config.LoadWithoutCredentials(*cfgPath, getenv)
	if err != nil {
		return err
	}
	st, note, err := app.ReadStatus(ctx, cfg)
	if err != nil {
		return err
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(st)
	}
	if note != "" {
		fmt.Fprintf(stdout, "%s\r\n\r\n", note)
	}
	st.Text(stdout)
	return nil
}

// cmdDemo is `obmin demo`: app.Demo with its flags.
func cmdDemo(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := newFlags("demo", stderr)
	dir := fs.String("dir", filepath.Join("var", "demo"), "folder for the demo's spool, state and BAS folders (cleared first)")
	sales := fs.Int("sales", 12, "how many receipts to generate in the emulator")
	verbose := fs.Bool("v", false, "show obmin's log")
	if err := fs.Parse(args); err != nil {
		return usageError{err.Error()}
	}
	opt := app.DemoOptions{Dir: *dir, Sales: *sales}
	if *verbose {
		opt.Log = stderr
	}
	return app.Demo(ctx, opt, stdout)
}

// differencesLeft is reconcile's answer when BAS and Checkbox disagree: exit 3, which a scheduler can tell
// from a reconciliation that could not be made (1).
type differencesLeft struct{ n int }

func (e differencesLeft) Error() string {
	return fmt.Sprintf("reconciliation: %d differences left between BAS and Checkbox", e.n)
}

func (e differencesLeft) ExitCode() int { return 3 }
