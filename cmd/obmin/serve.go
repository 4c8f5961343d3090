package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"obmin/internal/atomicfile"
	"os"
	"path/filepath"
	"strings"

	"github.com/sirupsen/logrus"

	"obmin/checkbox"
	"obmin/exchange"
	"obmin/httpapi"
	"obmin/httpapi/staff"
	"obmin/internal/config"
	"obmin/internal/safezip"
)

// httpServer builds obmin's one HTTP server: every phase has a timeout (bodies are bounded by the handlers).
func httpServer(h config.HTTP, handler http.Handler) *http.Server {
	return &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: h.ReadHeaderTimeout,
		ReadTimeout:       h.ReadTimeout,
		WriteTimeout:      h.WriteTimeout,
		IdleTimeout:       h.IdleTimeout,
		MaxHeaderBytes:    64 << 10,
		TLSConfig:         &tls.Config{MinVersion: tls.VersionTLS12},
	}
}

// startHTTP starts obmin's HTTP server when the config has one; the returned stop waits for it to end.
func startHTTP(ctx context.Context, cfg config.Config, a *app, log *logrus.Entry) (stop func(context.Context) error, err error) {
	noop := func(context.Context) error { return nil }
	if cfg.HTTP.Listen == "" {
		return noop, nil
	}
	h := cfg.HTTP.WithDefaults()
	proxies, err := httpapi.ParseProxies(h.TrustedProxies)
	if err != nil {
		return nil, fmt.Errorf("http.trusted_proxies: %w", err)
	}
	srv, err := httpapi.New(a.agent, httpapi.Config{
		User: h.User, Password: h.Password, WebhookKeys: h.WebhookKeys, StatusToken: h.StatusToken,
		UploadDir: h.UploadDir, Zip: *h.Zip, FileLimit: h.FileLimit, MaxBody: h.MaxBody, MaxUpload: h.MaxUpload,
		ZipLimits:  safezip.Limits{MaxFiles: h.ZipMaxFiles, MaxTotal: h.ZipMaxTotal, MaxFile: h.ZipMaxTotal},
		ImportWait: h.ImportWait, SessionTTL: h.SessionTTL, MaxSessions: h.MaxSessions,
		WebhookMaxBody: h.WebhookMaxBody, WebhookReadTimeout: h.WebhookReadTimeout, MaxUnauthenticated: h.MaxUnauthenticated,
		TrustedProxies: proxies, BehindTLSProxy: h.BehindTLSProxy,
		Metrics: a.metrics,
	}, log)
	if err != nil {
		return nil, err
	}
	sc := staff.Config{Links: []staff.Link{{Name: "Checkbox", Link: a.links.checkbox}, {Name: "BAS", Link: a.links.bas}}, Log: log}
	if a.agent.Retail != nil {
		sc.HeldReports, sc.RetryReport = heldReports(a.agent), a.agent.RetryShift
	}
	page := staff.New(a.agent, sc)
	srv.Handle(staff.Prefix, page, true)
	srv.Handle("GET /{$}", http.RedirectHandler(staff.Prefix, http.StatusSeeOther), false)
	ln, err := net.Listen("tcp", h.Listen)
	if err != nil {
		page.Close()
		srv.Close()
		return nil, fmt.Errorf("http.listen: %w", err)
	}
	hs := httpServer(h, srv.Handler())
	// Requests keep their own contexts: on shutdown, Shutdown lets the ones in flight finish.
	scheme := "http"
	if h.TLS() {
		scheme = "https"
	}
	log.WithFields(logrus.Fields{"address": scheme + "://" + ln.Addr().String(), "staff": staff.Prefix, "exchange": "/1c/exchange", "webhook": httpapi.WebhookPath,
		"webhook_keys": len(h.WebhookKeys)}).Info("HTTP server listening")
	if !h.TLS() {
		log.Warn("HTTP without TLS: keep it on a private network or behind a TLS proxy (docs/http.md)")
	}
	served := make(chan error, 1)
	go func() {
		var err error
		if h.TLS() {
			err = hs.ServeTLS(ln, h.TLSCertFile, h.TLSKeyFile)
		} else {
			err = hs.Serve(ln)
		}
		if errors.Is(err, http.ErrServerClosed) {
			err = nil
		}
		if err != nil {
			log.WithError(err).Error("HTTP server stopped")
		}
		served <- err
	}()
	return func(sctx context.Context) error {
		err := hs.Shutdown(sctx)
		page.Close()
		srv.Close()
		return errors.Join(err, <-served)
	}, nil
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
	cfg, err := loadConfig(*cfgPath, getenv)
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

// heldReports lists, for the staff page, the shifts whose retail sales reports are held or refused.
func heldReports(ag *exchange.Agent) func(context.Context) ([]staff.HeldReport, error) {
	return func(ctx context.Context) ([]staff.HeldReport, error) {
		held, err := ag.HeldShifts(ctx)
		out := make([]staff.HeldReport, 0, len(held))
		for _, h := range held {
			out = append(out, staff.HeldReport{ID: h.ShiftID, Title: h.Title, Reason: h.Reason, Advice: h.Advice, Refused: h.Refused, Since: h.Since})
		}
		return out, err
	}
}
