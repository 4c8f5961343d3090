// Package config reads obmin's YAML configuration, resolves secrets from the environment or files, and
// validates everything at start with messages that name the key.
//
// It imports internal/cronspec; nothing else of obmin.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"
	"unicode"

	"gopkg.in/yaml.v3"
)

// Config is the whole configuration. configs/example.yaml documents every key.
type Config struct {
	SpoolDir  string   `yaml:"spool_dir"`
	StateFile string   `yaml:"state_file"`
	Log       Log      `yaml:"log"`
	BAS       BAS      `yaml:"bas"`
	Checkbox  Checkbox `yaml:"checkbox"`
	Mapping   Mapping  `yaml:"mapping"`
	Sales     Sales    `yaml:"sales"`
	Schedule  Schedule `yaml:"schedule"`
	HTTP      HTTP     `yaml:"http"`
	Notify    Notify   `yaml:"notify"`

	// Dir is the folder relative paths are resolved against: the config file's folder.
	Dir string `yaml:"-"`

	quoteWarnings   []string // Windows paths in double quotes (QuoteWarnings)
	skipCredentials bool     // LoadWithoutCredentials
}

type Log struct {
	Format string `yaml:"format"` // text | json
	Level  string `yaml:"level"`  // debug | info | warn | error
	// File is the log file (relative to the config's folder); empty = stderr only. A service has no
	// console, so a service needs it. Rotated by size: MaxSizeMB per file, MaxBackups old files kept
	// (0 = all), old files deleted after MaxAgeDays (0 = never).
	File       string `yaml:"file"`
	MaxSizeMB  int    `yaml:"max_size_mb"`
	MaxBackups int    `yaml:"max_backups"`
	MaxAgeDays int    `yaml:"max_age_days"`
	// RepeatWindow collapses a warning or error repeated within it into one summary line per window
	// ("… repeated N times"); 0 logs every line.
	RepeatWindow time.Duration `yaml:"repeat_window"`
}

type BAS struct {
	ExportDir    string        `yaml:"export_dir"`
	OrdersFile   string        `yaml:"orders_file"`
	Encoding     string        `yaml:"encoding"`
	PollInterval time.Duration `yaml:"poll_interval"`
	MinAge       time.Duration `yaml:"min_age"`
	// IncompleteTimeout bounds the wait for an export whose files stopped changing but are not whole XML
	// (BAS broke off): after this long without a change it goes to failed/ (docs/folders.md).
	IncompleteTimeout time.Duration `yaml:"incomplete_timeout"`
	Notify            *bool         `yaml:"notify"`
	SFTP              *SFTP         `yaml:"sftp"`  // the export folder and orders file are on an SFTP server
	OData             BASOData      `yaml:"odata"` // BAS's OData interface, for the retail sales reports (basodata.go)
}

type Checkbox struct {
	Emulator          bool     `yaml:"emulator"`
	BaseURL           string   `yaml:"base_url"`
	Login             string   `yaml:"login"`
	PasswordFile      string   `yaml:"password_file"`
	PINCodeFile       string   `yaml:"pin_code_file"`
	LicenseKeyFile    string   `yaml:"license_key_file"`
	CashRegisters     []string `yaml:"cash_registers"`
	RequestsPerSecond float64  `yaml:"requests_per_second"`
	Workers           int      `yaml:"workers"`
	BulkThreshold     int      `yaml:"bulk_threshold"` // a drop changing more goods than this uses the goods import; 0 = never
	BulkBatch         int      `yaml:"bulk_batch"`     // most goods in one import file

	// Secrets, never read from the YAML file itself: from OBMIN_CHECKBOX_PASSWORD, OBMIN_CHECKBOX_PIN_CODE,
	// OBMIN_CHECKBOX_LICENSE_KEY or the *_file keys above.
	Password   string `yaml:"-"`
	PINCode    string `yaml:"-"`
	LicenseKey string `yaml:"-"`

	// The YAML keys people will try; present only to reject them with a clear message.
	PlainPassword   string `yaml:"password,omitempty"`
	PlainPIN        string `yaml:"pin_code,omitempty"`
	PlainLicenseKey string `yaml:"license_key,omitempty"`
}

type Mapping struct {
	CodeField string `yaml:"code_field"`
	// VariantCode is how a characteristic's code is made: article-suffix, id or barcode; "" follows
	// code_field (docs/checkbox.md, "Variants").
	VariantCode string `yaml:"variant_code"`
	// Feeds name the marketplace feeds a drop may carry and choose each one's code field.
	Feeds           []Feed           `yaml:"feeds"`
	PriceType       string           `yaml:"price_type"`
	VAT             map[string][]int `yaml:"vat"`
	DefaultTaxCodes []int            `yaml:"default_tax_codes"`
	WeightUnits     []string         `yaml:"weight_units"`
	Stock           bool             `yaml:"stock"`
	Warehouses      []string         `yaml:"warehouses"`
	// Missing is what happens to a good a full package no longer lists: leave (default), hide (stock 0,
	// needs stock: true) or delete (in Checkbox).
	Missing string `yaml:"missing"`
}

// Feed is one marketplace feed: the files that are it, its name, its code field.
type Feed struct {
	Files     string `yaml:"files"`      // a file-name pattern, e.g. "prom*.xml" (case-insensitive)
	Name      string `yaml:"name"`       // how reports and the ledger call it; "" is made from files
	CodeField string `yaml:"code_field"` // article (vendorCode), id (offer id) or barcode; "" is mapping.code_field
}

// Sales says how receipts become BAS's orders (docs/bas-orders.md).
type Sales struct {
	To                string        `yaml:"to"`           // orders-file | retail-report | both (basodata.go)
	Returns           string        `yaml:"returns"`      // list | amend
	ReturnsFile       string        `yaml:"returns_file"` // the staff's list of returns beside the orders file
	OrderStatus       string        `yaml:"order_status"` // «Статус заказа», mapped to «Завершений» in BAS
	PaymentRequisites bool          `yaml:"payment_requisites"`
	KeepRuns          int           `yaml:"keep_runs"` // an order stays in the file across this many BAS runs
	KeepFor           time.Duration `yaml:"keep_for"`  // and at least this long
	Overlap           time.Duration `yaml:"overlap"`
	RecentOverlap     time.Duration `yaml:"recent_overlap"` // what the pulls between two deep ones re-read
	DeepPull          time.Duration `yaml:"deep_pull"`      // how often a pull re-reads the whole overlap; 0 (or ≥ overlap) = every pull
	FirstPull         time.Duration `yaml:"first_pull"`
	Currency          string        `yaml:"currency"`
	CustomerName      string        `yaml:"customer_name"`
	NumberPrefix      string        `yaml:"number_prefix"`
	NumberFirst       int           `yaml:"number_first"`
	NumberLast        int           `yaml:"number_last"`

	// Keys of earlier versions; present only to reject them with a message naming what replaced them.
	OldResendWindow *time.Duration `yaml:"resend_window,omitempty"`
}

type Schedule struct {
	PullReceipts  string        `yaml:"pull_receipts"`
	Retention     string        `yaml:"retention"`
	RetentionKeep time.Duration `yaml:"retention_keep"`
	RetryDrops    time.Duration `yaml:"retry_drops"`
	// Reconcile is when the day before is reconciled (obmin reconcile); "off" turns it off.
	Reconcile string `yaml:"reconcile"`
}

// Default is the configuration with every default filled in and Checkbox unset.
func Default() Config {
	yes := true
	return Config{
		SpoolDir:  "var/spool",
		StateFile: "var/state.db",
		Log:       Log{Format: "text", Level: "info", MaxSizeMB: 20, MaxBackups: 10, RepeatWindow: time.Minute},
		BAS: BAS{
			ExportDir: "var/bas/export", OrdersFile: "var/bas/orders.xml", Encoding: "utf-8",
			PollInterval: 2 * time.Second, MinAge: 2 * time.Second, IncompleteTimeout: 5 * time.Minute, Notify: &yes, OData: defaultBASOData(),
		},
		Checkbox: Checkbox{BaseURL: "https://api.checkbox.ua", RequestsPerSecond: 5, Workers: 4, BulkThreshold: 10, BulkBatch: 5000},
		Mapping:  Mapping{CodeField: "article", WeightUnits: []string{"166"}},
		Sales: Sales{
			To: SalesToOrdersFile, Returns: "list", ReturnsFile: "returns.txt", OrderStatus: "Продано на касі", KeepRuns: 3, KeepFor: time.Hour,
			Overlap: 38 * time.Hour, RecentOverlap: 10 * time.Minute, DeepPull: time.Hour, FirstPull: 24 * time.Hour,
			Currency: "грн", CustomerName: "Роздрібний покупець", NumberPrefix: "CB-", NumberFirst: 1, NumberLast: 999999,
		},
		Schedule: Schedule{PullReceipts: "@every 1m", Retention: "30 2 * * *", RetentionKeep: 30 * 24 * time.Hour, RetryDrops: 30 * time.Second,
			Reconcile: "15 5 * * *"},
		Notify: defaultNotify(),
	}
}

// Load reads a YAML file over the defaults, resolves secrets through getenv and validates.
func Load(path string, getenv func(string) string) (Config, error) { return load(path, getenv, true) }

// LoadWithoutCredentials is Load for commands that talk to nobody (obmin status): missing credentials
// (Checkbox's, the HTTP exchange password, SFTP's, the Telegram token) are no error; everything else is
// checked as by Load.
func LoadWithoutCredentials(path string, getenv func(string) string) (Config, error) {
	return load(path, getenv, false)
}

func load(path string, getenv func(string) string, credentials bool) (Config, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return Config{}, fmt.Errorf("config: %w", err)
	}
	if isBlank(raw) {
		return Config{}, fmt.Errorf("config %s: %w", path, errEmpty)
	}
	cfg := Default()
	dec := yaml.NewDecoder(bytes.NewReader(raw))
	dec.KnownFields(true) // a misspelt key is an error, not a silent default
	if err := dec.Decode(&cfg); err != nil && !errors.Is(err, io.EOF) {
		return Config{}, fmt.Errorf("config %s: %w", path, withEscapeHint(raw, withKeys(raw, err)))
	}
	abs, err := filepath.Abs(filepath.Dir(path))
	if err != nil {
		return Config{}, err
	}
	cfg.Dir = abs
	cfg.quoteWarnings = quotedWindowsPaths(raw)
	cfg.skipCredentials = !credentials
	if err := cfg.Finish(getenv); err != nil {
		return Config{}, fmt.Errorf("config %s: %w", path, err)
	}
	return cfg, nil
}

// withKeys adds the dotted key to yaml's "line N: …" messages, which name only the line.
func withKeys(raw []byte, err error) error {
	var te *yaml.TypeError
	if !errors.As(err, &te) {
		return err
	}
	var root yaml.Node
	if yaml.Unmarshal(raw, &root) != nil {
		return err
	}
	keys := map[int]string{}
	var walk func(n *yaml.Node, prefix string)
	walk = func(n *yaml.Node, prefix string) {
		if n.Kind == yaml.DocumentNode {
			for _, c := range n.Content {
				walk(c, prefix)
			}
			return
		}
		if n.Kind != yaml.MappingNode {
			return
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			key := k.Value
			if prefix != "" {
				key = prefix + "." + key
			}
			keys[k.Line] = key
			walk(v, key)
		}
	}
	walk(&root, "")
	msgs := make([]string, len(te.Errors))
	for i, m := range te.Errors {
		var line int
		if _, serr := fmt.Sscanf(m, "line %d:", &line); serr == nil && keys[line] != "" {
			m = keys[line] + ": " + m
		}
		msgs[i] = m
	}
	return errors.New(strings.Join(msgs, "; "))
}

// Finish resolves paths and secrets and validates. Load calls it; the demo calls it on a built config.
func (c *Config) Finish(getenv func(string) string) error {
	if c.Dir == "" {
		wd, err := os.Getwd()
		if err != nil {
			return err
		}
		c.Dir = wd
	}
	for _, p := range []*string{&c.SpoolDir, &c.StateFile, &c.BAS.ExportDir, &c.BAS.OrdersFile,
		&c.Checkbox.PasswordFile, &c.Checkbox.PINCodeFile, &c.Checkbox.LicenseKeyFile,
		&c.Log.File} {
		if *p != "" && !filepath.IsAbs(*p) {
			*p = filepath.Join(c.Dir, *p)
		}
	}
	if err := c.secrets(getenv); err != nil {
		return err
	}
	if err := c.ResolveHTTP(getenv); err != nil {
		return err
	}
	if err := c.ResolveSFTP(getenv); err != nil {
		return err
	}
	if err := c.resolveNotify(getenv); err != nil {
		return err
	}
	if err := c.resolveBASOData(getenv); err != nil {
		return err
	}
	return c.Validate()
}

// readSecret reads a secret from the environment variable env or, when it is unset, from file (the
// config key key+"_file"): trimmed of a BOM (Notepad writes one) and surrounding white space.
func readSecret(getenv func(string) string, key, env, file string) (string, error) {
	if v := getenv(env); v != "" {
		return v, nil
	}
	if file == "" {
		return "", nil
	}
	b, err := os.ReadFile(file)
	if err != nil {
		return "", fmt.Errorf("%s_file: %w", key, err)
	}
	return strings.TrimSpace(strings.TrimPrefix(string(b), "\ufeff")), nil
}

func (c *Config) secrets(getenv func(string) string) error {
	cb := &c.Checkbox
	for _, s := range []struct{ key, value, env string }{
		{"checkbox.password", cb.PlainPassword, "OBMIN_CHECKBOX_PASSWORD"},
		{"checkbox.pin_code", cb.PlainPIN, "OBMIN_CHECKBOX_PIN_CODE"},
		{"checkbox.license_key", cb.PlainLicenseKey, "OBMIN_CHECKBOX_LICENSE_KEY"},
	} {
		if s.value != "" {
			return fmt.Errorf("%s: secrets are not kept in the config file; set %s or %s_file", s.key, s.env, s.key)
		}
	}
	read := func(key, env, file string) (string, error) { return readSecret(getenv, key, env, file) }
	var err error
	if cb.Password, err = read("checkbox.password", "OBMIN_CHECKBOX_PASSWORD", cb.PasswordFile); err != nil {
		return err
	}
	if cb.PINCode, err = read("checkbox.pin_code", "OBMIN_CHECKBOX_PIN_CODE", cb.PINCodeFile); err != nil {
		return err
	}
	if cb.LicenseKey, err = read("checkbox.license_key", "OBMIN_CHECKBOX_LICENSE_KEY", cb.LicenseKeyFile); err != nil {
		return err
	}
	if v := getenv("OBMIN_CHECKBOX_LOGIN"); v != "" {
		cb.Login = v
	}
	return nil
}

// Validate checks every value and names the key of the first problem.
func (c *Config) Validate() error {
	var errs []error
	bad := func(key, format string, a ...any) { errs = append(errs, fmt.Errorf(key+": "+format, a...)) }
	if c.skipCredentials {
		bad = withoutCredentials(bad)
	}
	if c.SpoolDir == "" {
		bad("spool_dir", "required")
	}
	if c.StateFile == "" {
		bad("state_file", "required")
	}
	switch c.Log.Format {
	case "text", "json":
	default:
		bad("log.format", "%q: want text or json", c.Log.Format)
	}
	switch c.Log.Level {
	case "debug", "info", "warn", "warning", "error":
	default:
		bad("log.level", "%q: want debug, info, warn or error", c.Log.Level)
	}
	if c.Log.MaxSizeMB < 1 {
		bad("log.max_size_mb", "%d: want 1 or more (megabytes per log file before it is rotated)", c.Log.MaxSizeMB)
	}
	if c.Log.MaxBackups < 0 {
		bad("log.max_backups", "%d: want 0 (keep all) or more", c.Log.MaxBackups)
	}
	if c.Log.MaxAgeDays < 0 {
		bad("log.max_age_days", "%d: want 0 (keep) or more", c.Log.MaxAgeDays)
	}
	if f := c.Log.File; f != "" && (f == c.StateFile || f == c.BAS.OrdersFile) {
		bad("log.file", "%q: want a log file of its own", f)
	}
	if c.BAS.ExportDir == "" {
		bad("bas.export_dir", "required: the folder BAS's exchange node exports to")
	}
	if c.BAS.OrdersFile == "" {
		bad("bas.orders_file", "required: the file BAS's exchange node loads orders from")
	}
	switch strings.ToLower(c.BAS.Encoding) {
	case "utf-8", "utf8", "windows-1251", "cp1251":
	default:
		bad("bas.encoding", "%q: want utf-8 or windows-1251", c.BAS.Encoding)
	}
	if c.BAS.PollInterval < 100*time.Millisecond {
		bad("bas.poll_interval", "%s is too short", c.BAS.PollInterval)
	}
	if c.BAS.MinAge < 0 {
		bad("bas.min_age", "must not be negative")
	}
	if t := c.BAS.IncompleteTimeout; t < time.Minute || t < 3*c.BAS.MinAge || t < 3*c.BAS.PollInterval {
		bad("bas.incomplete_timeout", "%s: want at least 1m, and three times bas.min_age and bas.poll_interval (a file BAS still writes must not be given up on)", t)
	}
	cb := c.Checkbox
	if !cb.Emulator {
		if cb.BaseURL == "" || !(strings.HasPrefix(cb.BaseURL, "https://") || strings.HasPrefix(cb.BaseURL, "http://")) {
			bad("checkbox.base_url", "%q: want an https:// address", cb.BaseURL)
		}
		hasLogin := cb.Login != "" && cb.Password != ""
		hasPIN := cb.PINCode != "" && cb.LicenseKey != ""
		if !hasLogin && !hasPIN {
			bad("checkbox.login", "Checkbox credentials are missing: set checkbox.login and OBMIN_CHECKBOX_PASSWORD (or checkbox.password_file), "+
				"or OBMIN_CHECKBOX_PIN_CODE and OBMIN_CHECKBOX_LICENSE_KEY; obmin never falls back to the emulator by itself (checkbox.emulator: true is for demos and tests)")
		}
	}
	if cb.RequestsPerSecond <= 0 {
		bad("checkbox.requests_per_second", "must be positive")
	}
	if cb.Workers < 1 || cb.Workers > 32 {
		bad("checkbox.workers", "%d: want 1 to 32", cb.Workers)
	}
	if cb.BulkThreshold < 0 {
		bad("checkbox.bulk_threshold", "%d: want 0 (off) or more", cb.BulkThreshold)
	}
	if cb.BulkBatch < 1 || cb.BulkBatch > 50000 {
		bad("checkbox.bulk_batch", "%d: want 1 to 50000", cb.BulkBatch)
	}
	switch c.Mapping.CodeField {
	case "article", "id", "barcode":
	default:
		bad("mapping.code_field", "%q: want article, id or barcode", c.Mapping.CodeField)
	}
	switch c.Mapping.VariantCode {
	case "", "article-suffix", "id", "barcode":
	default:
		bad("mapping.variant_code", "%q: want article-suffix, id or barcode (or nothing: as code_field)", c.Mapping.VariantCode)
	}
	names := map[string]bool{}
	for i, f := range c.Mapping.Feeds {
		key := fmt.Sprintf("mapping.feeds[%d]", i)
		if _, err := path.Match(f.Files, ""); f.Files == "" || err != nil || strings.ContainsAny(f.Files, `/\`) {
			bad(key+".files", "%q: want a file-name pattern such as prom*.xml", f.Files)
		}
		switch f.CodeField {
		case "", "article", "id", "barcode":
		default:
			bad(key+".code_field", "%q: want article, id or barcode", f.CodeField)
		}
		if n := strings.ToLower(f.Name); n != "" {
			if names[n] {
				bad(key+".name", "%q: two feeds with one name would share their goods", f.Name)
			}
			names[n] = true
		}
	}
	switch strings.ToLower(strings.TrimSpace(c.Mapping.Missing)) {
	case "", "leave", "delete":
	case "hide":
		if !c.Mapping.Stock {
			bad("mapping.missing", "hide sets a good's Checkbox stock to 0 and needs mapping.stock: true")
		}
	default:
		bad("mapping.missing", "%q: want leave, hide or delete", c.Mapping.Missing)
	}
	c.validateSales(bad)
	c.validateBASOData(bad)
	if c.Schedule.RetentionKeep < 24*time.Hour && c.Schedule.RetentionKeep != 0 {
		bad("schedule.retention_keep", "%s: keep archives at least 24h (0 turns retention off)", c.Schedule.RetentionKeep)
	}
	c.validateHTTP(bad)
	c.validateSFTP(bad)
	c.validateNotify(bad)
	c.validateSchedules(bad)
	c.validateKinds(reportedKeys(&errs, bad))
	return errors.Join(errs...)
}

// Redacted is the configuration as it may be printed: secrets replaced.
func (c Config) Redacted() Config {
	mask := func(s string) string {
		if s == "" {
			return ""
		}
		return "***"
	}
	c.Checkbox.Password = mask(c.Checkbox.Password)
	c.Checkbox.PINCode = mask(c.Checkbox.PINCode)
	c.Checkbox.LicenseKey = mask(c.Checkbox.LicenseKey)
	c.HTTP = c.HTTP.Redacted()
	c.Notify = c.Notify.redacted()
	c.BAS.OData = c.BAS.OData.redacted()
	if c.BAS.SFTP != nil {
		s := *c.BAS.SFTP
		s.Password, s.Passphrase = mask(s.Password), mask(s.Passphrase)
		if len(s.PrivateKey) > 0 {
			s.PrivateKey = []byte("***")
		}
		c.BAS.SFTP = &s
	}
	return c
}

// validateSales checks the sales keys (docs/bas-orders.md explains each).
func (c *Config) validateSales(bad func(key, format string, a ...any)) {
	sa := c.Sales
	switch sa.Returns {
	case "list", "amend":
	case "negative-order", "separate-file":
		bad("sales.returns", "%q was removed: BAS cannot store a negative order (a return was kept as zeros and vanished), "+
			"nor load a return from the orders file; want list (each return listed for staff to enter in BAS; the default) "+
			"or amend (the sale's order in the orders file is changed while BAS has not completed it) — docs/bas-orders.md", sa.Returns)
	default:
		bad("sales.returns", "%q: want list or amend", sa.Returns)
	}
	if sa.OldResendWindow != nil {
		bad("sales.resend_window", "was replaced: BAS confirms nothing in directory mode, so an order now stays in the orders file "+
			"across sales.keep_runs of BAS's exchange runs and for sales.keep_for (defaults 3 and 1h); remove resend_window")
	}
	if strings.ContainsAny(sa.ReturnsFile, `/\`) {
		bad("sales.returns_file", "%q: a file name only; it is written beside bas.orders_file", sa.ReturnsFile)
	}
	if ext := strings.ToLower(filepath.Ext(sa.ReturnsFile)); ext == ".xml" || ext == ".zip" {
		bad("sales.returns_file", "%q: the returns list is a text file for people (e.g. returns.txt); an .xml or .zip name invites taking it for an exchange file", sa.ReturnsFile)
	}
	if sa.KeepRuns < 1 {
		bad("sales.keep_runs", "%d: want 1 or more (BAS's exchange runs an order stays in the orders file; default 3)", sa.KeepRuns)
	}
	if sa.Overlap < 0 || sa.KeepFor < 0 || sa.FirstPull <= 0 {
		bad("sales", "overlap and keep_for must not be negative, first_pull must be positive")
	}
	if sa.RecentOverlap < 0 {
		bad("sales.recent_overlap", "%s: must not be negative (what the pulls between two deep ones re-read; default 10m)", sa.RecentOverlap)
	}
	if sa.DeepPull < 0 {
		bad("sales.deep_pull", "%s: must not be negative (how often a pull re-reads sales.overlap; 0 = every pull; default 1h)", sa.DeepPull)
	}
	if p := sa.NumberPrefix; strings.IndexFunc(p, unicode.IsDigit) >= 0 {
		bad("sales.number_prefix", "%q: no digits — BAS builds its order number from the digits of Номер and has room for 6", p)
	} else if p != "" && strings.ContainsRune("IVXLCDM", rune(p[len(p)-1])) {
		bad("sales.number_prefix", "%q: must not end with a Roman numeral letter (the year follows in Roman numerals)", p)
	} else if len([]rune(p)) > 20 {
		bad("sales.number_prefix", "%q: at most 20 characters", p)
	}
	if sa.NumberFirst < 1 || sa.NumberLast > 999999 || sa.NumberFirst > sa.NumberLast {
		bad("sales.number_first", "%d–%d: want 1 ≤ number_first ≤ number_last ≤ 999999 (BAS keeps 6 digits)", sa.NumberFirst, sa.NumberLast)
	}
	if strings.ContainsAny(sa.OrderStatus, "\r\n\t") {
		bad("sales.order_status", "%q: one line of text, as typed into BAS's status table", sa.OrderStatus)
	}
	if rel, ok := c.OrdersInExportDir(); ok && isBASFolder(strings.SplitN(rel, "/", 2)[0]) && strings.Contains(rel, "/") {
		bad("bas.orders_file", "%s lies in BAS's «webdata - …» folder, which BAS empties at the start of every exchange, before it loads "+
			"orders: the file would be gone when BAS looks for it and every run would fail. Keep it outside the export folder (docs/folders.md)", rel)
	}
}
