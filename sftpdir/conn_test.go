package sftpdir

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"obmin/folder/foldertest"
	"obmin/sftpdir/sftptest"
)

// goroutines waits until at most n goroutines run and returns how many do.
func goroutines(n int) int {
	deadline := time.Now().Add(5 * time.Second)
	for {
		got := runtime.NumGoroutine()
		if got <= n || time.Now().After(deadline) {
			return got
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestNoLeakAcrossReconnects cuts and restarts the server many times: the goroutines of the client and
// of the server come back to what they were, and Close leaves none behind.
func TestNoLeakAcrossReconnects(t *testing.T) {
	for _, kind := range []sftptest.Kind{sftptest.PkgSFTP, sftptest.OpenSSH} {
		t.Run(string(kind), func(t *testing.T) {
			b := newBackend(t, string(kind), nil)
			base := runtime.NumGoroutine()
			b = b.dial(t, nil)
			ctx := context.Background()
			b.Put(t, "w/import.xml", foldertest.CML(""), time.Time{})
			var connected int
			for i := range 12 {
				eventually(t, "List", func() error { _, err := b.Source.List(ctx); return err })
				if err := b.Target.WriteFile(ctx, "orders.xml", []byte(foldertest.CML(""))); err != nil {
					t.Fatalf("cycle %d: %v", i, err)
				}
				if i == 2 {
					connected = runtime.NumGoroutine()
				}
				if i > 2 {
					if got := goroutines(connected); got > connected {
						t.Fatalf("cycle %d: %d goroutines, %d after the first reconnects: a leak", i, got, connected)
					}
				}
				switch i % 3 {
				case 0:
					b.srv.Cut()
				case 1:
					b.srv.Restart()
				default:
					ctx, cancel := context.WithCancel(ctx)
					cancel()
					b.Source.List(ctx)
				}
			}
			b.conn.Close()
			if got := goroutines(base); got > base {
				buf := make([]byte, 1<<20)
				t.Fatalf("%d goroutines after Close, %d before the Conn:\n%s", got, base, buf[:runtime.Stack(buf, true)])
			}
		})
	}
}

func TestNewRefuses(t *testing.T) {
	srv := sftptest.Start(t, sftptest.PkgSFTP, t.TempDir())
	ok := Config{Address: srv.Addr, User: "bas", Password: "pw", HostKeyFingerprint: srv.Fingerprint()}
	tests := []struct {
		name   string
		mutate func(*Config)
		want   string
	}{
		{"no address", func(c *Config) { c.Address = "" }, "no address"},
		{"no user", func(c *Config) { c.User = "" }, "no user"},
		{"no credentials", func(c *Config) { c.Password = "" }, "no password and no private key"},
		{"no way to trust the host", func(c *Config) { c.HostKeyFingerprint = "" }, "exactly one"},
		{"two ways to trust the host", func(c *Config) { c.InsecureIgnoreHostKey = true }, "exactly one"},
		{"a fingerprint in another format", func(c *Config) { c.HostKeyFingerprint = "MD5:aa:bb" }, "want SHA256:"},
		{"a missing known_hosts file", func(c *Config) { c.HostKeyFingerprint, c.KnownHostsFile = "", "/nonexistent/known_hosts" }, "known_hosts"},
		{"an encrypted key without its passphrase", func(c *Config) { c.PrivateKey = sftptest.EncryptedClientKey(t) }, "encrypted and no passphrase"},
		{"a wrong passphrase", func(c *Config) { c.PrivateKey, c.Passphrase = sftptest.EncryptedClientKey(t), "wrong" }, "private key"},
		{"not a key", func(c *Config) { c.PrivateKey = []byte("not a key") }, "private key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := ok
			tt.mutate(&cfg)
			_, err := New(cfg)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("New = %v, want an error with %q", err, tt.want)
			}
			if cfg.Password != "" && strings.Contains(err.Error(), cfg.Password) {
				t.Fatalf("the error shows the password: %v", err)
			}
		})
	}
	// A port is optional.
	c, err := New(Config{Address: "sftp.example.com", User: "bas", Password: "pw", InsecureIgnoreHostKey: true})
	if err != nil || c.String() != "sftp://bas@sftp.example.com:22" {
		t.Fatalf("New = %v, %v", c, err)
	}
}

// TestKeepAliveDropsAHungServer: a server that stops answering (no reset, no FIN) is noticed by the
// keep-alive; the operation waiting on it fails instead of hanging, and the next one connects again.
func TestKeepAliveDropsAHungServer(t *testing.T) {
	b := newBackend(t, string(sftptest.PkgSFTP), nil).dial(t, func(c *Config) {
		c.KeepAlive, c.DialTimeout = 200*time.Millisecond, time.Second
	})
	ctx := context.Background()
	if _, err := b.Source.List(ctx); err != nil {
		t.Fatal(err)
	}
	b.srv.Freeze()
	start := time.Now()
	done := make(chan error, 1)
	go func() { _, err := b.Source.List(ctx); done <- err }()
	select {
	case err := <-done:
		if err == nil {
			t.Fatal("List succeeded against a hung server")
		}
		t.Logf("hung server noticed after %s: %v", time.Since(start).Round(time.Millisecond), err)
	case <-time.After(10 * time.Second):
		t.Fatal("List still waits on a hung server after 10s: the keep-alive did not drop the connection")
	}
	b.srv.Thaw()
	eventually(t, "List after the server answers again", func() error { _, err := b.Source.List(ctx); return err })
}

// TestConcurrentUse: many goroutines share one Conn (bounded sessions) while the server cuts the
// connection under them; every write that reports success holds its content.
func TestConcurrentUse(t *testing.T) {
	b := newBackend(t, string(sftptest.PkgSFTP), nil).dial(t, func(c *Config) { c.MaxSessions = 3 })
	b.Put(t, "w/import.xml", foldertest.CML("<Каталог/>"), time.Time{})
	ctx := context.Background()
	var wg sync.WaitGroup
	ok := make([]bool, 8)
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			name := fmt.Sprintf("orders%d.xml", i)
			for range 5 {
				if i == 3 {
					b.srv.Cut()
				}
				b.Source.List(ctx)
				if r, err := b.Source.Open(ctx, "w/import.xml"); err == nil {
					io.Copy(io.Discard, r)
					r.Close()
				}
				if err := b.Target.WriteFile(ctx, name, []byte(foldertest.CML(name))); err == nil {
					ok[i] = true
				}
			}
		}()
	}
	wg.Wait()
	for i, done := range ok {
		name := fmt.Sprintf("orders%d.xml", i)
		got, err := os.ReadFile(filepath.Join(b.Dir, "out", name))
		if done && (err != nil || string(got) != foldertest.CML(name)) {
			t.Errorf("%s: written, but holds %q (%v)", name, got, err)
		}
	}
	if got := len(b.conn.sessions); got != 0 {
		t.Errorf("%d sessions still taken after every operation ended", got)
	}
}
