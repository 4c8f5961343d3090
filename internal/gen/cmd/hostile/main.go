// Command hostile runs what an attacker, a hostile file or a second copy would do against an obmin
// binary, each in processes of their own, and prints figures: the peak resident set size of the obmin
// process (the kernel's maxrss, from wait4), requests answered, exit codes. scripts/hardening runs it
// against the current build and, for comparison, an older one. Linux only (loopback aliases, maxrss).
//
//	hostile -obmin ./obmin webhook -conns 60 -seconds 20   # slow unauthenticated webhook posts
//	hostile -obmin ./obmin guess -clients 1 -seconds 10    # wrong passwords on the 1C exchange
//	hostile -obmin ./obmin cdata -mb 300                   # inspect and once on an import.xml with a huge CDATA
//	hostile -obmin ./obmin second                          # a second obmin on the same spool
//
// With -check the run fails when the figures are not what a hardened obmin gives (bounded memory,
// guesses locked out, the second copy refused): scripts/hardening -short does that in CI.
//
// It imports no other package of obmin: it drives the obmin binary.
package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

const (
	password   = "right-password-4217"
	webhookKey = "webhook-key-9c1e"
)

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "hostile:", err)
		os.Exit(1)
	}
}

type opts struct {
	obmin   string
	check   bool
	seconds float64
	conns   int
	clients int
	mb      int
}

func run(args []string, out io.Writer) error {
	fs := flag.NewFlagSet("hostile", flag.ContinueOnError)
	var o opts
	fs.StringVar(&o.obmin, "obmin", "obmin", "the obmin binary")
	fs.BoolVar(&o.check, "check", false, "fail unless the figures are those of a hardened obmin")
	fs.Float64Var(&o.seconds, "seconds", 10, "how long a load runs")
	fs.IntVar(&o.conns, "conns", 60, "webhook: concurrent slow posts")
	fs.IntVar(&o.clients, "clients", 1, "guess: client addresses (127.0.x.y) the guesses come from")
	fs.IntVar(&o.mb, "mb", 300, "cdata: size of the CDATA section in MB")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return errors.New("want one of: webhook, guess, cdata, second")
	}
	switch fs.Arg(0) {
	case "webhook":
		return webhookFlood(o, out)
	case "guess":
		return guess(o, out)
	case "cdata":
		return cdata(o, out)
	case "second":
		return second(o, out)
	}
	return fmt.Errorf("unknown scenario %q", fs.Arg(0))
}

// server is an `obmin run` with its HTTP server on loopback and the built-in Checkbox emulator.
type server struct {
	cmd  *exec.Cmd
	dir  string
	base string
	log  *os.File
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

func startServer(obmin string) (*server, error) {
	dir, err := os.MkdirTemp("", "hostile-")
	if err != nil {
		return nil, err
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	cfg := fmt.Sprintf("checkbox:\n  emulator: true\nhttp:\n  listen: 127.0.0.1:%d\n  user: bas\nschedule:\n  pull_receipts: \"@every 1h\"\nlog:\n  level: warn\n", port)
	if err := os.WriteFile(filepath.Join(dir, "obmin.yaml"), []byte(cfg), 0o600); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Join(dir, "var", "bas", "export"), 0o755); err != nil { // obmin never creates BAS's folders
		return nil, err
	}
	log, err := os.Create(filepath.Join(dir, "obmin.log"))
	if err != nil {
		return nil, err
	}
	s := &server{dir: dir, base: fmt.Sprintf("http://127.0.0.1:%d", port), log: log}
	s.cmd = exec.Command(obmin, "run", "-config", filepath.Join(dir, "obmin.yaml"))
	s.cmd.Env = append(os.Environ(), "OBMIN_HTTP_PASSWORD="+password, "OBMIN_HTTP_WEBHOOK_KEY="+webhookKey)
	s.cmd.Stdout, s.cmd.Stderr = log, log
	if err := s.cmd.Start(); err != nil {
		return nil, err
	}
	for deadline := time.Now().Add(30 * time.Second); ; {
		if resp, err := http.Get(s.base + "/healthz"); err == nil {
			resp.Body.Close()
			return s, nil
		}
		if time.Now().After(deadline) {
			s.stop()
			return nil, fmt.Errorf("obmin did not answer on %s within 30s; its log: %s", s.base, filepath.Join(dir, "obmin.log"))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// rssMiB is the process's resident set now.
func rssMiB(pid int) float64 {
	b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmRSS:" {
			var kib float64
			fmt.Sscan(f[1], &kib)
			return kib / 1024
		}
	}
	return 0
}

// stop ends the server with SIGTERM and returns its peak RSS in MiB.
func (s *server) stop() float64 {
	s.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { s.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		s.cmd.Process.Kill()
		<-done
	}
	s.log.Close()
	os.RemoveAll(s.dir)
	return maxRSS(s.cmd.ProcessState)
}

// slowReader sends n bytes of JSON-looking filler at about rate bytes per second.
type slowReader struct {
	left, rate int
	stop       <-chan struct{}
	sent       *atomic.Int64
}

func (r *slowReader) Read(p []byte) (int, error) {
	if r.left <= 0 {
		return 0, io.EOF
	}
	chunk := min(len(p), r.left, r.rate/20)
	select {
	case <-r.stop:
		return 0, errors.New("stopped")
	case <-time.After(50 * time.Millisecond):
	}
	for i := range chunk {
		p[i] = ' '
	}
	r.left -= chunk
	r.sent.Add(int64(chunk))
	return chunk, nil
}

// webhookFlood: conns unauthenticated posts at once, each of 16 MiB (half announced by Content-Length,
// half chunked) with a signature header that looks right, sent slowly, reopened as soon as one is
// answered; the peak RSS of obmin meanwhile.
func webhookFlood(o opts, out io.Writer) error {
	s, err := startServer(o.obmin)
	if err != nil {
		return err
	}
	idle := rssMiB(s.cmd.Process.Pid)
	stop := make(chan struct{})
	var sent atomic.Int64
	codes := newCounter()
	var wg sync.WaitGroup
	client := &http.Client{Transport: &http.Transport{MaxConnsPerHost: 0, DisableKeepAlives: true}}
	for w := range o.conns {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				sig := make([]byte, 32)
				rand.Read(sig)
				const size = 16 << 20
				req, _ := http.NewRequest("POST", s.base+"/checkbox/webhook", &slowReader{left: size, rate: 4 << 20, stop: stop, sent: &sent})
				if w%2 == 0 { // half announce their length; the others send chunked, so only reading tells
					req.ContentLength = size
				}
				req.Header.Set("x-request-signature", base64.StdEncoding.EncodeToString(sig))
				resp, err := client.Do(req)
				if err != nil {
					codes.add("error")
					continue
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				codes.add(fmt.Sprint(resp.StatusCode))
			}
		})
	}
	time.Sleep(time.Duration(o.seconds * float64(time.Second)))
	during := rssMiB(s.cmd.Process.Pid)
	close(stop)
	wg.Wait()
	peak := s.stop()
	fmt.Fprintf(out, "webhook flood: %d slow unauthenticated posts of 16 MiB at once for %.0fs: %.1f MiB offered, answers %s; "+
		"obmin RSS idle %.1f MiB, at the end %.1f MiB, peak %.1f MiB\n", o.conns, o.seconds, float64(sent.Load())/(1<<20), codes, idle, during, peak)
	if o.check && peak > 200 {
		return fmt.Errorf("peak RSS %.1f MiB under the webhook flood: want it bounded (under 200 MiB)", peak)
	}
	return nil
}

type counter struct {
	mu sync.Mutex
	m  map[string]int
}

func newCounter() *counter { return &counter{m: map[string]int{}} }

func (c *counter) add(k string) { c.mu.Lock(); c.m[k]++; c.mu.Unlock() }

func (c *counter) get(k string) int { c.mu.Lock(); defer c.mu.Unlock(); return c.m[k] }

func (c *counter) String() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var parts []string
	for _, k := range []string{"200", "401", "413", "429", "503", "400", "error"} {
		if c.m[k] > 0 {
			parts = append(parts, fmt.Sprintf("%s×%d", k, c.m[k]))
		}
	}
	return strings.Join(parts, " ")
}

// guess: wrong passwords on checkauth from o.clients loopback addresses, 32 at a time, for o.seconds;
// then the right password from a guessing address.
func guess(o opts, out io.Writer) error {
	s, err := startServer(o.obmin)
	if err != nil {
		return err
	}
	defer s.stop()
	clientFor := func(i int) *http.Client {
		addr := &net.TCPAddr{IP: net.IPv4(127, 0, byte(1+i/250), byte(1+i%250))}
		d := &net.Dialer{LocalAddr: addr, Timeout: 5 * time.Second}
		return &http.Client{Transport: &http.Transport{DialContext: d.DialContext, MaxIdleConnsPerHost: 4}}
	}
	clients := make([]*http.Client, o.clients)
	for i := range clients {
		clients[i] = clientFor(i)
	}
	ask := func(c *http.Client, pass string) string {
		req, _ := http.NewRequest("GET", s.base+"/1c/exchange?type=catalog&mode=checkauth", nil)
		req.SetBasicAuth("bas", pass)
		resp, err := c.Do(req)
		if err != nil {
			return "error"
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return fmt.Sprint(resp.StatusCode)
	}
	codes := newCounter()
	ctx, cancel := context.WithTimeout(context.Background(), time.Duration(o.seconds*float64(time.Second)))
	defer cancel()
	var wg sync.WaitGroup
	var n atomic.Int64
	for w := range 32 {
		wg.Go(func() {
			for i := w; ctx.Err() == nil; i += 32 {
				codes.add(ask(clients[i%len(clients)], fmt.Sprintf("guess-%d", n.Add(1))))
			}
		})
	}
	wg.Wait()
	right := ask(clients[0], password)
	total := 0
	for _, k := range []string{"401", "429", "200", "error"} {
		total += codes.get(k)
	}
	// A 401 was compared. A 429 was not, unless the server compares before it limits: then the right
	// password gets in while the guesses are refused, and every answer was a comparison.
	compared, how := codes.get("401"), "401s only: a 429 is answered before comparing"
	if right == "200" && codes.get("429") > 0 {
		compared, how = compared+codes.get("429"), "every answer: the right password got in while 429s were answered, so they came after comparing"
	}
	fmt.Fprintf(out, "password guessing: %d clients, %.0fs: %d answered (%.0f/s): %s; passwords compared: %.1f/s (%s); "+
		"the right password from a guessing client then: %s\n", o.clients, o.seconds, total, float64(total)/o.seconds, codes,
		float64(compared)/o.seconds, how, right)
	if o.check {
		if right == "200" {
			return errors.New("the right password was accepted from a client locked out for guessing")
		}
		if rate := float64(compared) / o.seconds; rate > 25 {
			return fmt.Errorf("%.1f wrong passwords compared per second: want the lockout to hold it near zero", rate)
		}
	}
	return nil
}

// writeCDATA writes an import.xml whose catalogue holds a CDATA section of mb megabytes with '<' all
// through it, then goods.
func writeCDATA(path string, mb int) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(f, 1<<20)
	fmt.Fprint(w, `<?xml version="1.0" encoding="UTF-8"?>`+"\n"+`<КоммерческаяИнформация ВерсияСхемы="2.08"><Каталог СодержитТолькоИзменения="false"><Ид>1</Ид><Наименование>Каталог</Наименование>`+"\n<![CDATA[")
	line := bytes.Repeat([]byte("<p>abc</p>"), 100)
	for written := 0; written < mb*1_000_000; written += len(line) + 1 {
		w.Write(line)
		w.WriteByte('\n')
	}
	fmt.Fprint(w, "]]><Товары><Товар><Ид>g1</Ид><Артикул>A1</Артикул><Наименование>Книга</Наименование></Товар></Товары></Каталог></КоммерческаяИнформация>\n")
	return errors.Join(w.Flush(), f.Close())
}

// cdata: `obmin inspect` on the file, and `obmin once` taking it as a drop; exit codes and peak RSS.
func cdata(o opts, out io.Writer) error {
	dir, err := os.MkdirTemp("", "hostile-cdata-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	drop := filepath.Join(dir, "var", "bas", "export", "webdata")
	if err := os.MkdirAll(drop, 0o755); err != nil {
		return err
	}
	file := filepath.Join(drop, "import.xml")
	if err := writeCDATA(file, o.mb); err != nil {
		return err
	}
	old := time.Now().Add(-time.Hour)
	os.Chtimes(file, old, old)
	inspect := exec.Command(o.obmin, "inspect", file)
	var iout bytes.Buffer
	inspect.Stdout, inspect.Stderr = &iout, &iout
	inspect.Run()
	ircode := inspect.ProcessState.ExitCode()
	irss := maxRSS(inspect.ProcessState)
	cfg := "checkbox:\n  emulator: true\nbas:\n  min_age: 100ms\n  poll_interval: 1s\nlog:\n  level: error\n"
	if err := os.WriteFile(filepath.Join(dir, "obmin.yaml"), []byte(cfg), 0o600); err != nil {
		return err
	}
	once := exec.Command(o.obmin, "once", "-config", filepath.Join(dir, "obmin.yaml"))
	var oout bytes.Buffer
	once.Stdout, once.Stderr = &oout, &oout
	once.Run()
	failed, _ := filepath.Glob(filepath.Join(dir, "var", "spool", "failed", "*.error.txt"))
	done, _ := filepath.Glob(filepath.Join(dir, "var", "spool", "done", "*", "*"))
	reason := ""
	if len(failed) > 0 {
		b, _ := os.ReadFile(failed[0])
		if i := strings.Index(string(b), "import.xml"); i >= 0 {
			reason = strings.TrimSpace(strings.SplitN(string(b[i:]), "\n", 2)[0])
		}
	}
	orss := maxRSS(once.ProcessState)
	fmt.Fprintf(out, "%d MB CDATA import.xml: inspect exit %d, peak RSS %.1f MiB, says %q; once: peak RSS %.1f MiB, drops failed %d, done %d: %s\n",
		o.mb, ircode, irss, firstLineWith(iout.String(), "import.xml"), orss, len(failed), len(done), reason)
	if o.check && (irss > 200 || orss > 200 || len(failed) != 1 || ircode == 0) {
		return errors.New("the CDATA file was not refused within bounded memory")
	}
	return nil
}

func firstLineWith(s, sub string) string {
	for _, line := range strings.Split(s, "\n") {
		if strings.Contains(line, sub) && (strings.Contains(line, "limit") || strings.Contains(line, "more than") || strings.Contains(line, "error")) {
			return strings.TrimSpace(line)
		}
	}
	return strings.TrimSpace(strings.SplitN(s, "\n", 2)[0])
}

// second: `obmin once` while an `obmin run` holds the same spool.
func second(o opts, out io.Writer) error {
	s, err := startServer(o.obmin)
	if err != nil {
		return err
	}
	defer s.stop()
	cmd := exec.Command(o.obmin, "once", "-config", filepath.Join(s.dir, "obmin.yaml"))
	cmd.Env = append(os.Environ(), "OBMIN_HTTP_PASSWORD="+password)
	var b bytes.Buffer
	cmd.Stdout, cmd.Stderr = &b, &b
	start := time.Now()
	cmd.Run()
	code := cmd.ProcessState.ExitCode()
	msg := firstLineWith(b.String(), "another obmin")
	fmt.Fprintf(out, "second obmin (once beside run, pid %d): exit %d after %s: %s\n", s.cmd.Process.Pid, code, time.Since(start).Round(time.Millisecond), msg)
	if o.check && (code == 0 || !strings.Contains(msg, fmt.Sprintf("pid %d ", s.cmd.Process.Pid))) {
		return errors.New("the second obmin was not refused with the first one's pid")
	}
	return nil
}
