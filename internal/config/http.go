package config

import (
	"errors"
	"io/fs"
	"net"
	"net/netip"
	"path/filepath"
	"strings"
	"time"
)

// HTTP is obmin's own HTTP server: the 1C site-exchange endpoint, the Checkbox webhook receiver,
// health and status. Off when Listen is empty. docs/http.md explains every key.
type HTTP struct {
	Listen string `yaml:"listen"` // e.g. "127.0.0.1:8780"; empty = no server

	// TLS: both set = HTTPS. Without them obmin serves plain HTTP and must sit behind a TLS proxy (or stay on
	// a private network) because 1C sends its password with every checkauth.
	TLSCertFile string `yaml:"tls_cert_file"`
	TLSKeyFile  string `yaml:"tls_key_file"`

	// User is the login BAS's exchange node sends (HTTP Basic, checkauth). Its password comes from
	// OBMIN_HTTP_PASSWORD or the file named by PasswordFile, never from this file.
	User         string `yaml:"user"`
	PasswordFile string `yaml:"password_file"`
	// WebhookKeyFile holds the secret key(s) Checkbox returned when the webhook was registered, one per
	// line (one per cash register); or OBMIN_HTTP_WEBHOOK_KEY (several separated by spaces or commas).
	// Without a key the webhook endpoint refuses everything.
	WebhookKeyFile string `yaml:"webhook_key_file"`
	// StatusTokenFile holds a bearer token for /status and /metrics (OBMIN_HTTP_STATUS_TOKEN); the exchange user's
	// Basic credentials are accepted there as well.
	StatusTokenFile string `yaml:"status_token_file"`
	// PublicURL is obmin's address as Checkbox reaches it (https://…), used by `obmin webhook register`.
	PublicURL string `yaml:"public_url"`

	// UploadDir holds the exchange sessions' uploads; default "http" beside spool_dir.
	UploadDir string `yaml:"upload_dir"`
	// Zip: answer zip=yes to catalogue init, so 1C sends one archive (default true).
	Zip *bool `yaml:"zip"`
	// FileLimit is the file_limit obmin answers: 1C splits bigger files into chunks of this size.
	FileLimit int64 `yaml:"file_limit"`
	// MaxBody bounds one request body (a chunk, a webhook delivery); MaxUpload all files of one session.
	MaxBody   int64 `yaml:"max_body"`
	MaxUpload int64 `yaml:"max_upload"`
	// Zip archives: at most ZipMaxFiles files, ZipMaxTotal bytes unpacked.
	ZipMaxFiles int   `yaml:"zip_max_files"`
	ZipMaxTotal int64 `yaml:"zip_max_total"`

	ReadHeaderTimeout time.Duration `yaml:"read_header_timeout"`
	ReadTimeout       time.Duration `yaml:"read_timeout"`
	WriteTimeout      time.Duration `yaml:"write_timeout"`
	IdleTimeout       time.Duration `yaml:"idle_timeout"`
	// ImportWait is how long one mode=import request waits for the drop before answering progress.
	ImportWait time.Duration `yaml:"import_wait"`
	// SessionTTL: an exchange session unused this long is forgotten and its files removed.
	SessionTTL time.Duration `yaml:"session_ttl"`
	// MaxSessions: exchange sessions open at once; a sign-in beyond it ends the least recently used one.
	MaxSessions int `yaml:"max_sessions"`

	// The webhook before its signature checks: the largest body read, how long reading it may take, and how
	// many such requests are read at once (the rest get 503 and Checkbox retries).
	WebhookMaxBody     int64         `yaml:"webhook_max_body"`
	WebhookReadTimeout time.Duration `yaml:"webhook_read_timeout"`
	MaxUnauthenticated int           `yaml:"max_unauthenticated"`

	// TrustedProxies: reverse proxies (addresses or CIDR prefixes) whose X-Forwarded-For and
	// X-Forwarded-Proto obmin believes; BehindTLSProxy: mark the session cookie Secure although obmin
	// itself serves plain HTTP (a TLS proxy in front).
	TrustedProxies []string `yaml:"trusted_proxies"`
	BehindTLSProxy bool     `yaml:"behind_tls_proxy"`

	// Secrets, resolved by Config.ResolveHTTP; never read from the YAML file.
	Password    string   `yaml:"-"`
	WebhookKeys []string `yaml:"-"`
	StatusToken string   `yaml:"-"`
	resolved    bool

	// The YAML keys people will try; present only to reject them with a clear message.
	PlainPassword    string `yaml:"password,omitempty"`
	PlainWebhookKey  string `yaml:"webhook_key,omitempty"`
	PlainStatusToken string `yaml:"status_token,omitempty"`
}

// HTTP defaults, applied by WithDefaults.
const (
	DefaultFileLimit   = 8 << 20
	DefaultMaxBody     = 16 << 20
	DefaultMaxUpload   = 1 << 30
	DefaultZipMaxFiles = 10000
	DefaultZipMaxTotal = 2 << 30
)

// WithDefaults fills every unset limit and timeout.
func (h HTTP) WithDefaults() HTTP {
	set := func(p *time.Duration, d time.Duration) {
		if *p == 0 {
			*p = d
		}
	}
	set(&h.ReadHeaderTimeout, 10*time.Second)
	set(&h.ReadTimeout, 5*time.Minute) // a chunk of file_limit bytes over a slow line
	set(&h.WriteTimeout, 5*time.Minute)
	set(&h.IdleTimeout, 2*time.Minute)
	set(&h.ImportWait, 3*time.Second)
	set(&h.SessionTTL, 2*time.Hour)
	if h.Zip == nil {
		yes := true
		h.Zip = &yes
	}
	if h.FileLimit == 0 {
		h.FileLimit = DefaultFileLimit
	}
	if h.MaxBody == 0 {
		h.MaxBody = DefaultMaxBody
	}
	if h.MaxUpload == 0 {
		h.MaxUpload = DefaultMaxUpload
	}
	if h.ZipMaxFiles == 0 {
		h.ZipMaxFiles = DefaultZipMaxFiles
	}
	if h.ZipMaxTotal == 0 {
		h.ZipMaxTotal = DefaultZipMaxTotal
	}
	return h
}

// TLS says whether the server serves HTTPS.
func (h HTTP) TLS() bool { return h.TLSCertFile != "" && h.TLSKeyFile != "" }

// Resolved says whether Config.ResolveHTTP has run.
func (h HTTP) Resolved() bool { return h.resolved }

// ResolveHTTP resolves the http section's relative paths against dir (the config file's folder, spool_dir's
// folder for UploadDir) and reads its secrets from getenv or the *_file keys. With a listen address, a
// user and a password are required: every endpoint that changes state needs credentials.
func (c *Config) ResolveHTTP(getenv func(string) string) error {
	h := &c.HTTP
	if h.resolved {
		return nil
	}
	for _, p := range []*string{&h.TLSCertFile, &h.TLSKeyFile, &h.PasswordFile, &h.WebhookKeyFile, &h.StatusTokenFile, &h.UploadDir} {
		if *p != "" && !filepath.IsAbs(*p) && c.Dir != "" {
			*p = filepath.Join(c.Dir, *p)
		}
	}
	if h.UploadDir == "" && c.SpoolDir != "" {
		h.UploadDir = filepath.Join(filepath.Dir(c.SpoolDir), "http")
	}
	read := func(key, env, file string) (string, error) { return readSecret(getenv, key, env, file) }
	var err error
	if h.Password, err = read("http.password", "OBMIN_HTTP_PASSWORD", h.PasswordFile); err != nil {
		return err
	}
	if h.StatusToken, err = read("http.status_token", "OBMIN_HTTP_STATUS_TOKEN", h.StatusTokenFile); err != nil {
		return err
	}
	// The key file is written by `obmin webhook register`, which runs after the file is configured: until
	// then there is no key and the webhook endpoint refuses every delivery.
	keys, err := read("http.webhook_key", "OBMIN_HTTP_WEBHOOK_KEY", h.WebhookKeyFile)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	h.WebhookKeys = strings.FieldsFunc(keys, func(r rune) bool { return r == ',' || r == ' ' || r == '\n' || r == '\r' || r == '\t' })
	h.resolved = true
	return nil
}

// Redacted is the section as it may be printed.
func (h HTTP) Redacted() HTTP {
	if h.Password != "" {
		h.Password = "***"
	}
	if h.StatusToken != "" {
		h.StatusToken = "***"
	}
	if len(h.WebhookKeys) > 0 {
		h.WebhookKeys = []string{"***"}
	}
	return h
}

// validateHTTP checks the http section; bad reports a problem under a key.
func (c *Config) validateHTTP(bad func(key, format string, a ...any)) {
	h := c.HTTP
	for key, v := range map[string]string{"http.password": h.PlainPassword, "http.webhook_key": h.PlainWebhookKey, "http.status_token": h.PlainStatusToken} {
		if v != "" {
			bad(key, "secrets are not kept in the config file; use the environment variable or %s_file (docs/http.md)", key)
		}
	}
	if h.Listen == "" {
		return
	}
	if _, _, err := net.SplitHostPort(h.Listen); err != nil {
		bad("http.listen", "%q: want host:port, e.g. 127.0.0.1:8780: %v", h.Listen, err)
	}
	if (h.TLSCertFile == "") != (h.TLSKeyFile == "") {
		bad("http.tls_cert_file", "tls_cert_file and tls_key_file go together")
	}
	if h.User == "" {
		bad("http.user", "required with http.listen: the login BAS's exchange node uses")
	}
	if h.Password == "" {
		bad("http.password_file", "the exchange endpoint needs a password: set OBMIN_HTTP_PASSWORD or http.password_file")
	}
	if h.PublicURL != "" && !strings.HasPrefix(h.PublicURL, "https://") && !strings.HasPrefix(h.PublicURL, "http://") {
		bad("http.public_url", "%q: want an https:// address", h.PublicURL)
	}
	for key, v := range map[string]int64{"http.file_limit": h.FileLimit, "http.max_body": h.MaxBody, "http.max_upload": h.MaxUpload,
		"http.zip_max_files": int64(h.ZipMaxFiles), "http.zip_max_total": h.ZipMaxTotal, "http.max_sessions": int64(h.MaxSessions),
		"http.webhook_max_body": h.WebhookMaxBody, "http.max_unauthenticated": int64(h.MaxUnauthenticated)} {
		if v < 0 {
			bad(key, "must not be negative")
		}
	}
	d := h.WithDefaults()
	if d.FileLimit > d.MaxBody {
		bad("http.file_limit", "%d is more than http.max_body %d: 1C's chunks would be refused", d.FileLimit, d.MaxBody)
	}
	for key, v := range map[string]time.Duration{"http.read_header_timeout": h.ReadHeaderTimeout, "http.read_timeout": h.ReadTimeout,
		"http.write_timeout": h.WriteTimeout, "http.idle_timeout": h.IdleTimeout, "http.import_wait": h.ImportWait, "http.session_ttl": h.SessionTTL,
		"http.webhook_read_timeout": h.WebhookReadTimeout} {
		if v < 0 {
			bad(key, "must not be negative")
		}
	}
	for _, p := range h.TrustedProxies {
		if _, err := netip.ParsePrefix(p); err == nil {
			continue
		}
		if _, err := netip.ParseAddr(p); err != nil {
			bad("http.trusted_proxies", "%q: want an IP address or a CIDR prefix such as 10.0.0.0/8", p)
		}
	}
	if d.ImportWait > 30*time.Second {
		bad("http.import_wait", "%s: keep it short; 1C and proxies time out on long requests (docs/commerceml.md §6.3)", d.ImportWait)
	}
}
