package exchange

import (
	"context"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"

	"github.com/shopspring/decimal"

	"obmin/commerceml"
	"obmin/feed"
	"obmin/internal/ctxio"
	"obmin/store"
)

// FeedSource describes one marketplace feed a drop may carry (mapping.feeds): which files are it, its
// name, and which field of an offer is the Checkbox code. Each feed is a source of goods of its own: a
// full feed judges only its own goods missing (mapping.missing), and a good BAS exports is never changed
// by a feed (docs/formats.md, "Marketplace feeds").
type FeedSource struct {
	Files     string // a file-name pattern (path.Match, case-insensitive): "rozetka*.xml"
	Name      string // the source's name in reports and in the ledger; "" is made from Files
	CodeField string // CodeFromArticle (vendorCode), CodeFromID (offer id) or CodeFromBarcode; "" is Mapping.CodeField
}

// FeedSourceOf names the source of feed file name and says which field is its code.
func (m Mapping) FeedSourceOf(name string) (source, codeField string) {
	lower := strings.ToLower(name)
	for _, f := range m.Feeds {
		if ok, _ := path.Match(strings.ToLower(f.Files), lower); !ok {
			continue
		}
		source, codeField = f.Name, f.CodeField
		if source == "" {
			source = sourceName(strings.NewReplacer("*", "", "?", "", "[", "", "]", "").Replace(f.Files))
		}
		break
	}
	if source == "" {
		source = sourceName(name)
	}
	if codeField == "" {
		codeField = m.CodeField
	}
	return source, codeField
}

// sourceName makes a feed's name from its file name: lower case, without the extension and the digits
// and separators a generator numbers its files with ("Rozetka_2.xml" → "rozetka").
func sourceName(file string) string {
	s := strings.ToLower(strings.TrimSuffix(file, path.Ext(file)))
	s = strings.TrimRight(s, "0123456789-_. ")
	if s == "" {
		return "feed"
	}
	return s
}

// FeedCode is an offer's code by a code field: vendorCode for "article", the offer id for "id", the first
// valid barcode for "barcode".
func FeedCode(codeField string, o *feed.Offer, barcodes []string) string {
	switch codeField {
	case CodeFromID:
		return strings.TrimSpace(o.ID)
	case CodeFromBarcode:
		if len(barcodes) > 0 {
			return barcodes[0]
		}
		return ""
	default:
		return strings.TrimSpace(o.VendorCode)
	}
}

// feedKeyOf keys a feed offer among a drop's staged goods: its source and id. BAS Ид never start so.
func feedKeyOf(source, id string) string { return feedKey + source + "\x00" + id }

// feedKey starts the key of a feed's row among a drop's staged goods (feedKeyOf); BAS Ид never start so.
const feedKey = "feed:"

// readFeed stages every offer of a marketplace feed as a good of its own. A feed carries no BAS Ид, so
// these goods are recorded by the feed's name and offer id, and a sale of one is held until BAS exports
// the good.
//
// A repeated offer id keeps its first row; the others are reported with their lines. Offers that share a
// code are variants of one model when they share a group_id or differ in their params (sizes on Prom and
// Rozetka): each then becomes a good of its own with a variant code (mapping.variant_code), named after
// the model and the params that set it apart. Offers that share a code and are not variants keep the
// first row; the others are reported.
func (c *Catalog) readFeed(ctx context.Context, dir, name string, st *store.Stage, rep *DropReport) (FileReport, error) {
	f, err := os.Open(filepath.Join(dir, name))
	if err != nil {
		return FileReport{}, fmt.Errorf("open %s: %w", name, err)
	}
	defer f.Close()
	source, codeField := c.Mapping.FeedSourceOf(name)
	sum, err := feed.Read(ctxio.Reader(ctx, f), name, func(o feed.Offer) error {
		g := commerceml.Good{Article: o.VendorCode, Name: o.Title(), Barcodes: o.Barcodes, Line: o.Line}
		s := &staged{good: g, feed: &o, offer: true, stock: o.Quantity, source: source, file: name, line: o.Line}
		if s.stock == nil && o.Available != nil && !*o.Available {
			zero := decimal.Zero // "not available" and no quantity: none to sell
			s.stock = &zero
		}
		s.barcodes, s.badBarcodes = splitBarcodes(s.good.Barcodes)
		s.code = FeedCode(codeField, s.feed, s.barcodes)
		row, err := stageRow(feedKeyOf(source, o.ID), s)
		if err != nil {
			return err
		}
		added, err := st.PutGood(ctx, row, false)
		if err != nil || added {
			return err
		}
		first, _, err := st.Good(ctx, row.Key)
		if err != nil {
			return err
		}
		rep.Refused = append(rep.Refused, fmt.Sprintf("пропозиція %s «%s» (%s, рядок %d): той самий id, що в рядку %d; узято перший рядок", o.ID, o.Title(), name, o.Line, first.Line))
		return nil
	})
	if err != nil {
		return FileReport{}, badInput(err)
	}
	if err := c.feedCodes(ctx, st, source); err != nil {
		return FileReport{}, err
	}
	return FileReport{Name: name, Feed: &sum, Source: source}, nil
}

// feedCodes settles the code and name of every row of one feed: rows sharing a code are made variant
// codes where they are variants of one model; a row sharing a code with an earlier row that is not its
// variant is marked a duplicate (dupLine). Only the rows that share a code or a group are read back.
func (c *Catalog) feedCodes(ctx context.Context, st *store.Stage, source string) error {
	codes, err := st.SharedFeedCodes(ctx, source)
	if err != nil {
		return err
	}
	scheme := c.Mapping.variantScheme()
	for _, code := range codes {
		group, err := feedRows(ctx, st, source, code, false)
		if err != nil {
			return err
		}
		if feedVariants(group) {
			for _, s := range group {
				s.code = variantCode(scheme, code, s.feed.ID, s.feed.ID, s.barcodes)
				s.variant = true
			}
			nameVariants(group)
		} else {
			for _, s := range group[1:] {
				s.dupLine = group[0].feed.Line
			}
		}
		if err := restage(ctx, st, source, group); err != nil {
			return err
		}
	}
	// Offers of one group_id with codes of their own are separate goods already; their names still say
	// which variant each is.
	groups, err := st.SharedFeedGroups(ctx, source)
	if err != nil {
		return err
	}
	for _, gid := range groups {
		group, err := feedRows(ctx, st, source, gid, true)
		if err != nil {
			return err
		}
		nameVariants(group)
		if err := restage(ctx, st, source, group); err != nil {
			return err
		}
	}
	return nil
}

// feedRows reads back the rows of a feed with one code (or group_id).
func feedRows(ctx context.Context, st *store.Stage, source, value string, group bool) ([]*staged, error) {
	rows, err := st.FeedRows(ctx, source, value, group)
	if err != nil {
		return nil, err
	}
	out := make([]*staged, len(rows))
	for i, r := range rows {
		if out[i], err = unstage(r); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// restage writes feed rows back after feedCodes changed them.
func restage(ctx context.Context, st *store.Stage, source string, rows []*staged) error {
	for _, s := range rows {
		row, err := stageRow(feedKeyOf(source, s.feed.ID), s)
		if err == nil {
			err = st.UpdateGood(ctx, row)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// feedVariants says whether offers sharing a code are variants of one model: one group_id, or params
// telling them apart.
func feedVariants(group []*staged) bool {
	gid := group[0].feed.GroupID
	same := gid != ""
	for _, s := range group[1:] {
		same = same && s.feed.GroupID == gid
	}
	return same || len(differingParams(group)) > 0
}

// differingParams are the names of the params whose values differ among the offers, in first-seen order.
func differingParams(group []*staged) []string {
	var names []string
	values := map[string]map[string]bool{}
	for _, s := range group {
		for _, p := range s.feed.Params {
			if values[p.Name] == nil {
				values[p.Name] = map[string]bool{}
				names = append(names, p.Name)
			}
			values[p.Name][p.Value] = true
		}
	}
	var out []string
	for _, n := range names {
		seen := 0
		for _, s := range group {
			if slices.ContainsFunc(s.feed.Params, func(p feed.Param) bool { return p.Name == n }) {
				seen++
			}
		}
		if len(values[n]) > 1 || seen != len(group) {
			out = append(out, n)
		}
	}
	return out
}

// nameVariants names each offer of a group after the model and the values of the params that tell the
// offers apart, unless its name already holds them all: "Футболка (M)".
func nameVariants(group []*staged) {
	diff := differingParams(group)
	for _, s := range group {
		var vals []string
		for _, n := range diff {
			for _, p := range s.feed.Params {
				if p.Name == n && p.Value != "" && !slices.Contains(vals, p.Value) {
					vals = append(vals, p.Value)
				}
			}
		}
		s.good.Name = withValues(s.good.Name, vals)
	}
}

// withValues is "name (v1, v2)", or name when it already mentions every value.
func withValues(name string, vals []string) string {
	var missing []string
	lower := strings.ToLower(name)
	for _, v := range vals {
		if !strings.Contains(lower, strings.ToLower(v)) {
			missing = append(missing, v)
		}
	}
	if len(missing) == 0 {
		return name
	}
	return name + " (" + strings.Join(vals, ", ") + ")"
}

// feedSources are the sources of the full feeds of a drop: a feed lists every offer of its source.
func feedSources(files []FileReport) map[string]bool {
	full := map[string]bool{}
	for _, f := range files {
		if f.Feed != nil && f.Feed.Offers > 0 {
			full[f.Source] = true
		}
	}
	return full
}
