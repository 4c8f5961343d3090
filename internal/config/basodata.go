package config

import (
	"fmt"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Where sales go in BAS (sales.to).
const (
	SalesToOrdersFile   = "orders-file"   // the orders file of BAS's site exchange (customer orders)
	SalesToRetailReport = "retail-report" // BAS's retail sales report per shift, through OData
	SalesToBoth         = "both"
)

// BASOData is BAS's standard OData interface, the channel of the retail sales reports
// (docs/bas-odata.md). configs/example.yaml explains each key.
type BASOData struct {
	// Emulator talks to obmin's built-in BAS OData emulator (demo, tests), as checkbox.emulator does.
	Emulator     bool          `yaml:"emulator"`
	URL          string        `yaml:"url"` // the service root: http(s)://<server>/<publication>/odata/standard.odata
	User         string        `yaml:"user"`
	PasswordFile string        `yaml:"password_file"`
	Timeout      time.Duration `yaml:"timeout"`
	KeyMode      string        `yaml:"key_mode"` // ref-key | comment
	Post         bool          `yaml:"post"`
	VATTaxation  string        `yaml:"vat_taxation"` // the report's НалогообложениеНДС
	UntaxedRate  string        `yaml:"untaxed_rate"` // BAS rate of a line with no VAT tax mapped; "" holds its shift
	Registers    []BASRegister `yaml:"registers"`

	// The password, from OBMIN_BAS_ODATA_PASSWORD or password_file; never from this file.
	Password      string `yaml:"-"`
	PlainPassword string `yaml:"password,omitempty"` // present only to reject it with a clear message
}

// BASRegister maps one Checkbox cash register onto BAS's objects. BAS's objects are named by code,
// name or Ref_Key; empty ones take the till's own (docs/bas-odata.md §5).
type BASRegister struct {
	Checkbox  string            `yaml:"checkbox"`   // the register's Checkbox id or fiscal number
	Till      string            `yaml:"till"`       // Catalog.КассыККМ
	Store     string            `yaml:"store"`      // Catalog.СтруктурныеЕдиницы
	PriceKind string            `yaml:"price_kind"` // Catalog.ВидыЦен
	Terminal  string            `yaml:"terminal"`   // Catalog.ЭквайринговыеТерминалы, for card payments
	CardKind  string            `yaml:"card_kind"`  // ВидПлатежнойКарты written on card rows
	CardKinds map[string]string `yaml:"card_kinds"` // a Checkbox payment's label → ВидПлатежнойКарты
}

func defaultBASOData() BASOData {
	return BASOData{User: "odata.user", Timeout: time.Minute, KeyMode: "ref-key", Post: true, VATTaxation: "ОблагаетсяНДС"}
}

// RetailReports reports whether sales go into BAS's retail sales reports.
func (c *Config) RetailReports() bool {
	return c.Sales.To == SalesToRetailReport || c.Sales.To == SalesToBoth
}

// OrdersFile reports whether sales go into BAS's orders file.
func (c *Config) OrdersFile() bool { return c.Sales.To != SalesToRetailReport }

// resolveBASOData reads the OData password and resolves its file's path.
func (c *Config) resolveBASOData(getenv func(string) string) error {
	o := &c.BAS.OData
	if o.PlainPassword != "" {
		return fmt.Errorf("bas.odata.password: secrets are not kept in the config file; set OBMIN_BAS_ODATA_PASSWORD or bas.odata.password_file")
	}
	if o.PasswordFile != "" && !filepath.IsAbs(o.PasswordFile) {
		o.PasswordFile = filepath.Join(c.Dir, o.PasswordFile)
	}
	var err error
	if c.RetailReports() {
		o.Password, err = readSecret(getenv, "bas.odata.password", "OBMIN_BAS_ODATA_PASSWORD", o.PasswordFile)
	}
	return err
}

var vatTaxations = []string{"ОблагаетсяНДС", "НеОблагаетсяНДС", "НаЭкспорт"}

// validateBASOData checks sales.to and, when the reports are on, bas.odata.
func (c *Config) validateBASOData(bad func(key, format string, a ...any)) {
	switch c.Sales.To {
	case SalesToOrdersFile, SalesToRetailReport, SalesToBoth:
	default:
		bad("sales.to", "%q: want orders-file, retail-report or both", c.Sales.To)
		return
	}
	if !c.RetailReports() {
		return
	}
	o := c.BAS.OData
	if !o.Emulator {
		u, err := url.Parse(o.URL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil {
			bad("bas.odata.url", "%q: want the service root of BAS's standard OData interface, http(s)://<server>/<publication>/odata/standard.odata, without a user", o.URL)
		}
		if o.User == "" {
			bad("bas.odata.user", "required: the OData user BAS's setup processor made (docs/bas-odata.md §2)")
		}
		if o.Password == "" {
			bad("bas.odata.password_file", "the OData user's password is missing: set OBMIN_BAS_ODATA_PASSWORD or bas.odata.password_file")
		}
	}
	if o.Timeout < time.Second {
		bad("bas.odata.timeout", "%s: want 1s or more", o.Timeout)
	}
	if o.KeyMode != "ref-key" && o.KeyMode != "comment" {
		bad("bas.odata.key_mode", "%q: want ref-key or comment", o.KeyMode)
	}
	if !contains(vatTaxations, o.VATTaxation) {
		bad("bas.odata.vat_taxation", "%q: want one of %s", o.VATTaxation, strings.Join(vatTaxations, ", "))
	}
	if !validRate(o.UntaxedRate) {
		bad("bas.odata.untaxed_rate", "%q: want a rate such as 20, 7 or 0, «без ПДВ», or empty", o.UntaxedRate)
	}
	if len(c.Mapping.VAT) == 0 && o.UntaxedRate == "" {
		bad("mapping.vat", "empty: every line of a retail sales report needs BAS's VAT rate; map your Checkbox tax codes here, or set bas.odata.untaxed_rate")
	}
	if len(o.Registers) == 0 {
		bad("bas.odata.registers", "required with sales.to %s: each Checkbox cash register's till in BAS", c.Sales.To)
	}
	seen := map[string]bool{}
	for i, r := range o.Registers {
		key := fmt.Sprintf("bas.odata.registers[%d]", i)
		switch id := strings.ToLower(strings.TrimSpace(r.Checkbox)); {
		case id == "":
			bad(key+".checkbox", "required: the register's Checkbox id or fiscal number")
		case seen[id]:
			bad(key+".checkbox", "%q is mapped twice", r.Checkbox)
		default:
			seen[id] = true
		}
		if strings.TrimSpace(r.Till) == "" {
			bad(key+".till", "required: BAS's till (Каса ККМ) by code, name or Ref_Key")
		}
		if len([]rune(r.CardKind)) > 50 {
			bad(key+".card_kind", "%q: at most 50 characters (ВидПлатежнойКарты)", r.CardKind)
		}
	}
}

// validRate accepts what exchange.findRate reads: a whole percent, «без ПДВ», or nothing.
func validRate(s string) bool {
	s = strings.ToLower(strings.TrimSuffix(strings.ReplaceAll(strings.TrimSpace(s), " ", ""), "%"))
	if s == "" || s == "безпдв" || s == "безндс" {
		return true
	}
	n, err := strconv.Atoi(s)
	return err == nil && n >= 0 && n <= 100
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// basODataWarnings are the warnings about the reports channel.
func (c *Config) basODataWarnings() []string {
	var w []string
	if c.Sales.To == SalesToBoth {
		w = append(w, "sales.to is both: every sale reaches BAS twice, as a customer order (orders file) and in its shift's retail "+
			"sales report; only the report moves stock and revenue, so do not also ship or pay the orders in BAS")
	}
	if c.RetailReports() && !c.BAS.OData.Post {
		w = append(w, "bas.odata.post is false: the retail sales reports reach BAS unposted, and move no stock until staff post them")
	}
	if c.RetailReports() && c.BAS.OData.Emulator {
		w = append(w, "bas.odata.emulator is true: the retail sales reports go to obmin's built-in BAS emulator, not to BAS")
	}
	return w
}

func (o BASOData) redacted() BASOData {
	if o.Password != "" {
		o.Password = "***"
	}
	return o
}
