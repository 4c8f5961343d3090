package basodata

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/sirupsen/logrus"

	"obmin/internal/quietlog"
)

// Config configures a Client. Zero fields take the defaults named beside them.
type Config struct {
	// BaseURL is the service root, e.g. http://bas/base/odata/standard.odata (docs/bas-odata.md §2).
	BaseURL string
	// User and Password are the OData user's (Basic authentication). The caller reads the password from
	// the environment or a file; it is never logged and never part of an error.
	User, Password string

	HTTPClient *http.Client   // default: a client with a 60 s timeout
	Location   *time.Location // the base's time zone, default Europe/Kyiv

	PageSize                int           // $top of list pages, default 500
	MaxAttempts             int           // first try plus retries of idempotent calls, default 5
	BaseBackoff, MaxBackoff time.Duration // default 500 ms and 30 s; full jitter

	// Logger receives request and retry records; default: discard.
	Logger *logrus.Entry
}

// Client talks to one base's standard OData interface. Safe for concurrent use.
type Client struct {
	base                    string // service root without the trailing slash
	user, password          string
	http                    *http.Client
	loc                     *time.Location
	pageSize                int
	maxAttempts             int
	baseBackoff, maxBackoff time.Duration
	log                     *logrus.Entry

	sleep  func(ctx context.Context, d time.Duration) error // seam for tests
	jitter func(time.Duration) time.Duration
}

// New checks cfg and returns a client; it makes no request.
func New(cfg Config) (*Client, error) {
	u, err := url.Parse(cfg.BaseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("BAS OData: service root %q: want http(s)://host/<base>/odata/standard.odata", cfg.BaseURL)
	}
	if u.User != nil {
		return nil, errors.New("BAS OData: the service root must not carry a user or password; give them separately")
	}
	if cfg.User == "" || cfg.Password == "" {
		return nil, errors.New("BAS OData: user and password are required (the OData user, docs/bas-odata.md §2)")
	}
	c := &Client{
		base: strings.TrimRight(cfg.BaseURL, "/"), user: cfg.User, password: cfg.Password,
		http: cfg.HTTPClient, loc: cfg.Location, pageSize: cfg.PageSize, maxAttempts: cfg.MaxAttempts,
		baseBackoff: cfg.BaseBackoff, maxBackoff: cfg.MaxBackoff, log: cfg.Logger,
		sleep: sleepCtx, jitter: fullJitter,
	}
	if c.http == nil {
		c.http = &http.Client{Timeout: 60 * time.Second}
	}
	if c.loc == nil {
		c.loc = kyiv
	}
	if c.pageSize <= 0 {
		c.pageSize = 500
	}
	if c.maxAttempts <= 0 {
		c.maxAttempts = 5
	}
	if c.baseBackoff <= 0 {
		c.baseBackoff = 500 * time.Millisecond
	}
	if c.maxBackoff < c.baseBackoff {
		c.maxBackoff = max(30*time.Second, c.baseBackoff)
	}
	c.log = quietlog.Or(c.log)
	return c, nil
}

// Location is the base's time zone.
func (c *Client) Location() *time.Location { return c.loc }

// request is one call. path is relative to the service root and already escaped.
type request struct {
	method, path string
	query        string
	body         any
	header       http.Header
	once         bool // never repeated: a create, whose effect is settled by a look-up instead
}

// shown is the path as people read it in errors and logs: Cyrillic names unescaped.
func (r request) shown() string {
	if p, err := url.PathUnescape(r.path); err == nil {
		return p
	}
	return r.path
}

// do sends r and decodes a 2xx answer into out (when not nil), repeating idempotent calls on retryable
// failures with exponential back-off and full jitter.
func (c *Client) do(ctx context.Context, r request, out any) error {
	var body []byte
	if r.body != nil {
		var err error
		if body, err = json.Marshal(r.body); err != nil {
			return fmt.Errorf("BAS OData: encode %s %s: %w", r.method, r.shown(), err)
		}
	}
	attempts := c.maxAttempts
	if r.once {
		attempts = 1
	}
	for n := 1; ; n++ {
		err := c.send(ctx, r, body, out)
		if err == nil || ctx.Err() != nil || !IsRetryable(err) {
			return err
		}
		if n >= attempts {
			if n > 1 {
				return fmt.Errorf("%w (gave up after %d attempts)", err, n)
			}
			return err
		}
		wait := backoff(n, c.baseBackoff, c.maxBackoff, c.jitter)
		c.log.WithFields(logrus.Fields{"method": r.method, "path": r.shown(), "attempt": n, "wait": wait.String(), "error": err.Error()}).
			Warn("BAS OData request failed; retrying")
		if serr := c.sleep(ctx, wait); serr != nil {
			return fmt.Errorf("%w (stopped waiting to retry: %w)", err, serr)
		}
	}
}

// maxBody caps an answer: a page of 500 catalogue items with every property is a few MB.
const maxBody = 64 << 20

func (c *Client) send(ctx context.Context, r request, body []byte, out any) error {
	u := c.base + "/" + r.path
	if r.query != "" {
		u += "?" + r.query
	}
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, r.method, u, rd)
	if err != nil {
		return fmt.Errorf("BAS OData: %s %s: %w", r.method, r.shown(), err)
	}
	req.SetBasicAuth(c.user, c.password)
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, vs := range r.header {
		req.Header[k] = vs
	}
	start := time.Now()
	resp, err := c.http.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("BAS OData: %s %s: %w", r.method, r.shown(), ctx.Err())
		}
		// net/http's error names the URL, never the Authorization header.
		return &transportError{fmt.Errorf("BAS OData: %s %s: %w", r.method, r.shown(), err)}
	}
	defer func() {
		io.Copy(io.Discard, io.LimitReader(resp.Body, maxErrorBody))
		resp.Body.Close()
	}()
	c.log.WithFields(logrus.Fields{"method": r.method, "path": r.shown(), "status": resp.StatusCode, "took": time.Since(start).String()}).
		Debug("BAS OData request")
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return newError(resp, r.method, r.shown())
	}
	if out == nil {
		return nil
	}
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxBody+1))
	if err != nil {
		return &transportError{fmt.Errorf("BAS OData: %s %s: read answer: %w", r.method, r.shown(), err)}
	}
	if len(raw) > maxBody {
		return fmt.Errorf("BAS OData: %s %s: answer larger than %d bytes", r.method, r.shown(), maxBody)
	}
	if sink, ok := out.(*rawSink); ok {
		err = sink.read(bytes.NewReader(raw))
	} else {
		err = json.Unmarshal(raw, out)
	}
	if err != nil {
		return fmt.Errorf("BAS OData: %s %s: decode answer: %w", r.method, r.shown(), err)
	}
	return nil
}

// List calls fn for every object of set that q selects, page by page ($top/$skip, ordered by
// q.OrderBy or else Ref_Key). It stops at an empty page rather than a short one: a server may cap its
// pages below $top. out is a fresh value per page that fn decodes from.
func List[T any](ctx context.Context, c *Client, set string, q Query, fn func(T) error) error {
	if q.Top <= 0 {
		q.Top = c.pageSize
	}
	if q.OrderBy == "" {
		q.OrderBy = "Ref_Key"
	}
	var lastFirst string
	for page := 0; ; page++ {
		var out struct {
			Value []json.RawMessage `json:"value"`
		}
		if err := c.do(ctx, request{method: http.MethodGet, path: url.PathEscape(set), query: q.encode()}, &out); err != nil {
			return err
		}
		if len(out.Value) == 0 {
			return nil
		}
		if first := string(out.Value[0]); page > 0 && first == lastFirst {
			return fmt.Errorf("BAS OData: %s: the server repeats the same page; it ignores $skip", set)
		} else {
			lastFirst = first
		}
		for _, raw := range out.Value {
			var v T
			if err := json.Unmarshal(raw, &v); err != nil {
				return fmt.Errorf("BAS OData: %s: decode: %w", set, err)
			}
			if err := fn(v); err != nil {
				return err
			}
		}
		q.Skip += len(out.Value)
	}
}

// Get reads one object of set by its Ref_Key into out. A missing object is ErrNotFound.
func (c *Client) Get(ctx context.Context, set, ref string, sel []string, out any) error {
	if err := checkRef(set+" key", ref); err != nil {
		return err
	}
	q := Query{Select: sel}
	return c.do(ctx, request{method: http.MethodGet, path: entityPath(set, ref), query: q.encode()}, out)
}

// backoff is the wait before retry n: full jitter over min(max, base·2^(n-1)).
func backoff(n int, base, max time.Duration, jitter func(time.Duration) time.Duration) time.Duration {
	d := base
	for i := 1; i < n && d < max; i++ {
		d *= 2
	}
	return jitter(min(d, max))
}

func fullJitter(d time.Duration) time.Duration {
	if d <= 0 {
		return 0
	}
	return time.Duration(rand.Int64N(int64(d) + 1))
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
