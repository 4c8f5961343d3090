package checkbox

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/sirupsen/logrus"
	"golang.org/x/time/rate"

	"obmin/internal/quietlog"
)

// Config configures a Client. Zero fields take the defaults named beside them.
type Config struct {
	BaseURL string // default "https://api.checkbox.ua"; paths are /api/v1/... (docs/checkbox-rest.md §1)

	// Cashier credentials: login and password, or a PIN code with the cash register's licence key
	// (docs/checkbox-rest.md §3). Login and password win when both are set.
	Login, Password     string
	PINCode, LicenseKey string

	ClientName    string       // X-Client-Name, default "obmin" (docs/checkbox-rest.md §2.1: the wiki calls it mandatory)
	ClientVersion string       // X-Client-Version, default "dev"
	HTTPClient    *http.Client // default: a client with a 30 s timeout

	RequestsPerSecond float64 // client-side rate limit, default 5 (docs/checkbox-rest.md §9: no documented server limit)

	MaxAttempts             int           // first try plus retries, default 5
	BaseBackoff, MaxBackoff time.Duration // default 500 ms and 30 s; full jitter

	// Logger receives request and retry records. Tokens, passwords, PINs and licence keys are never
	// logged. Default: discard.
	Logger *logrus.Entry
	Clock  func() time.Time // default time.Now
}

// Client talks to the Checkbox REST API as one cashier. It is safe for concurrent use: every caller
// shares one access token, and at most one sign-in runs at a time.
type Client struct {
	base                             string
	login, password, pin, licenseKey string
	clientName, clientVersion        string
	http                             *http.Client
	limiter                          *rate.Limiter
	maxAttempts                      int
	baseBackoff, maxBackoff          time.Duration
	log                              *logrus.Entry
	now                              func() time.Time

	// Seams for tests: waiting between retries and polls, the back-off jitter, the answer size cap.
	sleep   func(ctx context.Context, d time.Duration) error
	jitter  func(time.Duration) time.Duration
	maxBody int64

	signing chan struct{} // held during a sign-in; a channel so that waiting for it honours ctx
	mu      sync.Mutex    // guards token and expiry
	token   string
	expiry  time.Time // zero when the token carries no exp claim
}

// maxBody caps a successful answer; a page of 1000 goods or 100 receipts is far smaller.
const maxBody = 32 << 20

// New checks cfg and returns a client. It makes no request: the cashier signs in on first use.
func New(cfg Config) (*Client, error) {
	hasLogin := cfg.Login != "" && cfg.Password != ""
	hasPIN := cfg.PINCode != "" && cfg.LicenseKey != ""
	if !hasLogin && !hasPIN {
		return nil, errors.New("checkbox: credentials missing: need login and password, or PIN code and licence key")
	}
	c := &Client{
		base:          "https://api.checkbox.ua",
		clientName:    "obmin",
		clientVersion: "dev",
		http:          cfg.HTTPClient,
		maxAttempts:   5,
		baseBackoff:   500 * time.Millisecond,
		maxBackoff:    30 * time.Second,
		log:           cfg.Logger,
		now:           cfg.Clock,
		sleep:         sleepCtx,
		jitter:        fullJitter,
		maxBody:       maxBody,
		signing:       make(chan struct{}, 1),
	}
	if hasLogin {
		c.login, c.password = cfg.Login, cfg.Password
	} else {
		c.pin = cfg.PINCode
	}
	c.licenseKey = cfg.LicenseKey // also names the cash register whose webhook SetWebhook sets
	if cfg.BaseURL != "" {
		u, err := url.Parse(cfg.BaseURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, fmt.Errorf("checkbox: base URL %q: want http(s)://host", cfg.BaseURL)
		}
		c.base = strings.TrimRight(cfg.BaseURL, "/")
	}
	if cfg.ClientName != "" {
		c.clientName = cfg.ClientName
	}
	if cfg.ClientVersion != "" {
		c.clientVersion = cfg.ClientVersion
	}
	if c.http == nil {
		c.http = &http.Client{Timeout: 30 * time.Second}
	}
	rps := cfg.RequestsPerSecond
	if rps <= 0 {
		rps = 5
	}
	c.limiter = rate.NewLimiter(rate.Limit(rps), 2)
	if cfg.MaxAttempts > 0 {
		c.maxAttempts = cfg.MaxAttempts
	}
	if cfg.BaseBackoff > 0 {
		c.baseBackoff = cfg.BaseBackoff
	}
	if cfg.MaxBackoff > 0 {
		c.maxBackoff = cfg.MaxBackoff
	}
	if c.maxBackoff < c.baseBackoff {
		c.maxBackoff = c.baseBackoff
	}
	c.log = quietlog.Or(c.log)
	if c.now == nil {
		c.now = time.Now
	}
	return c, nil
}

// request describes one API call; do sends it, retrying as needed.
type request struct {
	method, path string // path already escaped, e.g. "/api/v1/goods/by-code/" + url.PathEscape(code)
	query        url.Values
	body         []byte
	contentType  string
	header       http.Header // extra headers, e.g. X-License-Key on the PIN sign-in
	auth         bool        // send the cashier token; on 401/403 sign in again once and repeat
	maxAttempts  int         // 0: the client's MaxAttempts

	// settle runs before the request is sent again after a retryable failure (prev), when the earlier
	// try may have taken effect on the server. It returns true when it found that effect (and filled the
	// result itself), so the request is not repeated; an error stops the retries.
	settle func(ctx context.Context, prev error) (bool, error)
}

// jsonRequest is a request carrying v as its JSON body.
func jsonRequest(method, path string, v any) (request, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return request{}, fmt.Errorf("checkbox: encode %s %s: %w", method, path, err)
	}
	return request{method: method, path: path, body: b, contentType: "application/json", auth: true}, nil
}

// do sends r and decodes a successful answer into out (when out is not nil). It retries on
// retryable failures (see IsRetryable) with exponential back-off and full jitter, honouring
// Retry-After, up to the attempt limit; and on 401/403 it signs in again once and repeats the
// request (docs/checkbox-rest.md §2.4: which of the two an expired token gets is not documented).
func (c *Client) do(ctx context.Context, r request, out any) error {
	attempts := r.maxAttempts
	if attempts <= 0 {
		attempts = c.maxAttempts
	}
	reauthed := false
	var unsure error // the failure of the try before, which may have taken effect
	for n := 1; ; {
		tok, err := c.try(ctx, r, out, unsure)
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return err
		}
		var api *APIError
		if tok != "" && !reauthed && errors.As(err, &api) &&
			(api.Status == http.StatusUnauthorized || api.Status == http.StatusForbidden) {
			// The token was refused: a definite "no", so the repeat needs no settling and is not
			// counted as an attempt.
			reauthed, unsure = true, nil
			c.forget(tok)
			c.log.WithFields(logrus.Fields{"method": r.method, "path": r.path, "status": api.Status}).
				Info("Checkbox refused the access token; signing in again")
			continue
		}
		if !IsRetryable(err) {
			return err
		}
		if n >= attempts {
			if n > 1 {
				return fmt.Errorf("%w (gave up after %d attempts)", err, n)
			}
			return err
		}
		unsure = err
		wait := c.retryWait(err, n)
		c.log.WithFields(logrus.Fields{"method": r.method, "path": r.path, "attempt": n, "wait": wait.String(), "error": err.Error()}).
			Warn("Checkbox request failed; retrying")
		if serr := c.sleep(ctx, wait); serr != nil {
			return fmt.Errorf("%w (stopped waiting to retry: %w)", err, serr)
		}
		n++
	}
}

// retryWait is the pause before retry n: the server's Retry-After when it sent one, else back-off.
func (c *Client) retryWait(err error, n int) time.Duration {
	var api *APIError
	if errors.As(err, &api) && api.RetryAfter > 0 {
		return api.RetryAfter
	}
	return backoff(n, c.baseBackoff, c.maxBackoff, c.jitter)
}

// try makes one attempt. It returns the token it sent, empty when it failed before sending one.
func (c *Client) try(ctx context.Context, r request, out any, unsure error) (string, error) {
	if unsure != nil && r.settle != nil {
		done, err := r.settle(ctx, unsure)
		if err != nil || done {
			return "", err
		}
	}
	var tok string
	if r.auth {
		var err error
		if tok, err = c.bearer(ctx); err != nil {
			return "", err
		}
	}
	return tok, c.send(ctx, r, tok, out)
}

// send makes one HTTP exchange.
func (c *Client) send(ctx context.Context, r request, tok string, out any) error {
	if err := c.limiter.Wait(ctx); err != nil {
		// rate.Limiter says "would exceed context deadline" without wrapping any error.
		cause := ctx.Err()
		if cause == nil {
			cause = context.DeadlineExceeded
		}
		return fmt.Errorf("checkbox: %s %s: waiting for the rate limit: %w", r.method, r.path, cause)
	}
	u := c.base + r.path
	if len(r.query) > 0 {
		u += "?" + r.query.Encode()
	}
	var body io.Reader
	if r.body != nil {
		body = bytes.NewReader(r.body)
	}
	req, err := http.NewRequestWithContext(ctx, r.method, u, body)
	if err != nil {
		return fmt.Errorf("checkbox: %s %s: %w", r.method, r.path, err)
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("X-Client-Name", c.clientName)
	req.Header.Set("X-Client-Version", c.clientVersion)
	if r.contentType != "" {
		req.Header.Set("Content-Type", r.contentType)
	}
	for k, vs := range r.header {
		req.Header[k] = vs
	}
	if tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}

	start := c.now()
	resp, err := c.http.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("checkbox: %s %s: %w", r.method, r.path, ctx.Err())
		}
		return &transportError{fmt.Errorf("checkbox: %s %s: %w", r.method, r.path, err)}
	}
	defer func() {
		io.Copy(io.Discard, io.LimitReader(resp.Body, maxErrorBody)) // lets the connection be reused
		resp.Body.Close()
	}()
	c.log.WithFields(logrus.Fields{"method": r.method, "path": r.path, "status": resp.StatusCode, "took": c.now().Sub(start).String()}).
		Debug("Checkbox request")

	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return newAPIError(resp, r.method, r.path, c.now())
	}
	if out == nil {
		return nil
	}
	raw, err := io.ReadAll(io.LimitReader(resp.Body, c.maxBody+1))
	if err != nil {
		return &transportError{fmt.Errorf("checkbox: %s %s: read answer: %w", r.method, r.path, err)}
	}
	if int64(len(raw)) > c.maxBody {
		return fmt.Errorf("checkbox: %s %s: answer larger than %d bytes", r.method, r.path, c.maxBody)
	}
	if err := json.Unmarshal(raw, out); err != nil {
		return fmt.Errorf("checkbox: %s %s: decode answer: %w", r.method, r.path, err)
	}
	return nil
}
