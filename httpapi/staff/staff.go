// Package staff is obmin's page for the shop's staff, served under /staff/ behind the same sign-in as
// /status (httpapi): what is waiting, what failed and why, what is held and what to do, the last pulls and
// deliveries, the last reconciliation with its differences, the next scheduled runs, whether Checkbox and
// BAS answer; and the few things staff do — put a failed drop back, release or drop a held receipt, run
// reconciliation again. Every action is confirmed on a page of its own and posted with a CSRF token, and is
// recorded (log and job history) with who asked.
//
// Ukrainian by default, English with ?lang=en (kept in a cookie). Server-rendered html/template, assets
// embedded; no script is needed.
//
// It imports exchange, store, reconcile, notify, checkbox and internal/voice for what it shows; only
// internal/app imports it.
package staff

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"sync"
	"time"

	"github.com/sirupsen/logrus"

	"obmin/exchange"
	"obmin/internal/voice"
	"obmin/notify"
	"obmin/reconcile"
	"obmin/store"
)

// Prefix is where the page lives.
const Prefix = "/staff/"

// HeldReport is a report held back from BAS or refused by it (BAS's retail sales report of a shift, when
// a good of it is unknown to BAS, or BAS would not post it): what the page lists under held reports.
type HeldReport struct {
	ID      string // what «try again now» names (a shift's id); "" offers no such action
	Title   string // e.g. «зміна №17 каси 4000123456 (12.03.2026 09:00 – 12.03.2026 21:00)»
	Reason  string // why it waits
	Advice  string // what to do
	Refused bool   // BAS refused it (else obmin holds it back)
	Since   time.Time
}

// Config is what the page shows beyond the agent.
type Config struct {
	// Links are the outside systems whose reachability is shown, by name ("Checkbox", "BAS").
	Links []Link
	// HeldReports lists reports held back from BAS; nil when that channel is off.
	HeldReports func(ctx context.Context) ([]HeldReport, error)
	// RetryReport tries a held report again now (exchange.Agent.RetryShift): still is the reason when it
	// stays held; nil offers no such action.
	RetryReport func(ctx context.Context, id string) (still string, err error)
	Log         *logrus.Entry
	Now         func() time.Time
}

// Link is one outside system and what obmin's calls to it have shown.
type Link struct {
	Name string
	Link *notify.Link
}

// Page is the staff page's handler. Create it with New; Close it when the server stops.
type Page struct {
	agent Agent
	cfg   Config
	log   *logrus.Entry
	key   []byte // signs CSRF tokens; random per process
	mux   *http.ServeMux

	mu      sync.Mutex
	flashes map[string]flash // messages shown once after an action, by id
	running string           // the day a reconciliation started from the page is running for

	bg     context.Context
	stop   context.CancelFunc
	wg     sync.WaitGroup
	static fs.FS
}

type flash struct {
	Text string
	OK   bool
	at   time.Time
}

//go:embed templates/*.html assets/*
var files embed.FS

// New returns the page over agent.
func New(agent Agent, cfg Config) *Page {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	log := cfg.Log
	if log == nil {
		log = agent.Logger()
	}
	key := make([]byte, 32)
	_, _ = rand.Read(key) // never fails (crypto/rand)
	p := &Page{agent: agent, cfg: cfg, log: log.WithField("part", "staff"), key: key, mux: http.NewServeMux(), flashes: map[string]flash{}}
	p.bg, p.stop = context.WithCancel(context.Background())
	p.static, _ = fs.Sub(files, "assets")
	p.mux.HandleFunc("GET "+Prefix+"{$}", p.page)
	p.mux.HandleFunc("GET "+Prefix+"confirm", p.confirm)
	p.mux.HandleFunc("POST "+Prefix+"do", p.do)
	p.mux.HandleFunc("GET "+Prefix+"report/{date}", p.report)
	p.mux.Handle("GET "+Prefix+"assets/", http.StripPrefix(Prefix+"assets/", http.FileServerFS(p.static)))
	return p
}

// ServeHTTP serves the page; every answer is private and never cached.
func (p *Page) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Frame-Options", "DENY")
	w.Header().Set("Content-Security-Policy", "default-src 'self'; style-src 'self'; img-src 'self'; frame-ancestors 'none'; form-action 'self'")
	w.Header().Set("Referrer-Policy", "same-origin")
	p.mux.ServeHTTP(w, r)
}

// Close waits for a reconciliation the page started.
func (p *Page) Close() {
	p.stop()
	p.wg.Wait()
}

// lang is the page's language: ?lang= (then kept in a cookie), the cookie, else Ukrainian.
func (p *Page) lang(w http.ResponseWriter, r *http.Request) string {
	if l := r.URL.Query().Get("lang"); l == "uk" || l == "en" {
		http.SetCookie(w, &http.Cookie{Name: "obmin_lang", Value: l, Path: Prefix, MaxAge: 365 * 24 * 3600, SameSite: http.SameSiteLaxMode, HttpOnly: true})
		return l
	}
	if c, err := r.Cookie("obmin_lang"); err == nil && (c.Value == "uk" || c.Value == "en") {
		return c.Value
	}
	return "uk"
}

// csrf returns the token forms carry: an HMAC of the browser's CSRF cookie, set here when missing. The
// cookie is SameSite=Strict, so another site's form cannot send it along with the sign-in the browser
// keeps.
func (p *Page) csrf(w http.ResponseWriter, r *http.Request) string {
	c, err := r.Cookie("obmin_csrf")
	if err != nil || len(c.Value) != 32 {
		b := make([]byte, 16)
		_, _ = rand.Read(b)
		c = &http.Cookie{Name: "obmin_csrf", Value: hex.EncodeToString(b), Path: Prefix, SameSite: http.SameSiteStrictMode, HttpOnly: true, Secure: r.TLS != nil}
		http.SetCookie(w, c)
	}
	return p.sign(c.Value)
}

func (p *Page) sign(v string) string {
	m := hmac.New(sha256.New, p.key)
	m.Write([]byte(v))
	return hex.EncodeToString(m.Sum(nil))
}

// checkCSRF accepts a post whose token signs its CSRF cookie and which, if it says where it comes from,
// comes from this host.
func (p *Page) checkCSRF(r *http.Request) bool {
	if o := r.Header.Get("Origin"); o != "" && o != "null" {
		u, err := url.Parse(o)
		if err != nil || u.Host != r.Host {
			return false
		}
	}
	c, err := r.Cookie("obmin_csrf")
	if err != nil {
		return false
	}
	return subtle.ConstantTimeCompare([]byte(r.PostFormValue("csrf")), []byte(p.sign(c.Value))) == 1
}

// who names the person behind a request for the record: the sign-in's user, or "token".
func who(r *http.Request) string {
	if u, _, ok := r.BasicAuth(); ok {
		return u
	}
	return "token"
}

// Actions staff can take.
const (
	actReplay     = "replay"
	actRelease    = "release"
	actDrop       = "drop"
	actReconcile  = "reconcile"
	actRepair     = "repair"
	actRetry      = "retry"
	maxFlashes    = 64
	flashLifetime = 10 * time.Minute
)

// idRE bounds what an action may name: drop ids, receipt ids, days.
var idRE = regexp.MustCompile(`^[0-9A-Za-z._-]{1,100}$`)

// confirm shows what an action will do and asks to confirm it.
func (p *Page) confirm(w http.ResponseWriter, r *http.Request) {
	lang := p.lang(w, r)
	act, id := r.URL.Query().Get("do"), r.URL.Query().Get("id")
	if !validAction(act) || !idRE.MatchString(id) {
		http.Error(w, "unknown action", http.StatusBadRequest)
		return
	}
	v := confirmView{base: p.base(lang), Action: act, ID: id, CSRF: p.csrf(w, r)}
	v.Question, v.Effect = fmt.Sprintf(tr(lang, "confirm."+act), id), tr(lang, "effect."+act)
	p.render(w, "confirm.html", v)
}

func validAction(a string) bool {
	switch a {
	case actReplay, actRelease, actDrop, actReconcile, actRepair, actRetry:
		return true
	}
	return false
}

// do carries out a confirmed action, records it, and goes back to the page with its outcome.
func (p *Page) do(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 4<<10)
	if err := r.ParseForm(); err != nil || !p.checkCSRF(r) {
		http.Error(w, "the form is out of date: open the page again", http.StatusForbidden)
		return
	}
	lang := p.lang(w, r)
	act, id := r.PostFormValue("do"), r.PostFormValue("id")
	if !validAction(act) || !idRE.MatchString(id) {
		http.Error(w, "unknown action", http.StatusBadRequest)
		return
	}
	ctx := r.Context()
	rec := exchange.StaffAction{Who: who(r), What: act, Target: id}
	var err error
	var msg string
	switch act {
	case actReplay:
		if err = p.agent.Replay(ctx, id); err == nil {
			msg = fmt.Sprintf(tr(lang, "done.replay"), id)
		}
	case actRelease:
		var still string
		if still, err = p.agent.ReleaseHeld(ctx, id); err == nil {
			msg = fmt.Sprintf(tr(lang, "done.release"), id)
			if still != "" {
				msg = fmt.Sprintf(tr(lang, "done.still"), id, still)
			}
		}
	case actDrop:
		if err = p.agent.DropHeld(ctx, id, rec.Who); err == nil {
			msg = fmt.Sprintf(tr(lang, "done.drop"), id)
		}
	case actRetry:
		if p.cfg.RetryReport == nil {
			err = errors.New("the retail sales reports are off")
			break
		}
		var still string
		if still, err = p.cfg.RetryReport(ctx, id); err == nil {
			msg = fmt.Sprintf(tr(lang, "done.retry"), id)
			if still != "" {
				msg = fmt.Sprintf(tr(lang, "done.retrystill"), still)
			}
		}
	case actReconcile, actRepair:
		if _, _, derr := voice.Day(id); derr != nil {
			err = derr
			break
		}
		msg, err = p.startReconcile(id, act == actRepair, rec.Who), nil
		msg = fmt.Sprintf(tr(lang, msg), id)
	}
	if err != nil {
		msg = tr(lang, "done.failed") + " " + voice.Explain(err.Error())
		if errors.Is(err, exchange.ErrNotHeld) {
			msg = tr(lang, "done.notheld")
		}
		if errors.Is(err, exchange.ErrShiftNotHeld) {
			msg = tr(lang, "done.reportnotheld")
		}
	}
	rec.Result = msg
	p.agent.RecordStaffAction(ctx, rec, err)
	http.Redirect(w, r, Prefix+"?note="+p.flash(msg, err == nil), http.StatusSeeOther)
}

// startReconcile runs a reconciliation of day in the background (one at a time): it may read a large
// catalogue. It returns the key of the message to show.
func (p *Page) startReconcile(day string, repair bool, by string) string {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.running != "" {
		return "done.busy"
	}
	p.running = day
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		defer func() { p.mu.Lock(); p.running = ""; p.mu.Unlock() }()
		if _, err := p.agent.Reconcile(p.bg, reconcile.Options{Date: day, Repair: repair}); err != nil && p.bg.Err() == nil {
			p.log.WithError(err).WithField("by", by).Warn("reconciliation started from the staff page failed")
		}
	}()
	return "done.reconcile"
}

// flash keeps a message to show once and returns its key.
func (p *Page) flash(text string, ok bool) string {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.cfg.Now()
	for k, f := range p.flashes {
		if now.Sub(f.at) > flashLifetime || len(p.flashes) > maxFlashes {
			delete(p.flashes, k)
		}
	}
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	k := hex.EncodeToString(b)
	p.flashes[k] = flash{Text: text, OK: ok, at: now}
	return k
}

func (p *Page) takeFlash(k string) (flash, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	f, ok := p.flashes[k]
	delete(p.flashes, k)
	return f, ok
}

// report serves a reconciliation's HTML report.
func (p *Page) report(w http.ResponseWriter, r *http.Request) {
	day := r.PathValue("date")
	if _, _, err := voice.Day(day); err != nil {
		http.NotFound(w, r)
		return
	}
	b, err := os.ReadFile(filepath.Join(p.agent.ReconcileDir(), day, "report.html"))
	if err != nil {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	_, _ = w.Write(b)
}

var pages = template.Must(template.New("").Funcs(template.FuncMap{
	"time": voice.Time,
	"t":    func(lang, key string) string { return tr(lang, key) },
	"kind": reconcile.KindTitle,
	// receipts is how many receipts are in a state: a template's string is not a store.ReceiptState key.
	"receipts": func(counts map[store.ReceiptState]int, state string) int { return counts[store.ReceiptState(state)] },
}).ParseFS(files, "templates/*.html"))

func (p *Page) render(w http.ResponseWriter, name string, v any) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	if err := pages.ExecuteTemplate(w, name, v); err != nil {
		p.log.WithError(err).Warn("render the staff page")
	}
}
