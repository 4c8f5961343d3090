package app

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"obmin/internal/demo"
)

// seedDemoBAS fills the built-in BAS emulator with what the demo's BAS exports: the catalogue's goods
// keyed by their Ид, with their stock in the shop.
func seedDemoBAS(a *App, at time.Time) error {
	if a.BASEmulator == nil {
		return nil
	}
	catalogue := demoCatalogue()
	if _, err := a.BASEmulator.SeedExport(demo.Catalog(catalogue, at), demo.Offers(catalogue, at)); err != nil {
		return fmt.Errorf("seed the BAS emulator: %w", err)
	}
	return nil
}

// demoCatalogue is every good the demo's BAS exports: the books and the goods with characteristics.
func demoCatalogue() []demo.Book {
	return append(append([]demo.Book(nil), demo.Books...), demo.Editions...)
}

// demoItem is one line of BAS's stock: a good, or one characteristic of it.
type demoItem struct{ id, char, article, name string }

// demoItems lists the demo catalogue as BAS keeps its stock: per good, and per characteristic of a good
// that has them.
func demoItems() []demoItem {
	var out []demoItem
	for _, b := range demoCatalogue() {
		if len(b.Variants) == 0 {
			out = append(out, demoItem{b.ID, "", b.Article, b.Name})
		}
		for _, v := range b.Variants {
			out = append(out, demoItem{b.ID, v.CharID, b.Article, b.Name + " (" + v.Name + ")"})
		}
	}
	return out
}

// demoStock is the shop's stock in the emulated BAS, by the demo good's Ид (product#characteristic).
func demoStock(a *App) map[string]string {
	out := map[string]string{}
	if a.BASEmulator == nil {
		return out
	}
	shop := a.BASEmulator.Refs().Shop
	for _, it := range demoItems() {
		out[it.id+"#"+it.char] = a.BASEmulator.StockOf(shop, it.id, it.char).String()
	}
	return out
}

// printDemoReports shows the reports the emulated BAS holds, the shifts held back and why, and the
// shop's stock in BAS before and after.
func printDemoReports(w io.Writer, a *App, before map[string]string) error {
	if a.BASEmulator == nil {
		return nil
	}
	p := func(format string, args ...any) { fmt.Fprintf(w, format+"\n", args...) }
	names := map[string]string{}
	for _, b := range demoCatalogue() {
		names[strings.ToLower(b.ID)] = b.Article + " " + b.Name
	}
	for _, r := range a.BASEmulator.Reports() {
		state := "проведено"
		if !r.Posted {
			state = "НЕ проведено"
		}
		p("   Звіт про роздрібні продажі №%s від %s, %s грн, %s", r.Number, r.Date.In(time.UTC).Format("02.01.2006 15:04"), r.Total, state)
		p("     %s", r.Comment)
		for _, row := range r.Stock {
			what := "продано"
			if row.Returned != 0 {
				what = "повернено"
			}
			p("     %-9s %7s × %9s = %9s грн (ПДВ %s)  %s", what, row.Quantity, row.Price, row.Total, row.VAT, names[strings.ToLower(row.Good)])
		}
		for _, c := range r.Cards {
			p("     оплата карткою %s %s: %s грн", c.CardKind, c.CardNumber, c.Sum)
		}
	}
	st, err := a.Agent.Snapshot(context.Background())
	if err != nil {
		return err
	}
	if st.Retail != nil {
		for _, r := range st.Retail.Attention {
			p("   Held back, described in %s: %s", "spool/held-shifts/", r.Reason)
		}
	}
	after := demoStock(a)
	p("   The shop's stock in BAS, before → after the reports:")
	for _, it := range demoItems() {
		if k := it.id + "#" + it.char; before[k] != after[k] {
			p("     %-8s %7s → %-7s %s", it.article, before[k], after[k], it.name)
		}
	}
	return nil
}
