// Package httpapi is obmin's HTTP side: BAS's «Обмін з сайтом» exchange node talks to obmin as to a
// "site" (the 1C site-exchange protocol, commerceml.md §6), Checkbox delivers receipts by webhook
// (checkbox-api.md §8), and staff and monitoring read /healthz, /status and /metrics (Prometheus).
//
// Every endpoint that changes state or shows it needs credentials: the exchange user (HTTP Basic on
// checkauth, then the session cookie), the webhook signature, the status token (/status, /metrics).
// /healthz changes nothing and is open.
package httpapi

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"os"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/sirupsen/logrus"
	"golang.org/x/time/rate"

	"obmin/exchange"
	"obmin/internal/safezip"
)

// Config is what the server needs; cmd/obmin fills it from the http section of the configuration.
type Config struct {
	User, Password string   // BAS's exchange node signs in with these (HTTP Basic on checkauth)
	WebhookKeys    []string // Checkbox's webhook secret keys, one per cash register
	StatusToken    string   // bearer token for /status and /metrics; the exchange credentials work too
	Metrics        *Metrics // the registry /metrics serves (NewMetrics); nil: New makes one without Checkbox call metrics

	UploadDir  string         // the sessions' upload folders live here
	Zip        bool           // answer zip=yes to catalogue init
	FileLimit  int64          // file_limit answered to init: 1C's chunk size
	MaxBody    int64          // one request body
	MaxUpload  int64          // all files of one session
	ZipLimits  safezip.Limits // for uploaded archives
	ImportWait time.Duration  // how long one mode=import waits before answering progress
	SessionTTL time.Duration  // an unused session is forgotten after this
}

// Server serves obmin's HTTP endpoints. Create it with New; Close it after the http.Server stopped.
type Server struct {
	cfg   Config
	agent *exchange.Agent
	log   *logrus.Entry
	mux   *http.ServeMux
	now   func() time.Time

	agentMetrics prometheus.Collector // the agent's state in cfg.Metrics; unregistered by Close

	authFail *rate.Limiter // failed sign-ins: slows down password guessing

	mu       sync.Mutex
	sessions map[string]*session // by cookie value

	bg     context.Context // background work (drops being applied) runs under it
	stopBg context.CancelFunc
	wg     sync.WaitGroup
}

// New returns a server for agent. The upload folder is created; what a previous run left there is removed
// (sessions do not survive a restart: 1C signs in again on its next exchange).
func New(agent *exchange.Agent, cfg Config, log *logrus.Entry) (*Server, error) {
	if cfg.User == "" || cfg.Password == "" {
		return nil, errors.New("httpapi: the exchange user and password are required")
	}
	if cfg.UploadDir == "" {
		return nil, errors.New("httpapi: an upload folder is required")
	}
	if cfg.FileLimit <= 0 {
		cfg.FileLimit = 8 << 20
	}
	if cfg.MaxBody <= 0 {
		cfg.MaxBody = cfg.FileLimit + 1<<20
	}
	if cfg.MaxUpload <= 0 {
		cfg.MaxUpload = 1 << 30
	}
	if cfg.ImportWait <= 0 {
		cfg.ImportWait = 3 * time.Second
	}
	if cfg.SessionTTL <= 0 {
		cfg.SessionTTL = 2 * time.Hour
	}
	if err := os.RemoveAll(cfg.UploadDir); err != nil {
		return nil, fmt.Errorf("httpapi: clear %s: %w", cfg.UploadDir, err)
	}
	if err := os.MkdirAll(cfg.UploadDir, 0o700); err != nil {
		return nil, fmt.Errorf("httpapi: %w", err)
	}
	if log == nil {
		l := logrus.New()
		log = logrus.NewEntry(l)
	}
	if cfg.Metrics == nil {
		cfg.Metrics = NewMetrics()
	}
	agentMetrics := agentCollector{agent: agent, timeout: snapshotTimeout}
	if err := cfg.Metrics.reg.Register(agentMetrics); err != nil {
		return nil, fmt.Errorf("httpapi: metrics: %w (one Metrics serves one server)", err)
	}
	s := &Server{cfg: cfg, agent: agent, log: log, mux: http.NewServeMux(), now: time.Now, agentMetrics: agentMetrics,
		authFail: rate.NewLimiter(rate.Every(time.Second), 20), sessions: map[string]*session{}}
	s.bg, s.stopBg = context.WithCancel(context.Background())
	s.mux.HandleFunc("/1c/exchange", s.exchange)
	s.mux.HandleFunc("POST /checkbox/webhook", s.webhook)
	s.mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprintln(w, "ok")
	})
	s.mux.Handle("GET /status", s.requireStatusAuth(http.HandlerFunc(s.status)))
	s.mux.Handle("GET /status.json", s.requireStatusAuth(http.HandlerFunc(s.statusJSON)))
	s.mux.Handle("GET /metrics", s.requireStatusAuth(cfg.Metrics.handler(log)))
	return s, nil
}

// Handler is the server's root handler.
func (s *Server) Handler() http.Handler { return s.mux }

// Handle adds an endpoint (e.g. /metrics); with auth it needs the status token or the exchange credentials.
func (s *Server) Handle(pattern string, h http.Handler, auth bool) {
	if auth {
		h = s.requireStatusAuth(h)
	}
	s.mux.Handle(pattern, h)
}

// Close stops background work (a drop being applied is left for the agent to resume) and waits for it.
func (s *Server) Close() {
	s.stopBg()
	s.wg.Wait()
	s.cfg.Metrics.reg.Unregister(s.agentMetrics)
}

// checkBasic checks HTTP Basic credentials in constant time.
func (s *Server) checkBasic(r *http.Request) bool {
	u, p, ok := r.BasicAuth()
	if !ok {
		return false
	}
	uok := subtle.ConstantTimeCompare([]byte(u), []byte(s.cfg.User)) == 1
	pok := subtle.ConstantTimeCompare([]byte(p), []byte(s.cfg.Password)) == 1
	return uok && pok
}

// requireStatusAuth lets a request through with the status token (Authorization: Bearer) or the exchange
// user's Basic credentials.
func (s *Server) requireStatusAuth(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ok := s.checkBasic(r)
		if !ok && s.cfg.StatusToken != "" {
			const prefix = "Bearer "
			if a := r.Header.Get("Authorization"); len(a) > len(prefix) && a[:len(prefix)] == prefix {
				ok = subtle.ConstantTimeCompare([]byte(a[len(prefix):]), []byte(s.cfg.StatusToken)) == 1
			}
		}
		if !ok {
			if !s.authFail.Allow() {
				http.Error(w, "too many failed sign-ins; try later", http.StatusTooManyRequests)
				return
			}
			w.Header().Set("WWW-Authenticate", `Basic realm="obmin", charset="UTF-8"`)
			http.Error(w, "credentials required", http.StatusUnauthorized)
			return
		}
		h.ServeHTTP(w, r)
	})
}

func randomHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand does not fail on supported systems
	}
	return hex.EncodeToString(b)
}
