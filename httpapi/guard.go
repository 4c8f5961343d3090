package httpapi

import (
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/sirupsen/logrus"
	"golang.org/x/time/rate"
)

// Password guessing is stopped before any credential is compared: a sign-in (HTTP Basic on checkauth,
// /status or /metrics; the status token) is evaluated only when neither its client nor, for the exchange
// user, the user is locked out, and the server as a whole is under its rate of evaluations. Each failure
// counts against the client and against the exchange user; past a few free failures each further one
// locks them out for twice as long as the one before, up to a cap. Clients that signed in before are not
// held back by the user's lockout, so a guesser elsewhere cannot lock BAS out of its own exchange.

// lockPolicy is how quickly failures lock a client or the user out.
type lockPolicy struct {
	clientFree, userFree int           // failures allowed before the first lockout
	base, max            time.Duration // the first lockout; each further failure doubles it, up to max
	forget               time.Duration // failures are forgotten this long after the last one
	perSecond            float64       // evaluations per second, all clients together
	burst                int
	maxClients           int // clients remembered; beyond that the quietest are forgotten
	maxTrusted           int // clients remembered as having signed in
}

var defaultLockPolicy = lockPolicy{
	clientFree: 5, userFree: 20, base: time.Second, max: 5 * time.Minute, forget: time.Hour,
	perSecond: 20, burst: 40, maxClients: 4096, maxTrusted: 64,
}

type strikes struct {
	fails int
	last  time.Time // the last failure
	until time.Time // locked out until then
}

// fail counts one failure at now; past free failures it locks out for base·2^(n-1), at most max.
func (s *strikes) fail(now time.Time, free int, p lockPolicy) {
	if now.Sub(s.last) > p.forget {
		s.fails = 0
	}
	s.fails++
	s.last = now
	if n := s.fails - free; n > 0 {
		d := p.base
		for i := 1; i < n && d < p.max; i++ {
			d *= 2
		}
		s.until = now.Add(min(d, p.max))
	}
}

// authGuard keeps the failures; every method is safe for concurrent use.
type authGuard struct {
	mu      sync.Mutex
	now     func() time.Time
	p       lockPolicy
	global  *rate.Limiter
	user    string              // the exchange user: the one name whose failures also count per user
	clients map[string]*strikes // by client key (clientKey)
	users   strikes
	trusted map[string]time.Time // clients that signed in, by client key: when they last did
}

func newAuthGuard(user string, p lockPolicy, now func() time.Time) *authGuard {
	return &authGuard{now: now, p: p, user: user, global: rate.NewLimiter(rate.Limit(p.perSecond), p.burst),
		clients: map[string]*strikes{}, trusted: map[string]time.Time{}}
}

// admit says whether a sign-in from client (as user, "" for a token) may be evaluated now. When it may
// not, it says for how long and why ("client", "user" or "server"), and nothing is compared.
func (g *authGuard) admit(client, user string) (time.Duration, string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	now := g.now()
	if s := g.clients[client]; s != nil && now.Before(s.until) {
		return s.until.Sub(now), "client"
	}
	if _, known := g.trusted[client]; user == g.user && !known && now.Before(g.users.until) {
		return g.users.until.Sub(now), "user"
	}
	if !g.global.AllowN(now, 1) {
		return time.Second, "server"
	}
	return 0, ""
}

// failed records a refused sign-in.
func (g *authGuard) failed(client, user string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	now := g.now()
	s := g.clients[client]
	if s == nil {
		g.makeRoom(now)
		s = &strikes{}
		g.clients[client] = s
	}
	s.fail(now, g.p.clientFree, g.p)
	if user == g.user {
		g.users.fail(now, g.p.userFree, g.p)
	}
}

// succeeded forgets the client's failures and remembers it as one that knows the password. The user's
// failures stay: they count guesses from everywhere.
func (g *authGuard) succeeded(client string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	delete(g.clients, client)
	if _, ok := g.trusted[client]; !ok && len(g.trusted) >= g.p.maxTrusted {
		oldest := ""
		for c, t := range g.trusted {
			if oldest == "" || t.Before(g.trusted[oldest]) {
				oldest = c
			}
		}
		delete(g.trusted, oldest)
	}
	g.trusted[client] = g.now()
}

// makeRoom keeps the client table bounded: forgotten failures go first, then the quietest clients.
func (g *authGuard) makeRoom(now time.Time) {
	if len(g.clients) < g.p.maxClients {
		return
	}
	for c, s := range g.clients {
		if now.Sub(s.last) > g.p.forget && !now.Before(s.until) {
			delete(g.clients, c)
		}
	}
	if len(g.clients) < g.p.maxClients {
		return
	}
	type entry struct {
		c string
		t time.Time
	}
	all := make([]entry, 0, len(g.clients))
	for c, s := range g.clients {
		all = append(all, entry{c, s.until})
	}
	sort.Slice(all, func(i, j int) bool { return all[i].t.Before(all[j].t) })
	for _, e := range all[:len(all)/4+1] {
		delete(g.clients, e.c)
	}
}

// clientKey is what a client is counted by: its IPv4 address, or the /64 of an IPv6 one (one machine
// holds a whole /64).
func clientKey(addr netip.Addr) string {
	addr = addr.Unmap()
	if addr.Is6() {
		p, _ := addr.Prefix(64)
		return p.String()
	}
	return addr.String()
}

// peer is who sent a request: the client's address and whether it reached obmin over TLS. Behind one of
// the configured proxies (TrustedProxies), the address is the nearest untrusted one in X-Forwarded-For
// and TLS is what X-Forwarded-Proto says; from anyone else those headers are ignored.
type peer struct {
	addr  netip.Addr
	https bool
}

func (p peer) key() string {
	if !p.addr.IsValid() {
		return "unknown"
	}
	return clientKey(p.addr)
}

func (p peer) String() string {
	if !p.addr.IsValid() {
		return "unknown"
	}
	return p.addr.Unmap().String()
}

func (s *Server) peer(r *http.Request) peer {
	p := peer{https: r.TLS != nil}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	p.addr, _ = netip.ParseAddr(host)
	if !s.trustedProxy(p.addr) {
		return p
	}
	if proto := r.Header.Get("X-Forwarded-Proto"); proto != "" {
		last := proto[strings.LastIndexByte(proto, ',')+1:]
		p.https = strings.EqualFold(strings.TrimSpace(last), "https")
	}
	// Right to left: each trusted proxy appended the address it got the request from.
	var hops []string
	for _, h := range r.Header.Values("X-Forwarded-For") {
		hops = append(hops, strings.Split(h, ",")...)
	}
	for i := len(hops) - 1; i >= 0; i-- {
		a, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
		if err != nil {
			break
		}
		p.addr = a
		if !s.trustedProxy(a) {
			break
		}
	}
	return p
}

func (s *Server) trustedProxy(a netip.Addr) bool {
	if !a.IsValid() {
		return false
	}
	a = a.Unmap()
	for _, p := range s.cfg.TrustedProxies {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// ParseProxies reads http.trusted_proxies: addresses or CIDR prefixes.
func ParseProxies(list []string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, s := range list {
		s = strings.TrimSpace(s)
		if p, err := netip.ParsePrefix(s); err == nil {
			out = append(out, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(s)
		if err != nil {
			return nil, fmt.Errorf("%q: want an IP address or a CIDR prefix such as 10.0.0.0/8", s)
		}
		a = a.Unmap()
		out = append(out, netip.PrefixFrom(a, a.BitLen()))
	}
	return out, nil
}

// refusalLog logs refused requests without letting a flood fill the log: the first refusal of a kind in
// a period is logged at once, with the client; the others of that period are counted and summarised in
// one line when it ends.
type refusalLog struct {
	log    *logrus.Entry
	period time.Duration

	mu     sync.Mutex
	counts map[string]*refusals // by kind
}

type refusals struct {
	n      int // after the first
	last   string
	others map[string]bool // distinct clients, at most a few named
}

func newRefusalLog(log *logrus.Entry, period time.Duration) *refusalLog {
	return &refusalLog{log: log, period: period, counts: map[string]*refusals{}}
}

// note records one refused request of a kind (e.g. "1C sign-in") for a reason.
func (l *refusalLog) note(kind, reason string, client peer) {
	key := kind + ": " + reason
	l.mu.Lock()
	c := l.counts[key]
	if c == nil {
		l.counts[key] = &refusals{others: map[string]bool{}}
		l.mu.Unlock()
		l.log.WithFields(logrus.Fields{"remote": client.String(), "refused": kind}).Warn("request refused: " + reason)
		return
	}
	c.n++
	c.last = client.String()
	if len(c.others) < 5 {
		c.others[c.last] = true
	}
	l.mu.Unlock()
}

// flush ends the period: one line per kind refused more than once in it.
func (l *refusalLog) flush() {
	l.mu.Lock()
	counts := l.counts
	l.counts = map[string]*refusals{}
	l.mu.Unlock()
	keys := make([]string, 0, len(counts))
	for k := range counts {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		c := counts[k]
		if c.n == 0 {
			continue
		}
		clients := make([]string, 0, len(c.others))
		for a := range c.others {
			clients = append(clients, a)
		}
		sort.Strings(clients)
		l.log.WithFields(logrus.Fields{"count": c.n, "period": l.period.String(), "clients": strings.Join(clients, " ")}).
			Warn(fmt.Sprintf("%d more requests refused (%s)", c.n, k))
	}
}
