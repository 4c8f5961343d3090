// Package httpapi is obmin's HTTP side: BAS's «Обмін з сайтом» exchange node talks to obmin as to a
// "site" (the 1C site-exchange protocol, docs/commerceml.md §6), Checkbox delivers receipts by webhook
// (docs/checkbox-rest.md §8), and staff and monitoring read /healthz, /status and /metrics (Prometheus).
//
// Every endpoint that changes state or shows it needs credentials: the exchange user (HTTP Basic on
// checkauth, then the session cookie), the webhook signature, the status token (/status, /metrics).
// /healthz changes nothing and is open.
//
// It imports exchange (the agent it serves), store, checkbox (the webhook's receipts), internal/atomicfile,
// internal/quietlog and internal/safezip; internal/app wires it, and the command line reads its paths.
package httpapi

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/sirupsen/logrus"

	"obmin/internal/quietlog"
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
	// MaxSessions bounds the exchange sessions open at once (there is one exchange user); a sign-in beyond
	// it ends the least recently used idle session.
	MaxSessions int

	// Before a webhook delivery's signature checks, nobody is signed in: its body is read only up to
	// WebhookMaxBody, within WebhookReadTimeout, and by at most MaxUnauthenticated requests at once.
	WebhookMaxBody     int64
	WebhookReadTimeout time.Duration
	MaxUnauthenticated int

	// TrustedProxies are the reverse proxies whose X-Forwarded-For (the client's address, for the sign-in
	// lockout) and X-Forwarded-Proto (the session cookie's Secure flag) obmin believes; from anyone else
	// these headers are ignored. BehindTLSProxy marks the session cookie Secure whatever the request says.
	TrustedProxies []netip.Prefix
	BehindTLSProxy bool
}

// Server serves obmin's HTTP endpoints. Create it with New; Close it after the http.Server stopped.
type Server struct {
	cfg   Config
	agent Agent
	log   *logrus.Entry
	mux   *http.ServeMux
	now   func() time.Time

	agentMetrics prometheus.Collector // the agent's state in cfg.Metrics; unregistered by Close

	guard    *authGuard    // sign-in lockouts, checked before any credential is compared
	refusals *refusalLog   // refused requests, logged without flooding the log
	unauth   chan struct{} // one slot per unauthenticated request whose body is being read

	mu       sync.Mutex
	sessions map[string]*session // by cookie value

	bg     context.Context // background work (drops being applied) runs under it
	stopBg context.CancelFunc
	wg     sync.WaitGroup
}

// New returns a server for agent. The upload folder is created; what a previous run left there is removed
// (sessions do not survive a restart: 1C signs in again on its next exchange).
func New(agent Agent, cfg Config, log *logrus.Entry) (*Server, error) {
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
	if cfg.MaxSessions <= 0 {
		cfg.MaxSessions = DefaultMaxSessions
	}
	if cfg.WebhookMaxBody <= 0 {
		cfg.WebhookMaxBody = DefaultWebhookMaxBody
	}
	if cfg.WebhookReadTimeout <= 0 {
		cfg.WebhookReadTimeout = DefaultWebhookReadTimeout
	}
	if cfg.MaxUnauthenticated <= 0 {
		cfg.MaxUnauthenticated = DefaultMaxUnauthenticated
	}
	if err := os.RemoveAll(cfg.UploadDir); err != nil {
		return nil, fmt.Errorf("httpapi: clear %s: %w", cfg.UploadDir, err)
	}
	if err := os.MkdirAll(cfg.UploadDir, 0o700); err != nil {
		return nil, fmt.Errorf("httpapi: %w", err)
	}
	log = quietlog.Or(log)
	if cfg.Metrics == nil {
		cfg.Metrics = NewMetrics()
	}
	agentMetrics := agentCollector{agent: agent, timeout: snapshotTimeout}
	if err := cfg.Metrics.reg.Register(agentMetrics); err != nil {
		return nil, fmt.Errorf("httpapi: metrics: %w (one Metrics serves one server)", err)
	}
	s := &Server{cfg: cfg, agent: agent, log: log, mux: http.NewServeMux(), now: time.Now, agentMetrics: agentMetrics,
		refusals: newRefusalLog(log.WithField("part", "http"), refusalPeriod), unauth: make(chan struct{}, cfg.MaxUnauthenticated),
		sessions: map[string]*session{}}
	s.guard = newAuthGuard(cfg.User, defaultLockPolicy, func() time.Time { return s.now() })
	s.bg, s.stopBg = context.WithCancel(context.Background())
	s.wg.Go(func() {
		t := time.NewTicker(refusalPeriod)
		defer t.Stop()
		for {
			select {
			case <-s.bg.Done():
				s.refusals.flush()
				return
			case <-t.C:
				s.refusals.flush()
			}
		}
	})
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

// Sign-in limits, the defaults of Config's fields.
const (
	DefaultMaxSessions = 4
	refusalPeriod      = time.Minute
)

// signIn evaluates the request's credentials (HTTP Basic; with token, also the status token as a bearer
// token), in constant time, but only when the guard admits it: otherwise nothing is compared and wait
// says how long the client must wait. A request without credentials is not a guess and is not counted.
func (s *Server) signIn(r *http.Request, kind string, token bool) (ok bool, wait time.Duration) {
	p := s.peer(r)
	u, pw, basic := r.BasicAuth()
	bearer, hasBearer := "", false
	if token && s.cfg.StatusToken != "" {
		bearer, hasBearer = strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	}
	if !basic && !hasBearer {
		return false, 0
	}
	user := ""
	if basic {
		user = u
	}
	if wait, why := s.guard.admit(p.key(), user); wait > 0 {
		s.refusals.note(kind, "too many failed sign-ins ("+why+" locked out)", p)
		return false, wait
	}
	if basic {
		uok := subtle.ConstantTimeCompare([]byte(u), []byte(s.cfg.User)) == 1
		pok := subtle.ConstantTimeCompare([]byte(pw), []byte(s.cfg.Password)) == 1
		ok = uok && pok
	}
	if !ok && hasBearer {
		ok = subtle.ConstantTimeCompare([]byte(bearer), []byte(s.cfg.StatusToken)) == 1
	}
	if ok {
		s.guard.succeeded(p.key())
		return true, 0
	}
	s.guard.failed(p.key(), user)
	s.refusals.note(kind, "wrong credentials", p)
	return false, 0
}

// retryAfter is a Retry-After value: whole seconds, at least 1.
func retryAfter(d time.Duration) string {
	return strconv.FormatInt(int64(max(time.Second, d+time.Second-1)/time.Second), 10)
}

// requireStatusAuth lets a request through with the status token (Authorization: Bearer) or the exchange
// user's Basic credentials.
func (s *Server) requireStatusAuth(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ok, wait := s.signIn(r, "status sign-in", true)
		switch {
		case wait > 0:
			w.Header().Set("Retry-After", retryAfter(wait))
			http.Error(w, "too many failed sign-ins; try later", http.StatusTooManyRequests)
		case !ok:
			w.Header().Set("WWW-Authenticate", `Basic realm="obmin", charset="UTF-8"`)
			http.Error(w, "credentials required", http.StatusUnauthorized)
		default:
			h.ServeHTTP(w, r)
		}
	})
}

func randomHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand does not fail on supported systems
	}
	return hex.EncodeToString(b)
}
