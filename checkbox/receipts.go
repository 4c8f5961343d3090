package checkbox

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

const (
	maxReceiptsLimit      = 100  // /receipts/search page limit in 2.105.1 (docs/checkbox-rest.md §2.3, §11)
	maxCashRegistersLimit = 1000 // /cash-registers page limit (docs/checkbox-rest.md §2.3)
)

// queryTimeLayout writes a moment with an explicit numeric offset and at most microseconds: the
// server's default zone for offset-less values is unknown (docs/checkbox-rest.md §12.3), and Python's
// date-time parsing stops at microseconds.
const queryTimeLayout = "2006-01-02T15:04:05.999999-07:00"

// ReceiptQuery selects receipts for SearchReceipts.
type ReceiptQuery struct {
	// From is inclusive and To exclusive (docs/checkbox-rest.md §6.1, inferred from the wording); a zero
	// time leaves that end open.
	From, To        time.Time
	CashRegisterIDs []string // none: every register of the organisation
	Desc            bool     // newest first; keep false when paging through a window that may still grow
}

// SearchReceipts calls fn for every receipt matching q, walking GET /api/v1/receipts/search 100 at a
// time until an empty or short page. It sends self_receipts=false: the default true would return only
// the signed-in cashier's receipts (docs/checkbox-rest.md §6.1). When the search answers with the short
// receipt form, each such receipt is fetched whole with Receipt (docs/checkbox-rest.md §6.1). An error from
// fn stops the walk and is returned as is.
func (c *Client) SearchReceipts(ctx context.Context, q ReceiptQuery, fn func(Receipt) error) error {
	v := url.Values{}
	if !q.From.IsZero() {
		v.Set("from_date", q.From.Format(queryTimeLayout))
	}
	if !q.To.IsZero() {
		v.Set("to_date", q.To.Format(queryTimeLayout))
	}
	for _, id := range q.CashRegisterIDs {
		v.Add("cash_register_id", id) // FastAPI lists are repeated keys (docs/checkbox-rest.md §2.3)
	}
	v.Set("desc", strconv.FormatBool(q.Desc))
	v.Set("self_receipts", "false")
	v.Set("limit", strconv.Itoa(maxReceiptsLimit))
	for offset := 0; ; {
		v.Set("offset", strconv.Itoa(offset))
		var page Page[json.RawMessage]
		if err := c.do(ctx, request{method: http.MethodGet, path: "/api/v1/receipts/search", query: v, auth: true}, &page); err != nil {
			return err
		}
		for _, raw := range page.Results {
			r, err := c.wholeReceipt(ctx, raw)
			if err != nil {
				return err
			}
			if err := fn(r); err != nil {
				return err
			}
		}
		if lastPage(page.Meta, len(page.Results), maxReceiptsLimit) {
			return nil
		}
		offset += len(page.Results)
	}
}

// wholeReceipt decodes one search result, fetching the receipt by id when the result is the short
// form (ShortReceiptDTO: no created_at, goods untyped) or does not decode as a ReceiptModel.
func (c *Client) wholeReceipt(ctx context.Context, raw json.RawMessage) (Receipt, error) {
	var probe struct {
		ID        string          `json:"id"`
		CreatedAt json.RawMessage `json:"created_at"`
	}
	if err := json.Unmarshal(raw, &probe); err != nil {
		return Receipt{}, fmt.Errorf("checkbox: receipt search result: %w", err)
	}
	if len(probe.CreatedAt) > 0 && string(probe.CreatedAt) != "null" {
		var r Receipt
		if err := json.Unmarshal(raw, &r); err == nil {
			return r, nil
		}
	}
	if probe.ID == "" {
		return Receipt{}, fmt.Errorf("checkbox: receipt search result without id: %s", snippet(raw))
	}
	return c.Receipt(ctx, probe.ID)
}

// Receipt returns one receipt by its UUID or 11-character short id (GET /api/v1/receipts/{id}).
func (c *Client) Receipt(ctx context.Context, id string) (Receipt, error) {
	var r Receipt
	err := c.do(ctx, request{method: http.MethodGet, path: "/api/v1/receipts/" + url.PathEscape(id), auth: true}, &r)
	return r, err
}

// CashRegisters lists every cash register the cashier's organisation has (GET /api/v1/cash-registers).
func (c *Client) CashRegisters(ctx context.Context) ([]CashRegister, error) {
	var out []CashRegister
	v := url.Values{"limit": {strconv.Itoa(maxCashRegistersLimit)}}
	for offset := 0; ; {
		v.Set("offset", strconv.Itoa(offset))
		var page Page[CashRegister]
		if err := c.do(ctx, request{method: http.MethodGet, path: "/api/v1/cash-registers", query: v, auth: true}, &page); err != nil {
			return nil, err
		}
		out = append(out, page.Results...)
		if lastPage(page.Meta, len(page.Results), maxCashRegistersLimit) {
			return out, nil
		}
		offset += len(page.Results)
	}
}
