// Package sftpdir reads BAS's export folder from, and delivers the orders file to, a folder on an SFTP
// server: folder.Source and folder.Target over github.com/pkg/sftp and golang.org/x/crypto/ssh.
//
// One Conn holds one SSH connection to the server, made on first use and made again after it breaks (with
// back-off), with up to MaxSessions SFTP sessions on it. Host keys are always verified (a known_hosts file
// or a pinned SHA256 fingerprint) unless the caller asks, explicitly, for the insecure mode.
//
// It imports folder (the interfaces it implements), drop (which files a folder offers) and
// internal/quietlog.
package sftpdir

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/pkg/sftp"
	"github.com/sirupsen/logrus"
	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"

	"obmin/internal/quietlog"
)

// Config says how to reach and trust an SFTP server. Secrets are given by the caller (from the
// environment or files); Conn never logs them.
type Config struct {
	Address string // host:port; ":22" is added when the port is missing
	User    string

	Password   string // password (and keyboard-interactive) authentication
	PrivateKey []byte // a PEM private key (OpenSSH, PKCS#1/8)
	Passphrase string // of PrivateKey, when it is encrypted

	// Exactly one way to trust the server's host key.
	KnownHostsFile     string // an OpenSSH known_hosts file
	HostKeyFingerprint string // "SHA256:…", as ssh-keygen -lf prints it
	// InsecureIgnoreHostKey accepts any host key: anyone on the path can read and change the files.
	// Logged as a warning at every connect.
	InsecureIgnoreHostKey bool

	DialTimeout time.Duration // TCP connect plus SSH handshake (default 15s)
	KeepAlive   time.Duration // keepalive@openssh.com period; no answer within it drops the connection (default 15s)
	MaxSessions int           // SFTP sessions (and so operations or open files) at once (default 4)
	MinBackoff  time.Duration // wait after a failed connect, doubled per failure (default 1s)
	MaxBackoff  time.Duration // up to this (default 1m)

	Logger *logrus.Entry // default: discard
}

// Conn is a connection to one SFTP server, shared by the Sources and Targets made from it. It is safe
// for concurrent use. Close it when done: it leaves no goroutine or connection behind.
type Conn struct {
	cfg      Config
	log      *logrus.Entry
	sshCfg   *ssh.ClientConfig
	sessions chan struct{} // one token per session in use

	mu       sync.Mutex
	link     *link // nil when not connected
	closed   bool
	failures int       // consecutive failed connects
	retryAt  time.Time // no new connect before this
	lastErr  error     // of the last failed connect
	noPosix  bool      // tests: behave as if the server lacked posix-rename@openssh.com
}

// link is one SSH connection and its idle SFTP sessions.
type link struct {
	ssh    *ssh.Client
	done   chan struct{} // closed when the connection has ended
	idle   []*sftp.Client
	probed bool // posix and fsync are known
	posix  bool // the server has posix-rename@openssh.com
	fsync  bool // the server has fsync@openssh.com
}

// New checks cfg and returns a Conn; it connects on first use.
func New(cfg Config) (*Conn, error) {
	if cfg.Address == "" {
		return nil, errors.New("sftp: no address")
	}
	if _, _, err := net.SplitHostPort(cfg.Address); err != nil {
		cfg.Address = net.JoinHostPort(cfg.Address, "22")
	}
	if cfg.User == "" {
		return nil, errors.New("sftp: no user")
	}
	if cfg.DialTimeout <= 0 {
		cfg.DialTimeout = 15 * time.Second
	}
	if cfg.KeepAlive <= 0 {
		cfg.KeepAlive = 15 * time.Second
	}
	if cfg.MaxSessions <= 0 {
		cfg.MaxSessions = 4
	}
	if cfg.MinBackoff <= 0 {
		cfg.MinBackoff = time.Second
	}
	if cfg.MaxBackoff < cfg.MinBackoff {
		cfg.MaxBackoff = max(time.Minute, cfg.MinBackoff)
	}
	log := quietlog.Or(cfg.Logger)
	log = log.WithField("sftp", cfg.User+"@"+cfg.Address)

	var auth []ssh.AuthMethod
	if len(cfg.PrivateKey) > 0 {
		var signer ssh.Signer
		var err error
		if cfg.Passphrase != "" {
			signer, err = ssh.ParsePrivateKeyWithPassphrase(cfg.PrivateKey, []byte(cfg.Passphrase))
		} else {
			signer, err = ssh.ParsePrivateKey(cfg.PrivateKey)
		}
		var missing *ssh.PassphraseMissingError
		if errors.As(err, &missing) {
			return nil, errors.New("sftp: the private key is encrypted and no passphrase was given")
		}
		if err != nil {
			return nil, fmt.Errorf("sftp: private key: %w", err)
		}
		auth = append(auth, ssh.PublicKeys(signer))
	}
	if cfg.Password != "" {
		pw := cfg.Password
		auth = append(auth, ssh.Password(pw), ssh.KeyboardInteractive(func(_, _ string, qs []string, _ []bool) ([]string, error) {
			ans := make([]string, len(qs))
			for i := range ans {
				ans[i] = pw
			}
			return ans, nil
		}))
	}
	if len(auth) == 0 {
		return nil, errors.New("sftp: no password and no private key")
	}

	trust := 0
	for _, set := range []bool{cfg.KnownHostsFile != "", cfg.HostKeyFingerprint != "", cfg.InsecureIgnoreHostKey} {
		if set {
			trust++
		}
	}
	if trust != 1 {
		return nil, errors.New("sftp: give exactly one of a known_hosts file, a host key fingerprint or the insecure mode")
	}
	sc := &ssh.ClientConfig{User: cfg.User, Auth: auth, Timeout: cfg.DialTimeout}
	switch {
	case cfg.InsecureIgnoreHostKey:
		sc.HostKeyCallback = ssh.InsecureIgnoreHostKey()
	case cfg.HostKeyFingerprint != "":
		if !strings.HasPrefix(cfg.HostKeyFingerprint, "SHA256:") {
			return nil, fmt.Errorf("sftp: host key fingerprint %q: want SHA256:… as ssh-keygen -lf prints it", cfg.HostKeyFingerprint)
		}
		want := strings.TrimRight(cfg.HostKeyFingerprint, "=")
		sc.HostKeyCallback = func(host string, _ net.Addr, key ssh.PublicKey) error {
			if got := ssh.FingerprintSHA256(key); got != want {
				return fmt.Errorf("host key of %s is %s %s, not the pinned %s: refusing to connect", host, key.Type(), got, want)
			}
			return nil
		}
	default:
		cb, err := knownhosts.New(cfg.KnownHostsFile)
		if err != nil {
			return nil, fmt.Errorf("sftp: known_hosts: %w", err)
		}
		file := cfg.KnownHostsFile
		sc.HostKeyCallback = func(host string, remote net.Addr, key ssh.PublicKey) error {
			err := cb(host, remote, key)
			var ke *knownhosts.KeyError
			switch {
			case errors.As(err, &ke) && len(ke.Want) == 0:
				return fmt.Errorf("host %s is not in %s (it offers %s %s); add its key (ssh-keyscan) after checking the fingerprint with the server's administrator",
					host, file, key.Type(), ssh.FingerprintSHA256(key))
			case errors.As(err, &ke):
				return fmt.Errorf("HOST KEY MISMATCH for %s: it offers %s %s, %s expects another key (line %d): refusing to connect",
					host, key.Type(), ssh.FingerprintSHA256(key), file, ke.Want[0].Line)
			}
			return err
		}
		// Ask for the key types known_hosts holds for this host, or the server may offer another type
		// and be refused for no reason.
		sc.HostKeyAlgorithms = knownAlgorithms(cb, cfg.Address)
	}
	return &Conn{cfg: cfg, log: log, sshCfg: sc, sessions: make(chan struct{}, cfg.MaxSessions)}, nil
}

// knownAlgorithms lists the host key algorithms known_hosts has for addr (nil: let SSH choose).
func knownAlgorithms(cb ssh.HostKeyCallback, addr string) []string {
	probe := probeKey{}
	var ke *knownhosts.KeyError
	if err := cb(knownhosts.Normalize(addr), &net.TCPAddr{IP: net.IPv4zero}, probe); !errors.As(err, &ke) {
		return nil
	}
	var algs []string
	for _, k := range ke.Want {
		switch t := k.Key.Type(); t {
		case ssh.KeyAlgoRSA:
			algs = append(algs, ssh.KeyAlgoRSASHA512, ssh.KeyAlgoRSASHA256, ssh.KeyAlgoRSA)
		default:
			algs = append(algs, t)
		}
	}
	return algs
}

// probeKey is a key no known_hosts line matches.
type probeKey struct{}

func (probeKey) Type() string                        { return "obmin-probe" }
func (probeKey) Marshal() []byte                     { return []byte("obmin-probe") }
func (probeKey) Verify([]byte, *ssh.Signature) error { return errors.New("probe") }

// String names the server for logs: user@host:port, no secrets.
func (c *Conn) String() string { return "sftp://" + c.cfg.User + "@" + c.cfg.Address }

// Close ends the connection and waits for its goroutines; Sources and Targets fail afterwards.
func (c *Conn) Close() error {
	c.mu.Lock()
	c.closed = true
	l := c.link
	c.link = nil
	c.mu.Unlock()
	if l != nil {
		l.close()
	}
	return nil
}

func (l *link) close() {
	l.ssh.Close()
	<-l.done
}

// session is one SFTP session taken from a link for one operation.
type session struct {
	c    *Conn
	l    *link
	sftp *sftp.Client
	stop func() bool // stops the context watch
}

// get takes a session: waits for a free slot, connects when needed. A cancelled ctx during the
// operation ends the whole connection (pkg/sftp calls take no context), so put must follow.
func (c *Conn) get(ctx context.Context) (*session, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	select {
	case c.sessions <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	s, err := c.take(ctx)
	if err != nil {
		<-c.sessions
		return nil, err
	}
	s.stop = context.AfterFunc(ctx, func() { s.l.ssh.Close() })
	return s, nil
}

func (c *Conn) take(ctx context.Context) (*session, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return nil, fmt.Errorf("%s: closed", c)
	}
	if c.link != nil {
		select {
		case <-c.link.done:
			c.link = nil // ended (keep-alive unanswered, server gone): connect again
		default:
		}
	}
	if c.link == nil {
		if now := time.Now(); now.Before(c.retryAt) {
			return nil, fmt.Errorf("%s: not connected, next try in %s; last error: %w", c, c.retryAt.Sub(now).Round(time.Millisecond), c.lastErr)
		}
		l, err := c.dial(ctx)
		if err != nil && ctx.Err() != nil {
			return nil, err // the caller gave up; not the server's fault
		}
		if err != nil {
			c.failures++
			c.lastErr = err
			c.retryAt = time.Now().Add(min(c.cfg.MinBackoff<<min(c.failures-1, 16), c.cfg.MaxBackoff))
			return nil, err
		}
		c.failures, c.lastErr, c.retryAt = 0, nil, time.Time{}
		c.link = l
	}
	l := c.link
	if n := len(l.idle); n > 0 {
		cl := l.idle[n-1]
		l.idle = l.idle[:n-1]
		return &session{c: c, l: l, sftp: cl}, nil
	}
	cl, err := sftp.NewClient(l.ssh, sftp.UseConcurrentWrites(false))
	if err != nil {
		// A connection that cannot open a session is of no use.
		c.link = nil
		go l.close()
		return nil, fmt.Errorf("%s: open an SFTP session: %w", c, err)
	}
	if !l.probed {
		// Written once, under c.mu, before any session of l is handed out; read without the lock.
		_, l.posix = cl.HasExtension("posix-rename@openssh.com")
		l.posix = l.posix && !c.noPosix
		_, l.fsync = cl.HasExtension("fsync@openssh.com")
		l.probed = true
	}
	return &session{c: c, l: l, sftp: cl}, nil
}

// put returns a session after an operation that ended with err. Errors that are the server's answer
// (no such file, permission denied) keep the connection; any other error ends it, and the next
// operation connects again.
func (s *session) put(err error) {
	watching := s.stop()
	c := s.c
	c.mu.Lock()
	broken := !watching || (err != nil && !answered(err))
	if !broken {
		select {
		case <-s.l.done:
			broken = true
		default:
		}
	}
	if !broken && c.link == s.l {
		s.l.idle = append(s.l.idle, s.sftp)
		c.mu.Unlock()
	} else {
		if c.link == s.l {
			c.link = nil
		}
		c.mu.Unlock()
		s.sftp.Close()
		if broken {
			s.l.close()
		}
	}
	<-c.sessions
}

// answered says whether err is a reply of a live server rather than a failed connection.
func answered(err error) bool {
	var st *sftp.StatusError
	return errors.As(err, &st) || errors.Is(err, fs.ErrNotExist) || errors.Is(err, fs.ErrPermission) ||
		errors.Is(err, fs.ErrExist) || errors.Is(err, errVerify) || errors.Is(err, errPath)
}

// dial connects and authenticates within DialTimeout, then starts the keep-alive.
func (c *Conn) dial(ctx context.Context) (*link, error) {
	if c.cfg.InsecureIgnoreHostKey {
		c.log.Warn("SFTP HOST KEY NOT VERIFIED (insecure_ignore_host_key): anyone between obmin and the server can read and change the files; set known_hosts or host_key_fingerprint")
	}
	ctx, cancel := context.WithTimeout(ctx, c.cfg.DialTimeout)
	defer cancel()
	var d net.Dialer
	nc, err := d.DialContext(ctx, "tcp", c.cfg.Address)
	if err != nil {
		return nil, fmt.Errorf("%s: connect: %w", c, err)
	}
	dl, _ := ctx.Deadline()
	nc.SetDeadline(dl)
	stop := context.AfterFunc(ctx, func() { nc.Close() })
	cc, chans, reqs, err := ssh.NewClientConn(nc, c.cfg.Address, c.sshCfg)
	if !stop() || err != nil {
		nc.Close()
		if cc != nil {
			cc.Close()
		}
		if ctx.Err() != nil {
			err = fmt.Errorf("no answer within %s (%w)", c.cfg.DialTimeout, ctx.Err())
		}
		return nil, fmt.Errorf("%s: SSH handshake: %w", c, err)
	}
	nc.SetDeadline(time.Time{})
	l := &link{ssh: ssh.NewClient(cc, chans, reqs), done: make(chan struct{})}
	ended := make(chan struct{})
	go func() {
		l.ssh.Wait()
		close(ended)
	}()
	go func() {
		defer close(l.done)
		c.keepAlive(l, ended)
		<-ended
	}()
	c.log.Debug("connected")
	return l, nil
}

// keepAlive asks the server for a reply every KeepAlive; without one in time it drops the connection,
// so a dead server (a cut cable sends nothing) is noticed and the next operation connects again.
func (c *Conn) keepAlive(l *link, ended <-chan struct{}) {
	t := time.NewTicker(c.cfg.KeepAlive)
	defer t.Stop()
	for {
		select {
		case <-ended:
			return
		case <-t.C:
		}
		timer := time.AfterFunc(c.cfg.KeepAlive, func() { l.ssh.Close() })
		_, _, err := l.ssh.SendRequest("keepalive@openssh.com", true, nil)
		timer.Stop()
		if err != nil {
			c.log.WithError(err).Info("SFTP connection lost; reconnecting at the next operation")
			l.ssh.Close()
			return
		}
	}
}

// do runs fn on a session. An idempotent fn that failed on a connection made earlier (which may have
// died while idle) runs once more on a new one.
func (c *Conn) do(ctx context.Context, idempotent bool, fn func(*session) error) error {
	for try := 0; ; try++ {
		s, err := c.get(ctx)
		if err != nil {
			return err
		}
		err = fn(s)
		s.put(err)
		if err == nil || !idempotent || try > 0 || answered(err) || ctx.Err() != nil {
			return err
		}
	}
}

var (
	errVerify = errors.New("verification failed")
	errPath   = errors.New("not a path inside the folder")
)

// readAll reads a whole file, verifying the byte count against its size when opened.
func readAll(cl *sftp.Client, p string) ([]byte, error) {
	f, err := cl.Open(p)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	buf.Grow(int(fi.Size()))
	if _, err := io.Copy(&buf, readerOnly{f}); err != nil {
		return nil, err
	}
	if int64(buf.Len()) < fi.Size() {
		return nil, fmt.Errorf("%w: read %d of %d bytes", errVerify, buf.Len(), fi.Size())
	}
	return buf.Bytes(), nil
}

// readerOnly hides sftp.File's WriteTo, whose concurrent reads can return a short copy without an error
// (pkg/sftp pull request #660, docs/reliability.md §7).
type readerOnly struct{ r io.Reader }

func (r readerOnly) Read(p []byte) (int, error) { return r.r.Read(p) }
