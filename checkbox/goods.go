package checkbox

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
)

// maxGoodsLimit is the goods list's page limit (docs/checkbox-rest.md §2.3).
const maxGoodsLimit = 1000

// leftoversBatch bounds the ids per leftovers-by-id call; the API documents no limit, so stay modest.
const leftoversBatch = 500

// GoodsQuery selects one page of the goods list. Limit 0 means the maximum, 1000.
type GoodsQuery struct {
	Query         string // search text
	Limit, Offset int
}

// Goods returns one page of the catalogue (GET /api/v1/goods, docs/checkbox-rest.md §4.1).
func (c *Client) Goods(ctx context.Context, q GoodsQuery) (Page[Good], error) {
	var page Page[Good]
	if q.Limit < 0 || q.Limit > maxGoodsLimit || q.Offset < 0 {
		return page, fmt.Errorf("checkbox: goods page limit %d offset %d: want limit 0..%d, offset ≥ 0", q.Limit, q.Offset, maxGoodsLimit)
	}
	if q.Limit == 0 {
		q.Limit = maxGoodsLimit
	}
	v := url.Values{}
	if q.Query != "" {
		v.Set("query", q.Query)
	}
	v.Set("limit", strconv.Itoa(q.Limit))
	v.Set("offset", strconv.Itoa(q.Offset))
	err := c.do(ctx, request{method: http.MethodGet, path: "/api/v1/goods", query: v, auth: true}, &page)
	return page, err
}

// AllGoods calls fn for every good of the catalogue, page by page, stopping at the first error.
func (c *Client) AllGoods(ctx context.Context, fn func(Good) error) error {
	for offset := 0; ; {
		page, err := c.Goods(ctx, GoodsQuery{Limit: maxGoodsLimit, Offset: offset})
		if err != nil {
			return err
		}
		for _, g := range page.Results {
			if err := fn(g); err != nil {
				return err
			}
		}
		if lastPage(page.Meta, len(page.Results), maxGoodsLimit) {
			return nil
		}
		offset += len(page.Results)
	}
}

// lastPage tells whether a page ends the list: lists carry no total (docs/checkbox-rest.md §2.3), so an
// empty page or one shorter than its limit is the end. The limit the server reports wins over the
// one asked for, so a server that lowers its maximum does not end the walk early.
func lastPage(meta PageMeta, n, asked int) bool {
	limit := asked
	if meta.Limit > 0 {
		limit = meta.Limit
	}
	return n == 0 || n < limit
}

// Good returns the good with Checkbox id id.
func (c *Client) Good(ctx context.Context, id string) (Good, error) {
	var g Good
	err := c.do(ctx, request{method: http.MethodGet, path: "/api/v1/goods/" + url.PathEscape(id), auth: true}, &g)
	return g, err
}

// GoodByCode returns the good with our code (GET /api/v1/goods/by-code/{code}); errors.Is(err,
// ErrNotFound) when there is none. Codes from BAS may hold "/", spaces or Cyrillic, hence the escaping.
func (c *Client) GoodByCode(ctx context.Context, code string) (Good, error) {
	return c.goodByCode(ctx, code, 0)
}

func (c *Client) goodByCode(ctx context.Context, code string, attempts int) (Good, error) {
	var g Good
	err := c.do(ctx, request{
		method:      http.MethodGet,
		path:        "/api/v1/goods/by-code/" + url.PathEscape(code),
		auth:        true,
		maxAttempts: attempts,
	}, &g)
	return g, err
}

// CreateGood adds a good to the catalogue (POST /api/v1/goods).
//
// Goods creation takes no client-side id (docs/checkbox-rest.md §9), so blindly repeating a POST whose
// answer was lost could create the good twice. Before each repeat CreateGood therefore looks the
// code up, and returns the good it finds instead of sending the POST again.
func (c *Client) CreateGood(ctx context.Context, p GoodPayload) (Good, error) {
	var g Good
	r, err := jsonRequest(http.MethodPost, "/api/v1/goods", p)
	if err != nil {
		return g, err
	}
	r.settle = func(ctx context.Context, _ error) (bool, error) {
		// One lookup per repeat; the surrounding loop retries a failed lookup with back-off.
		found, err := c.goodByCode(ctx, p.Code, 1)
		switch {
		case err == nil:
			g = found
			c.log.WithField("code", p.Code).Info("Checkbox had created the good before the answer was lost; not sending it again")
			return true, nil
		case errors.Is(err, ErrNotFound):
			return false, nil
		default:
			return false, fmt.Errorf("checkbox: look up good %q before sending it again: %w", p.Code, err)
		}
	}
	err = c.do(ctx, r, &g)
	return g, err
}

// UpdateGood edits the good with Checkbox id id (PUT /api/v1/goods/{id}, a partial update by schema;
// this client sends every field of p). Repeating a PUT is harmless, so it retries freely.
func (c *Client) UpdateGood(ctx context.Context, id string, p GoodPayload) (Good, error) {
	var g Good
	r, err := jsonRequest(http.MethodPut, "/api/v1/goods/"+url.PathEscape(id), p)
	if err != nil {
		return g, err
	}
	err = c.do(ctx, r, &g)
	return g, err
}

// DeleteGood removes the good with Checkbox id id. Its answer is {"ok": bool} (docs/checkbox-rest.md §4.1).
func (c *Client) DeleteGood(ctx context.Context, id string) error {
	var answer struct {
		OK *bool `json:"ok"`
	}
	path := "/api/v1/goods/" + url.PathEscape(id)
	if err := c.do(ctx, request{method: http.MethodDelete, path: path, auth: true}, &answer); err != nil {
		return err
	}
	if answer.OK != nil && !*answer.OK {
		return fmt.Errorf("checkbox: DELETE %s: Checkbox answered ok=false", path)
	}
	return nil
}

// Leftovers returns the stock of the given goods by Checkbox id (POST /api/v1/goods/leftovers-by-id).
// The answer is a list of {"<id>": count} objects (docs/checkbox-rest.md §5); the unit of count is not
// documented (§12.5; probably thousandths, as on GoodModel.count). Goods missing from the answer are
// missing from the map.
func (c *Client) Leftovers(ctx context.Context, goodIDs []string) (map[string]int64, error) {
	out := make(map[string]int64, len(goodIDs))
	for start := 0; start < len(goodIDs); start += leftoversBatch {
		ids := goodIDs[start:min(start+leftoversBatch, len(goodIDs))]
		r, err := jsonRequest(http.MethodPost, "/api/v1/goods/leftovers-by-id", struct {
			GoodIDs []string `json:"good_ids"`
		}{ids})
		if err != nil {
			return nil, err
		}
		var answer []map[string]flexInt
		if err := c.do(ctx, r, &answer); err != nil {
			return nil, err
		}
		for _, m := range answer {
			for id, n := range m {
				out[id] = int64(n)
			}
		}
	}
	return out, nil
}
