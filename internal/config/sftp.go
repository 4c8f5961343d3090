package config

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// SFTP says that BAS's exchange folder is on an SFTP server rather than a local or mounted folder.
// Nil (no bas.sftp section) means local folders.
//
// With bas.sftp set, the export folder and the orders file's folder are REMOTE paths given here
// (export_dir, orders_dir: absolute, or relative to the SFTP user's login folder); bas.export_dir is not
// used, and of bas.orders_file only the file name is (default orders.xml). docs/folders.md explains it.
type SFTP struct {
	Address string `yaml:"address"` // host or host:port (port 22 when missing)
	User    string `yaml:"user"`

	// The password comes from OBMIN_SFTP_PASSWORD or password_file; a private key from private_key_file,
	// its passphrase from OBMIN_SFTP_PASSPHRASE or passphrase_file.
	PasswordFile   string `yaml:"password_file"`
	PrivateKeyFile string `yaml:"private_key_file"`
	PassphraseFile string `yaml:"passphrase_file"`

	// Exactly one way to trust the server: an OpenSSH known_hosts file, a pinned host key fingerprint
	// ("SHA256:…", as `ssh-keygen -lf` prints it), or — for tests only — no check at all.
	KnownHosts            string `yaml:"known_hosts"`
	HostKeyFingerprint    string `yaml:"host_key_fingerprint"`
	InsecureIgnoreHostKey bool   `yaml:"insecure_ignore_host_key"`

	ExportDir string `yaml:"export_dir"` // BAS's export folder on the server
	OrdersDir string `yaml:"orders_dir"` // the folder of BAS's orders file on the server

	ConnectTimeout time.Duration `yaml:"connect_timeout"` // TCP connect + SSH handshake (default 15s)
	KeepAlive      time.Duration `yaml:"keepalive"`       // keep-alive period (default 15s)
	MaxSessions    int           `yaml:"max_sessions"`    // SFTP sessions at once (default 4)

	// Secrets, never read from the YAML file: filled in by ResolveSFTP.
	Password   string `yaml:"-"`
	PrivateKey []byte `yaml:"-"`
	Passphrase string `yaml:"-"`

	// The YAML keys people will try; present only to reject them with a clear message.
	PlainPassword   string `yaml:"password,omitempty"`
	PlainPassphrase string `yaml:"passphrase,omitempty"`
}

// validateSFTP checks the bas.sftp section; bad reports a problem under a key.
func (c *Config) validateSFTP(bad func(key, format string, a ...any)) {
	s := c.BAS.SFTP
	if s == nil {
		return
	}
	if s.PlainPassword != "" {
		bad("bas.sftp.password", "secrets are not kept in the config file; set OBMIN_SFTP_PASSWORD or bas.sftp.password_file")
	}
	if s.PlainPassphrase != "" {
		bad("bas.sftp.passphrase", "secrets are not kept in the config file; set OBMIN_SFTP_PASSPHRASE or bas.sftp.passphrase_file")
	}
	if s.Address == "" {
		bad("bas.sftp.address", "required: the SFTP server, host or host:port")
	} else if !validAddress(s.Address) {
		bad("bas.sftp.address", "%q: want host or host:port (no sftp:// and no path)", s.Address)
	}
	if s.User == "" {
		bad("bas.sftp.user", "required")
	}
	if s.Password == "" && len(s.PrivateKey) == 0 {
		bad("bas.sftp.password_file", "no credentials: set OBMIN_SFTP_PASSWORD (or bas.sftp.password_file), or bas.sftp.private_key_file")
	}
	trust := 0
	for _, set := range []bool{s.KnownHosts != "", s.HostKeyFingerprint != "", s.InsecureIgnoreHostKey} {
		if set {
			trust++
		}
	}
	switch {
	case trust == 0:
		bad("bas.sftp.known_hosts", "required: a known_hosts file holding the server's host key (or bas.sftp.host_key_fingerprint); "+
			"obmin does not connect to a server it cannot verify")
	case trust > 1:
		bad("bas.sftp.known_hosts", "give only one of known_hosts, host_key_fingerprint and insecure_ignore_host_key")
	}
	if f := s.HostKeyFingerprint; f != "" && !strings.HasPrefix(f, "SHA256:") {
		bad("bas.sftp.host_key_fingerprint", "%q: want SHA256:… as `ssh-keygen -lf` prints it", f)
	}
	if s.ExportDir == "" {
		bad("bas.sftp.export_dir", "required: BAS's export folder on the server")
	}
	if s.OrdersDir == "" {
		bad("bas.sftp.orders_dir", "required: the folder of BAS's orders file on the server")
	}
	if s.ConnectTimeout < 0 || s.KeepAlive < 0 {
		bad("bas.sftp", "connect_timeout and keepalive must not be negative")
	}
	if s.MaxSessions < 0 || s.MaxSessions > 64 {
		bad("bas.sftp.max_sessions", "%d: want 1 to 64 (0 = default 4)", s.MaxSessions)
	}
	if name := filepath.Base(c.BAS.OrdersFile); name == "." || name == string(filepath.Separator) {
		bad("bas.orders_file", "%q: its file name is the orders file's name in bas.sftp.orders_dir", c.BAS.OrdersFile)
	}
}

// validAddress accepts host, host:port, [v6] and [v6]:port.
func validAddress(a string) bool {
	if strings.ContainsAny(a, "/ \t@") {
		return false
	}
	host, port, err := net.SplitHostPort(a)
	if err != nil {
		host, port = strings.Trim(a, "[]"), "22"
		if strings.Contains(a, ":") && !strings.HasPrefix(a, "[") {
			return false
		}
	}
	n, err := strconv.Atoi(port)
	return host != "" && err == nil && n > 0 && n < 65536
}

// ResolveSFTP resolves bas.sftp's file paths against the config's folder and reads its secrets: the
// password from OBMIN_SFTP_PASSWORD or password_file, the private key from private_key_file and its
// passphrase from OBMIN_SFTP_PASSPHRASE or passphrase_file. It does nothing without bas.sftp.
func (c *Config) ResolveSFTP(getenv func(string) string) error {
	s := c.BAS.SFTP
	if s == nil {
		return nil
	}
	for _, p := range []*string{&s.PasswordFile, &s.PrivateKeyFile, &s.PassphraseFile, &s.KnownHosts} {
		if *p != "" && !filepath.IsAbs(*p) && c.Dir != "" {
			*p = filepath.Join(c.Dir, *p)
		}
	}
	read := func(key, env, file string) (string, error) { return readSecret(getenv, key, env, file) }
	var err error
	if s.Password, err = read("bas.sftp.password", "OBMIN_SFTP_PASSWORD", s.PasswordFile); err != nil {
		return err
	}
	if s.Passphrase, err = read("bas.sftp.passphrase", "OBMIN_SFTP_PASSPHRASE", s.PassphraseFile); err != nil {
		return err
	}
	if s.PrivateKeyFile != "" {
		if s.PrivateKey, err = os.ReadFile(s.PrivateKeyFile); err != nil {
			return fmt.Errorf("bas.sftp.private_key_file: %w", err)
		}
	}
	return nil
}
