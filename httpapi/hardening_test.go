package httpapi_test

import (
	"archive/zip"
	"bufio"
	"bytes"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"obmin/httpapi"
)

// rawRequest sends head (a request line and headers, without the blank line) and body over a new
// connection and returns the connection, still open.
func rawRequest(t *testing.T, base, head string, body []byte) net.Conn {
	t.Helper()
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	c, err := net.Dial("tcp", u.Host)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	if _, err := io.WriteString(c, head+"\r\nHost: "+u.Host+"\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	if len(body) > 0 {
		if _, err := c.Write(body); err != nil {
			t.Fatal(err)
		}
	}
	return c
}

// status reads the status code of the answer on c, waiting at most wait.
func status(t *testing.T, c net.Conn, wait time.Duration) int {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(wait))
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatalf("no answer within %s: %v", wait, err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// Before a delivery's signature checks nobody is signed in, so the webhook reads little, briefly, and
// few at a time: no signature header is refused before the body; a declared body above the webhook's own
// limit is refused unread; beyond MaxUnauthenticated bodies at once the answer is 503; a body that does
// not arrive within WebhookReadTimeout is cut.
func TestWebhookBoundsUnauthenticatedRequests(t *testing.T) {
	r := newRigConfig(t, []string{"key"}, 200*time.Millisecond, func(c *httpapi.Config) {
		c.MaxUnauthenticated = 2
		c.WebhookReadTimeout = 300 * time.Millisecond
	})
	post := "POST " + httpapi.WebhookPath + " HTTP/1.1\r\nContent-Type: application/json"
	sig := httpapi.SignatureHeader + ": " + httpapi.Sign("key", []byte("whatever"))

	// 16 MiB announced, nothing sent: answered at once.
	if got := status(t, rawRequest(t, r.url, post+"\r\nContent-Length: 16777216", nil), 5*time.Second); got != 401 {
		t.Errorf("no signature: %d, want 401 before the body", got)
	}
	if got := status(t, rawRequest(t, r.url, post+"\r\n"+httpapi.SignatureHeader+": not-a-signature\r\nContent-Length: 16777216", nil), 5*time.Second); got != 401 {
		t.Errorf("malformed signature: %d, want 401 before the body", got)
	}
	if got := status(t, rawRequest(t, r.url, post+"\r\n"+sig+"\r\nContent-Length: 1048576", nil), 5*time.Second); got != 413 {
		t.Errorf("1 MiB announced: %d, want 413 before the body", got)
	}

	// Two slow deliveries hold the two slots; the next one is turned away.
	slow := []net.Conn{
		rawRequest(t, r.url, post+"\r\n"+sig+"\r\nContent-Length: 100000", []byte(`{"receipt":`)),
		rawRequest(t, r.url, post+"\r\n"+sig+"\r\nContent-Length: 100000", []byte(`{"receipt":`)),
	}
	busy := false
	for i := 0; i < 100 && !busy; i++ {
		c := rawRequest(t, r.url, post+"\r\n"+sig+"\r\nContent-Length: 2", []byte("{}"))
		switch got := status(t, c, 5*time.Second); got {
		case 503:
			busy = true
		case 401: // a slow one had not taken its slot yet
			time.Sleep(10 * time.Millisecond)
		default:
			t.Fatalf("third delivery: %d", got)
		}
	}
	if !busy {
		t.Error("a third unauthenticated delivery was read beside two slow ones; want 503")
	}
	// The slow ones are cut after the webhook's read timeout, not the server's minutes.
	for i, c := range slow {
		if got := status(t, c, 5*time.Second); got != 400 {
			t.Errorf("slow delivery %d: %d, want 400 after the read timeout", i, got)
		}
	}

	// A body above the limit without a declared length (chunked) is cut at the limit.
	big := bytes.Repeat([]byte(" "), httpapi.DefaultWebhookMaxBody+1)
	req, _ := http.NewRequest("POST", r.url+httpapi.WebhookPath, io.MultiReader(bytes.NewReader(big)))
	req.Header.Set(httpapi.SignatureHeader, httpapi.Sign("key", big))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 413 {
		t.Errorf("signed body of %d bytes: %d, want 413", len(big), resp.StatusCode)
	}
}

func signIn(t *testing.T, base, pass string, header map[string]string) *http.Response {
	t.Helper()
	req, _ := http.NewRequest("GET", base+"/1c/exchange?type=catalog&mode=checkauth", nil)
	req.SetBasicAuth(user, pass)
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp
}

// Password guessing: after a few wrong passwords the client is locked out before anything is compared,
// so even the right password is refused until the lockout ends; /status shares the lockout. Behind a
// trusted proxy each forwarded client counts on its own; from anyone else X-Forwarded-For is ignored.
func TestSignInLockedOutBeforeChecking(t *testing.T) {
	r := newRigConfig(t, nil, 200*time.Millisecond, func(c *httpapi.Config) {
		c.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}
	})
	guesser := map[string]string{"X-Forwarded-For": "203.0.113.7"}
	codes := ""
	for range 8 {
		codes += fmt.Sprint(signIn(t, r.url, "guess", guesser).StatusCode, " ")
	}
	if codes != "401 401 401 401 401 401 429 429 " {
		t.Errorf("wrong passwords answered %s; want six 401 then 429", codes)
	}
	resp := signIn(t, r.url, password, guesser)
	if resp.StatusCode != 429 || resp.Header.Get("Retry-After") == "" {
		t.Errorf("the right password while locked out: %d (Retry-After %q); want 429 without checking it", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	req, _ := http.NewRequest("GET", r.url+"/status", nil)
	req.Header.Set("Authorization", "Bearer status-token")
	req.Header.Set("X-Forwarded-For", "203.0.113.7")
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != 429 {
		t.Errorf("status from the locked-out client: %v %v; want 429", resp.StatusCode, err)
	}
	// Another client behind the same proxy is not held back.
	if resp := signIn(t, r.url, password, map[string]string{"X-Forwarded-For": "198.51.100.1"}); resp.StatusCode != 200 {
		t.Errorf("another client: %d, want 200", resp.StatusCode)
	}

	// Without trusted proxies the header means nothing: the loopback client itself is locked out.
	r2 := newRig(t, nil)
	for i := range 8 {
		signIn(t, r2.url, "guess", map[string]string{"X-Forwarded-For": fmt.Sprintf("192.0.2.%d", i)})
	}
	if resp := signIn(t, r2.url, password, map[string]string{"X-Forwarded-For": "198.51.100.1"}); resp.StatusCode != 429 {
		t.Errorf("X-Forwarded-For from an untrusted peer changed who was counted: %d, want 429", resp.StatusCode)
	}
}

// 1C opens a session per exchange and never ends one: at MaxSessions, a new sign-in ends the least
// recently used session and removes its files.
func TestSessionsPerUserBounded(t *testing.T) {
	r := newRigConfig(t, nil, 200*time.Millisecond, func(c *httpapi.Config) { c.MaxSessions = 3 })
	var cs []*onec
	for range 5 {
		c := r.login("catalog")
		c.do("GET", "init", nil, nil, false)
		c.do("POST", "file", url.Values{"filename": {"import.xml"}}, bytes.Repeat([]byte("x"), 1000), false)
		cs = append(cs, c)
	}
	for i, c := range cs {
		a := c.do("GET", "init", nil, nil, false)
		if gone := a.status == 401; gone != (i < 2) {
			t.Errorf("session %d: %d %q", i, a.status, a.body)
		}
	}
	sessions, _ := os.ReadDir(filepath.Join(filepath.Dir(r.agent.Spool.Root), "http"))
	if len(sessions) != 3 {
		t.Errorf("%d session folders, want 3", len(sessions))
	}
}

func zipOf(t *testing.T, files map[string][]byte) []byte {
	t.Helper()
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	for name, data := range files {
		w, err := zw.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		w.Write(data)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// uploadFiles counts the files left in the sessions' upload folders.
func uploadFiles(t *testing.T, r *rig) int {
	t.Helper()
	n := 0
	filepath.WalkDir(filepath.Join(filepath.Dir(r.agent.Spool.Root), "http"), func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && !strings.Contains(p, "bas-documents") {
			n++
		}
		return nil
	})
	return n
}

// Archives count against the session: three archives each within the per-archive limits (4 MiB, 2 MiB a
// file) but together over max_upload (8 MiB) are refused, and a refused upload leaves no file behind at
// once.
func TestZipLimitsPerSessionAndRefusedUploadsCleaned(t *testing.T) {
	r := newRig(t, nil)
	c := r.login("catalog")
	c.do("GET", "init", nil, nil, false)
	for i := range 3 {
		z := zipOf(t, map[string][]byte{fmt.Sprintf("import_files/%da.bin", i): make([]byte, 1536<<10), fmt.Sprintf("import_files/%db.bin", i): make([]byte, 1536<<10)})
		if a := c.do("POST", "file", url.Values{"filename": {fmt.Sprintf("v8_%d.zip", i)}}, z, false); a.line(0) != "success" {
			t.Fatalf("zip %d: %q", i, a.body)
		}
	}
	if a, _ := c.importLoop("import.xml"); a.line(0) != "failure" || !strings.Contains(a.body, "limit") {
		t.Errorf("three archives unpacking to 9 MiB under max_upload 8 MiB: %q", a.body)
	}
	if n := uploadFiles(t, r); n != 0 {
		t.Errorf("%d files left after the refused upload", n)
	}

	// A chunk beyond the session's total: refused, and the upload's earlier files go with it.
	c = r.login("catalog")
	c.do("GET", "init", nil, nil, false)
	chunk := make([]byte, 1<<20-1)
	refused := false
	for i := 0; i < 10 && !refused; i++ {
		a := c.do("POST", "file", url.Values{"filename": {"import.xml"}}, chunk, false)
		refused = a.status == 413
	}
	if !refused {
		t.Fatal("10 MiB accepted in a session with max_upload 8 MiB")
	}
	if n := uploadFiles(t, r); n != 0 {
		t.Errorf("%d files left after the upload was refused", n)
	}
}

// Names Windows reserves for devices are refused whatever their extension.
func TestUploadNamesWindowsReserves(t *testing.T) {
	for _, name := range []string{"CON", "nul.xml", "import_files/com1.jpg", `a\Aux .txt`, "LPT9.zip", "conin$.xml"} {
		if got, err := httpapi.CleanUploadName(name); err == nil {
			t.Errorf("CleanUploadName(%q) = %q, want an error", name, got)
		}
	}
	for _, name := range []string{"console.xml", "com10.xml", "nullable.xml", "import_files/con-1.jpg"} {
		if _, err := httpapi.CleanUploadName(name); err != nil {
			t.Errorf("CleanUploadName(%q): %v", name, err)
		}
	}
	r := newRig(t, nil)
	c := r.login("catalog")
	c.do("GET", "init", nil, nil, false)
	if a := c.do("POST", "file", url.Values{"filename": {"nul.xml"}}, []byte("x"), false); a.status != 400 {
		t.Errorf("upload named nul.xml: %d %q", a.status, a.body)
	}
	z := zipOf(t, map[string][]byte{"import.xml": []byte("<a/>"), "import_files/CON.jpg": []byte("x")})
	c.do("POST", "file", url.Values{"filename": {"v8.zip"}}, z, false)
	if a, _ := c.importLoop("import.xml"); a.line(0) != "failure" || !strings.Contains(a.body, "reserves") {
		t.Errorf("archive with CON.jpg: %q", a.body)
	}
}

// Failure answers name the file, never where obmin keeps it.
func TestFailureAnswersCarryNoServerPaths(t *testing.T) {
	r := newRig(t, nil)
	c := r.login("catalog")
	c.do("GET", "init", nil, nil, false)
	var zb bytes.Buffer
	zw := zip.NewWriter(&zb)
	w, _ := zw.CreateHeader(&zip.FileHeader{Name: "../../evil.xml"})
	w.Write([]byte("<a/>"))
	zw.Close()
	c.do("POST", "file", url.Values{"filename": {"v8_bad.zip"}}, zb.Bytes(), false)
	a, _ := c.importLoop("import.xml")
	root := filepath.Dir(r.agent.Spool.Root)
	abs := regexp.MustCompile(`(^|[\s"'(])/[^\s]+/`)
	if a.line(0) != "failure" || strings.Contains(a.body, root) || abs.MatchString(a.body) || !strings.Contains(a.body, "v8_bad.zip") {
		t.Errorf("failure answer %q: want the archive's name and no server path", a.body)
	}
}

// The session cookie is Secure over TLS, behind a TLS proxy the configuration names, and when a trusted
// proxy says the client used https; X-Forwarded-Proto from anyone else is ignored.
func TestSessionCookieSecureBehindProxy(t *testing.T) {
	secure := func(r *rig, proto string) bool {
		req, _ := http.NewRequest("GET", r.url+"/1c/exchange?type=catalog&mode=checkauth", nil)
		req.SetBasicAuth(user, password)
		if proto != "" {
			req.Header.Set("X-Forwarded-Proto", proto)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		for _, c := range resp.Cookies() {
			if c.Name == httpapi.CookieName {
				return c.Secure
			}
		}
		t.Fatal("no session cookie")
		return false
	}
	loopback := []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}
	for _, tc := range []struct {
		name  string
		cfg   func(*httpapi.Config)
		proto string
		want  bool
	}{
		{"plain HTTP", nil, "", false},
		{"X-Forwarded-Proto from an untrusted peer", nil, "https", false},
		{"behind_tls_proxy", func(c *httpapi.Config) { c.BehindTLSProxy = true }, "", true},
		{"trusted proxy says https", func(c *httpapi.Config) { c.TrustedProxies = loopback }, "https", true},
		{"trusted proxy says http", func(c *httpapi.Config) { c.TrustedProxies = loopback }, "http", false},
	} {
		if got := secure(newRigConfig(t, nil, time.Second, tc.cfg), tc.proto); got != tc.want {
			t.Errorf("%s: Secure %v, want %v", tc.name, got, tc.want)
		}
	}
}
