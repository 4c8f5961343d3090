// Package sftptest runs SFTP servers on loopback for tests: an SSH server in the process with, behind its
// "sftp" subsystem, either pkg/sftp's server or OpenSSH's sftp-server binary. Both serve a local folder, so
// a test can arrange files with the os package and look at what arrived.
//
// It imports no other package of obmin; only tests use it.
package sftptest

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/binary"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/pkg/sftp"
	"golang.org/x/crypto/ssh"
)

// OpenSSHServer is where Debian's openssh-sftp-server (pulled in by openssh-server) puts the binary.
const OpenSSHServer = "/usr/lib/openssh/sftp-server"

// Kind is the SFTP server behind the SSH server.
type Kind string

const (
	PkgSFTP Kind = "pkg-sftp" // github.com/pkg/sftp's Server, in the process
	OpenSSH Kind = "openssh"  // OpenSSH's sftp-server, a child process per session
)

// The credentials every Server accepts.
const (
	User     = "bas"
	Password = "s3cret-pw"
)

// Server is an SSH server on 127.0.0.1 serving Dir over SFTP.
type Server struct {
	Kind    Kind
	Dir     string
	Addr    string // host:port, kept across Restart
	HostKey ssh.Signer
	// ClientKey is a private key (PEM, not encrypted) the server accepts; EncryptedClientKey is the same
	// key encrypted with ClientKeyPassphrase.
	ClientKey []byte

	t      testing.TB
	cfg    *ssh.ServerConfig
	mu     sync.Mutex
	ln     net.Listener
	conns  map[net.Conn]bool
	wg     sync.WaitGroup
	armed  atomic.Bool
	budget atomic.Int64
	cuts   atomic.Int64
	frozen chan struct{} // non-nil while Freeze holds every connection; under mu
}

// Freeze makes the server stop answering, as a hung host or a cable cut without a reset would: nothing is
// read or written on any connection until Thaw (or Stop). Connections stay open.
func (s *Server) Freeze() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.frozen == nil {
		s.frozen = make(chan struct{})
	}
}

// Thaw undoes Freeze.
func (s *Server) Thaw() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.frozen != nil {
		close(s.frozen)
		s.frozen = nil
	}
}

func (s *Server) hold() {
	s.mu.Lock()
	ch := s.frozen
	s.mu.Unlock()
	if ch != nil {
		<-ch
	}
}

// Cuts is how many times CutAfter has cut the connections.
func (s *Server) Cuts() int { return int(s.cuts.Load()) }

// Start starts a server of the given kind on a new port; it skips the test when OpenSSH's sftp-server
// is not installed. The server stops when the test ends.
func Start(t testing.TB, kind Kind, dir string) *Server {
	t.Helper()
	if kind == OpenSSH {
		if _, err := os.Stat(OpenSSHServer); err != nil {
			if os.Getenv("OBMIN_CI") != "" { // .ci/run installed it: a skip there would hide a broken install
				t.Fatalf("OpenSSH's sftp-server is missing although OBMIN_CI is set (.ci/run installs it): %v", err)
			}
			t.Skipf("OpenSSH's sftp-server is not installed (%v): apt-get install openssh-server (.ci/run does)", err)
		}
	}
	s := &Server{Kind: kind, Dir: dir, t: t, HostKey: NewHostKey(t)}
	blk, err := ssh.MarshalPrivateKey(clientKey, "obmin test")
	if err != nil {
		t.Fatal(err)
	}
	s.ClientKey = pem.EncodeToMemory(blk)
	clientPub, err := ssh.NewPublicKey(clientKey.Public())
	if err != nil {
		t.Fatal(err)
	}
	s.cfg = &ssh.ServerConfig{
		PasswordCallback: func(c ssh.ConnMetadata, pw []byte) (*ssh.Permissions, error) {
			if c.User() == User && string(pw) == Password {
				return nil, nil
			}
			return nil, errors.New("wrong password")
		},
		PublicKeyCallback: func(c ssh.ConnMetadata, key ssh.PublicKey) (*ssh.Permissions, error) {
			if c.User() == User && string(key.Marshal()) == string(clientPub.Marshal()) {
				return nil, nil
			}
			return nil, errors.New("unknown key")
		},
	}
	s.cfg.AddHostKey(s.HostKey)
	s.listen("127.0.0.1:0")
	t.Cleanup(s.Stop)
	return s
}

// clientKey is the one client key of every Server.
var clientKey = func() ed25519.PrivateKey {
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		panic(err)
	}
	return priv
}()

// ClientKeyPassphrase encrypts EncryptedClientKey.
const ClientKeyPassphrase = "key passphrase"

var encrypted = sync.OnceValues(func() ([]byte, error) {
	blk, err := ssh.MarshalPrivateKeyWithPassphrase(clientKey, "obmin test", []byte(ClientKeyPassphrase))
	if err != nil {
		return nil, err
	}
	return pem.EncodeToMemory(blk), nil
})

// EncryptedClientKey is ClientKey encrypted with ClientKeyPassphrase (bcrypt: slow, so made once).
func EncryptedClientKey(t testing.TB) []byte {
	k, err := encrypted()
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// NewHostKey makes an ed25519 host key.
func NewHostKey(t testing.TB) ssh.Signer {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	k, err := ssh.NewSignerFromKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// Fingerprint is the host key's SHA256 fingerprint, as ssh-keygen -lf prints it.
func (s *Server) Fingerprint() string { return ssh.FingerprintSHA256(s.HostKey.PublicKey()) }

// KnownHostsLine is the server's line for a known_hosts file.
func (s *Server) KnownHostsLine() string {
	return fmt.Sprintf("[127.0.0.1]:%s %s", s.port(), ssh.MarshalAuthorizedKey(s.HostKey.PublicKey()))
}

func (s *Server) port() string {
	_, p, _ := net.SplitHostPort(s.Addr)
	return p
}

func (s *Server) listen(addr string) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		s.t.Fatalf("sftptest: listen %s: %v", addr, err)
	}
	s.mu.Lock()
	s.ln = ln
	s.Addr = ln.Addr().String()
	s.conns = map[net.Conn]bool{}
	s.mu.Unlock()
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		for {
			nc, err := ln.Accept()
			if err != nil {
				return
			}
			s.mu.Lock()
			s.conns[nc] = true
			s.mu.Unlock()
			s.wg.Add(1)
			go func() {
				defer s.wg.Done()
				s.serve(&countConn{Conn: nc, s: s})
				s.mu.Lock()
				delete(s.conns, nc)
				s.mu.Unlock()
			}()
		}
	}()
}

// Stop closes the listener and every connection and waits for the server's goroutines and processes.
func (s *Server) Stop() {
	s.mu.Lock()
	if s.ln != nil {
		s.ln.Close()
		s.ln = nil
	}
	s.mu.Unlock()
	s.Thaw()
	s.Cut()
	s.wg.Wait()
}

// Restart stops the server and starts it again on the same port.
func (s *Server) Restart() {
	s.Stop()
	s.listen(s.Addr)
}

// Cut closes every open connection, as a network failure would; the server keeps listening.
func (s *Server) Cut() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for c := range s.conns {
		c.Close()
	}
}

// CutAfter cuts every connection once n more bytes have passed through the server, either way.
func (s *Server) CutAfter(n int64) {
	s.budget.Store(n)
	s.armed.Store(true)
}

type countConn struct {
	net.Conn
	s *Server
}

func (c *countConn) count(n int) {
	if n > 0 && c.s.armed.Load() && c.s.budget.Add(-int64(n)) <= 0 && c.s.armed.CompareAndSwap(true, false) {
		c.s.cuts.Add(1)
		c.s.Cut()
	}
}

func (c *countConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.s.hold()
	c.count(n)
	return n, err
}

func (c *countConn) Write(p []byte) (int, error) {
	c.s.hold()
	n, err := c.Conn.Write(p)
	c.count(n)
	return n, err
}

func (s *Server) serve(nc net.Conn) {
	defer nc.Close()
	sc, chans, reqs, err := ssh.NewServerConn(nc, s.cfg)
	if err != nil {
		return
	}
	defer sc.Close()
	var wg sync.WaitGroup
	defer wg.Wait()
	wg.Add(1)
	go func() {
		defer wg.Done()
		ssh.DiscardRequests(reqs) // answers keepalive@openssh.com (with "false", which is an answer)
	}()
	for nch := range chans {
		if nch.ChannelType() != "session" {
			nch.Reject(ssh.UnknownChannelType, "only sessions")
			continue
		}
		ch, creqs, err := nch.Accept()
		if err != nil {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			s.session(ch, creqs)
		}()
	}
}

// session answers the "subsystem sftp" request and serves SFTP on the channel until it closes.
func (s *Server) session(ch ssh.Channel, reqs <-chan *ssh.Request) {
	defer ch.Close()
	for req := range reqs {
		ok := req.Type == "subsystem" && len(req.Payload) >= 4 && string(req.Payload[4:]) == "sftp"
		req.Reply(ok, nil)
		if !ok {
			continue
		}
		go ssh.DiscardRequests(reqs)
		code := 0
		switch s.Kind {
		case OpenSSH:
			cmd := exec.Command(OpenSSHServer, "-e", "-l", "ERROR")
			cmd.Dir = s.Dir
			cmd.Stdin, cmd.Stdout, cmd.Stderr = ch, ch, io.Discard
			if err := cmd.Run(); err != nil {
				code = 1
			}
		default:
			srv, err := sftp.NewServer(ch, sftp.WithServerWorkingDirectory(s.Dir))
			if err != nil {
				code = 1
				break
			}
			if err := srv.Serve(); err != nil && !errors.Is(err, io.EOF) {
				code = 1
			}
			srv.Close()
		}
		status := make([]byte, 4)
		binary.BigEndian.PutUint32(status, uint32(code))
		ch.SendRequest("exit-status", false, status)
		return
	}
}
