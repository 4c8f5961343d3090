package httpapi

import (
	"bytes"
	"go/ast"
	"go/parser"
	"go/token"
	"net/http"
	"net/netip"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sirupsen/logrus"
)

type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time           { return c.t }
func (c *fakeClock) add(d time.Duration)      { c.t = c.t.Add(d) }
func newFakeClock() *fakeClock                { return &fakeClock{t: time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)} }
func admitted(g *authGuard, c, u string) bool { w, _ := g.admit(c, u); return w == 0 }

// Lockouts: free failures, then each failure doubles the lockout up to the cap; the lockout ends on time;
// a success clears the client; failures are forgotten after a quiet hour.
func TestAuthGuardClientBackoff(t *testing.T) {
	clk := newFakeClock()
	p := defaultLockPolicy
	p.perSecond, p.burst = 1e6, 1e6
	g := newAuthGuard("bas", p, clk.now)
	for i := range p.clientFree {
		if !admitted(g, "a", "x") {
			t.Fatalf("failure %d: locked out too early", i)
		}
		g.failed("a", "x")
	}
	var waits []time.Duration
	for range 12 {
		if !admitted(g, "a", "x") {
			t.Fatal("refused although the last lockout ended")
		}
		g.failed("a", "x")
		w, why := g.admit("a", "x")
		if why != "client" {
			t.Fatalf("refused for %q, want client", why)
		}
		waits = append(waits, w)
		clk.add(w)
	}
	want := []time.Duration{1, 2, 4, 8, 16, 32, 64, 128, 256, 300, 300, 300}
	for i := range want {
		if waits[i] != want[i]*time.Second {
			t.Fatalf("lockouts %v, want %v seconds", waits, want)
		}
	}
	if !admitted(g, "b", "x") {
		t.Error("another client was held back")
	}
	g.succeeded("a")
	if !admitted(g, "a", "x") {
		t.Error("a client that signed in is still locked out")
	}
	for range p.clientFree + 1 {
		g.failed("c", "x")
	}
	clk.add(2 * p.forget)
	g.failed("c", "x")
	if !admitted(g, "c", "x") {
		t.Error("failures an hour old still counted")
	}
}

// The exchange user's failures count from every client; a client that signed in before is not held
// back by the user's lockout, a new one is; other user names do not count per user.
func TestAuthGuardUserLockout(t *testing.T) {
	clk := newFakeClock()
	p := defaultLockPolicy
	p.perSecond, p.burst = 1e6, 1e6
	g := newAuthGuard("bas", p, clk.now)
	g.succeeded("bas-server")
	for i := range p.userFree + 1 {
		g.failed(netip.AddrFrom4([4]byte{192, 0, 2, byte(i)}).String(), "bas")
	}
	if w, why := g.admit("198.51.100.9", "bas"); w == 0 || why != "user" {
		t.Errorf("a new client for the locked user: wait %v (%s), want refused for the user", w, why)
	}
	if !admitted(g, "bas-server", "bas") {
		t.Error("the client that signed in before is locked out by others' guesses")
	}
	if !admitted(g, "198.51.100.9", "someone-else") {
		t.Error("another user name is held back by the exchange user's lockout")
	}
	for i := range 100 {
		g.failed(netip.AddrFrom4([4]byte{203, 0, 113, byte(i)}).String(), "nobody")
	}
	if g.users.fails != p.userFree+1 {
		t.Errorf("user failures %d: unknown names counted", g.users.fails)
	}
}

// The server as a whole evaluates at most perSecond sign-ins (burst aside), whoever asks.
func TestAuthGuardGlobalRate(t *testing.T) {
	clk := newFakeClock()
	g := newAuthGuard("bas", defaultLockPolicy, clk.now)
	n := 0
	for i := range 1000 {
		if admitted(g, netip.AddrFrom4([4]byte{10, 0, byte(i / 250), byte(i)}).String(), "x") {
			n++
		}
	}
	if n != defaultLockPolicy.burst {
		t.Errorf("%d evaluations in one instant, want the burst %d", n, defaultLockPolicy.burst)
	}
	clk.add(time.Second)
	if !admitted(g, "10.9.9.9", "x") {
		t.Error("nothing admitted a second later")
	}
}

// The client table stays bounded under guesses from ever new addresses.
func TestAuthGuardBounded(t *testing.T) {
	clk := newFakeClock()
	p := defaultLockPolicy
	p.maxClients = 100
	g := newAuthGuard("bas", p, clk.now)
	for i := range 10000 {
		g.failed(netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)}).String(), "x")
	}
	if len(g.clients) > p.maxClients {
		t.Errorf("%d clients remembered, cap %d", len(g.clients), p.maxClients)
	}
}

func TestClientKey(t *testing.T) {
	for in, want := range map[string]string{
		"192.0.2.1":              "192.0.2.1",
		"::ffff:192.0.2.1":       "192.0.2.1",
		"2001:db8:1:2:3:4:5:6":   "2001:db8:1:2::/64",
		"2001:db8:1:2:ffff::9":   "2001:db8:1:2::/64",
		"2001:db8:1:3::1":        "2001:db8:1:3::/64",
		"fe80::1234:5678:9abc:1": "fe80::/64",
	} {
		if got := clientKey(netip.MustParseAddr(in)); got != want {
			t.Errorf("clientKey(%s) = %s, want %s", in, got, want)
		}
	}
}

func TestPeerBehindProxies(t *testing.T) {
	proxies, err := ParseProxies([]string{"10.0.0.0/8", "192.0.2.1"})
	if err != nil {
		t.Fatal(err)
	}
	s := &Server{cfg: Config{TrustedProxies: proxies}}
	for _, tc := range []struct {
		remote, xff, proto string
		want               string
		https              bool
	}{
		{"198.51.100.7:5000", "203.0.113.1", "https", "198.51.100.7", false}, // not a proxy: headers ignored
		{"10.1.2.3:5000", "203.0.113.1", "https", "203.0.113.1", true},
		{"10.1.2.3:5000", "6.6.6.6, 203.0.113.1, 192.0.2.1", "http,https", "203.0.113.1", true}, // spoofed first hop skipped
		{"10.1.2.3:5000", "", "", "10.1.2.3", false},
		{"10.1.2.3:5000", "garbage", "", "10.1.2.3", false},
	} {
		r, _ := http.NewRequest("GET", "/", nil)
		r.RemoteAddr = tc.remote
		if tc.xff != "" {
			r.Header.Set("X-Forwarded-For", tc.xff)
		}
		if tc.proto != "" {
			r.Header.Set("X-Forwarded-Proto", tc.proto)
		}
		p := s.peer(r)
		if p.String() != tc.want || p.https != tc.https {
			t.Errorf("%s XFF %q: %s https=%v, want %s %v", tc.remote, tc.xff, p, p.https, tc.want, tc.https)
		}
	}
	if _, err := ParseProxies([]string{"proxy.local"}); err == nil {
		t.Error("a host name taken for a proxy address")
	}
}

// A flood of refusals makes two lines per kind and period: the first at once, a count at the end.
func TestRefusalLogRateLimited(t *testing.T) {
	var buf bytes.Buffer
	l := logrus.New()
	l.SetOutput(&buf)
	rl := newRefusalLog(logrus.NewEntry(l), time.Minute)
	p := peer{addr: netip.MustParseAddr("203.0.113.5")}
	for range 1000 {
		rl.note("1C sign-in", "wrong credentials", p)
	}
	rl.note("webhook", "wrong signature", p)
	if n := strings.Count(buf.String(), "\n"); n != 2 {
		t.Fatalf("%d lines during the flood, want 2:\n%s", n, buf.String())
	}
	rl.flush()
	out := buf.String()
	if n := strings.Count(out, "\n"); n != 3 || !strings.Contains(out, "999 more requests refused (1C sign-in: wrong credentials)") || !strings.Contains(out, "203.0.113.5") {
		t.Fatalf("after the period:\n%s", out)
	}
	rl.flush()
	if strings.Count(buf.String(), "\n") != 3 {
		t.Error("a quiet period logged something")
	}
}

// Secrets (the password, the status token, a session's sessid) are compared in constant time only: no
// == or != on them anywhere in the package.
func TestSecretsComparedInConstantTime(t *testing.T) {
	secret := map[string]bool{"sessid": true, "Password": true, "StatusToken": true, "WebhookKeys": true}
	files, _ := filepath.Glob("*.go")
	fset := token.NewFileSet()
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		file, err := parser.ParseFile(fset, f, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(file, func(n ast.Node) bool {
			b, ok := n.(*ast.BinaryExpr)
			if !ok || (b.Op != token.EQL && b.Op != token.NEQ) {
				return true
			}
			for _, side := range []ast.Expr{b.X, b.Y} {
				if sel, ok := side.(*ast.SelectorExpr); ok && secret[sel.Sel.Name] {
					if lit, ok := otherSide(b, side).(*ast.BasicLit); ok && lit.Value == `""` {
						continue // emptiness is not a secret
					}
					t.Errorf("%s: %s compared with %s", fset.Position(b.Pos()), sel.Sel.Name, b.Op)
				}
			}
			return true
		})
	}
}

func otherSide(b *ast.BinaryExpr, side ast.Expr) ast.Expr {
	if side == b.X {
		return b.Y
	}
	return b.X
}
