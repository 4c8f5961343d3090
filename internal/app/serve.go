package app

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"

	"github.com/sirupsen/logrus"

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

// StartHTTP starts obmin's HTTP server when the config has one; the returned stop waits for it to end.
func StartHTTP(ctx context.Context, cfg config.Config, a *App, log *logrus.Entry) (stop func(context.Context) error, err error) {
	noop := func(context.Context) error { return nil }
	if cfg.HTTP.Listen == "" {
		return noop, nil
	}
	h := cfg.HTTP.WithDefaults()
	proxies, err := httpapi.ParseProxies(h.TrustedProxies)
	if err != nil {
		return nil, fmt.Errorf("http.trusted_proxies: %w", err)
	}
	srv, err := httpapi.New(a.Agent, httpapi.Config{
		User: h.User, Password: h.Password, WebhookKeys: h.WebhookKeys, StatusToken: h.StatusToken,
		UploadDir: h.UploadDir, Zip: *h.Zip, FileLimit: h.FileLimit, MaxBody: h.MaxBody, MaxUpload: h.MaxUpload,
		ZipLimits:  safezip.Limits{MaxFiles: h.ZipMaxFiles, MaxTotal: h.ZipMaxTotal, MaxFile: h.ZipMaxTotal},
		ImportWait: h.ImportWait, SessionTTL: h.SessionTTL, MaxSessions: h.MaxSessions,
		WebhookMaxBody: h.WebhookMaxBody, WebhookReadTimeout: h.WebhookReadTimeout, MaxUnauthenticated: h.MaxUnauthenticated,
		TrustedProxies: proxies, BehindTLSProxy: h.BehindTLSProxy,
		Metrics: a.Metrics,
	}, log)
	if err != nil {
		return nil, err
	}
	sc := staff.Config{Links: []staff.Link{{Name: "Checkbox", Link: a.links.checkbox}, {Name: "BAS", Link: a.links.bas}}, Log: log}
	if a.Agent.Retail != nil {
		sc.HeldReports, sc.RetryReport = heldReports(a.Agent), a.Agent.RetryShift
	}
	page := staff.New(a.Agent, sc)
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
