package app

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"time"

	"github.com/sirupsen/logrus"

	"obmin/basodata"
	basemu "obmin/basodata/emulator"
	"obmin/exchange"
	"obmin/internal/config"
	"obmin/internal/quietlog"
	"obmin/store"
)

// retail wires the retail sales reports (sales.to: retail-report or both): BAS's OData client, or the
// built-in BAS emulator with bas.odata.emulator, and the job. It makes no request.
func (a *App) retail(ctx context.Context, cfg config.Config, log *logrus.Entry, st *store.Store) (*exchange.Retail, error) {
	client, err := a.basClient(ctx, cfg, log)
	if err != nil {
		return nil, err
	}
	return &exchange.Retail{Shifts: a.Client, BAS: client, Store: st, Log: log.WithField("part", "retail"),
		Cfg: retailConfig(cfg, client.Location())}, nil
}

// basClient is the OData client of bas.odata; with bas.odata.emulator it starts the built-in BAS
// emulator on loopback first (a.BASEmulator), holding the base objects only: the demo adds its goods.
func (a *App) basClient(ctx context.Context, cfg config.Config, log *logrus.Entry) (*basodata.Client, error) {
	o := cfg.BAS.OData
	bc := basodata.Config{BaseURL: o.URL, User: o.User, Password: o.Password, HTTPClient: &http.Client{Timeout: o.Timeout},
		Logger: log.WithField("part", "bas-odata")}
	if o.Emulator {
		a.BASEmulator = basemu.New(basemu.Config{User: emuLogin, Password: emuPassword})
		root, err := a.BASEmulator.Serve(ctx, "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("start the BAS OData emulator: %w", err)
		}
		a.closers = append(a.closers, func() error { a.BASEmulator.Close(); return nil })
		bc.BaseURL, bc.User, bc.Password = root, emuLogin, emuPassword
		log.WithField("url", root).Warn("BAS's OData interface is the built-in EMULATOR (bas.odata.emulator: true): no report reaches BAS")
	}
	client, err := basodata.New(bc)
	if err != nil {
		return nil, fmt.Errorf("bas.odata: %w", err)
	}
	return client, nil
}

// retailConfig maps the configuration onto the job's.
func retailConfig(cfg config.Config, loc *time.Location) exchange.RetailConfig {
	o := cfg.BAS.OData
	regs := make([]exchange.RetailRegister, 0, len(o.Registers))
	for _, r := range o.Registers {
		regs = append(regs, exchange.RetailRegister{Checkbox: r.Checkbox, CardKinds: r.CardKinds,
			Till: basodata.TillConfig{Till: r.Till, Store: r.Store, PriceKind: r.PriceKind, Terminal: r.Terminal, CardKind: r.CardKind}})
	}
	// mapping.vat is BAS rate → Checkbox codes; the reports read it the other way, keeping the rate as
	// written ("20", "без ПДВ"): exchange finds BAS's item by its value.
	vat := map[int]string{}
	for rate, codes := range cfg.Mapping.VAT {
		for _, c := range codes {
			vat[c] = rate
		}
	}
	return exchange.RetailConfig{
		Registers: regs, VATCodes: vat, Untaxed: o.UntaxedRate, VATTaxation: o.VATTaxation, KeyMode: o.KeyMode, NoPost: !o.Post,
		FirstScan: cfg.Sales.FirstPull, Recheck: cfg.Sales.Overlap, HeldDir: filepath.Join(cfg.SpoolDir, exchange.HeldShiftsDir), Location: loc,
	}
}

// ODataObjects is what `obmin check` prints: every object the administrator publishes in BAS's standard
// OData interface for the retail sales reports (basodata.Requirements, README's BAS set-up).
func ODataObjects() string {
	var b strings.Builder
	b.WriteString("# BAS's standard OData interface must publish (data processor «Настройка стандартного интерфейса OData»):\n")
	for _, r := range basodata.Requirements() {
		switch r.Kind {
		case basodata.KindObject:
			fmt.Fprintf(&b, "#   %s — %s\n", r.Object, r.Set)
		default:
			fmt.Fprintf(&b, "#     %s\n", r.Object)
		}
	}
	return b.String()
}

// CheckRetail prints, with the retail sales reports on, what BAS must publish, then checks the base:
// $metadata against it, each register's till, store, price kind and terminal, the VAT rates.
func CheckRetail(cfg config.Config, w io.Writer) error {
	if !cfg.RetailReports() {
		return nil
	}
	fmt.Fprint(w, ODataObjects())
	if cfg.BAS.OData.Emulator {
		fmt.Fprintln(w, "# NOTE: bas.odata.emulator is true: the reports go to obmin's built-in BAS emulator; nothing to check")
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*cfg.BAS.OData.Timeout)
	defer cancel()
	a := &App{}
	defer a.Close()
	log := quietlog.Discard()
	client, err := a.basClient(ctx, cfg, log)
	if err != nil {
		return err
	}
	r := &exchange.Retail{BAS: client, Cfg: retailConfig(cfg, client.Location()), Log: log}
	if err := r.Prepare(ctx); err != nil {
		return fmt.Errorf("BAS OData check at %s: %w", cfg.BAS.OData.URL, err)
	}
	fmt.Fprintf(w, "# BAS OData check at %s: every object is published; resolved:\n", cfg.BAS.OData.URL)
	for _, line := range r.Setup() {
		fmt.Fprintf(w, "#   %s\n", line)
	}
	return nil
}
