package checkbox

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/shopspring/decimal"
	"github.com/sirupsen/logrus"
)

// Goods import task statuses (docs/checkbox-rest.md §4.1): the upload is checked until "completed" (or
// "error"); apply_changes then runs it until "done" (or "error"). Other statuses mean "still working".
const (
	importCompleted = "completed"
	importDone      = "done"
	importError     = "error"
)

// ImportFile is the JSON goods file of the bulk import (docs/checkbox-rest.md §4.4), also the shape of the
// JSON export. Units differ from the REST API: prices are decimal hryvnia strings and taxes are letters.
type ImportFile struct {
	Goods    []ImportGood `json:"goods"`
	Branches any          `json:"branches"` // null in every known file
}

// ImportGood is one good of an ImportFile. Every key is written, as in Checkbox's own files.
type ImportGood struct {
	Name     string `json:"good_name"`
	Code     string `json:"code"`
	Group    string `json:"group"`    // group name; Checkbox creates a missing group
	Barcode  string `json:"barcode"`  // main barcode
	Barcodes string `json:"barcodes"` // all barcodes, separated by commas
	Price    string `json:"price"`    // hryvnia with two decimals, e.g. "51.00"
	IsWeight bool   `json:"is_weight"`
	Type     string `json:"type"`  // "good" | "service"
	Taxes    string `json:"taxes"` // tax letters separated by spaces, e.g. "А" or "Б Е"
	// Leftovers is the stock to set, in pieces or kilograms (a decimal number; null leaves stock
	// alone). Replace-or-add semantics are not documented (docs/checkbox-rest.md §5, §12.5).
	Leftovers *decimal.Decimal `json:"leftovers"`
	Uktzed    string           `json:"uktzed"`
}

// MarshalJSON writes Leftovers as a JSON number: decimal.Decimal alone would write a string, and
// Checkbox's files carry a number or null.
func (g ImportGood) MarshalJSON() ([]byte, error) {
	type plain ImportGood
	out := struct {
		plain
		Leftovers json.RawMessage `json:"leftovers"`
	}{plain: plain(g), Leftovers: json.RawMessage("null")}
	if g.Leftovers != nil {
		out.Leftovers = json.RawMessage(g.Leftovers.String())
	}
	return json.Marshal(out)
}

// ImportOptions tunes ImportGoods.
type ImportOptions struct {
	AutoSupply              bool // auto_supply: give goods without a supply one, so leftovers apply
	IgnoreBarcodeDuplicates bool // ignore_barcode_duplicates
	// PollInterval is the longest wait between task status checks, default 1 s (the Python SDK waits
	// 0.75 s, docs/checkbox-rest.md §9). Polling starts at FirstPoll and doubles up to it, so a small import
	// is seen done in a fraction of a second and a long one costs few calls.
	PollInterval time.Duration
	Timeout      time.Duration // for the whole import, default 15 minutes
}

// FirstPoll is the first wait for an import task's status; each later wait doubles, up to
// ImportOptions.PollInterval.
const FirstPoll = 100 * time.Millisecond

// ImportResult is the final state of an import task.
type ImportResult struct {
	TaskID         string
	Status         string
	TotalItems     int
	ProcessedItems int
	Errors         []ImportIssue // row problems Checkbox reported, from either stage
}

// ImportIssue is one problem Checkbox found in an import file (OperationErrorModel).
type ImportIssue struct {
	Message string `json:"error"`
	Address string `json:"address"` // where in the file, e.g. a row
}

// ImportError is returned when an import task ends in "error" or reports problems with some rows.
type ImportError struct {
	TaskID string
	Status string
	Errors []ImportIssue
}

func (e *ImportError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "checkbox: goods import task %s ended with status %q", e.TaskID, e.Status)
	if len(e.Errors) == 0 && e.Status == importError {
		b.WriteString(" and no details")
	}
	for i, is := range e.Errors {
		if i == 0 {
			b.WriteString(": ")
		} else {
			b.WriteString("; ")
		}
		if is.Address != "" {
			b.WriteString(is.Address)
			b.WriteString(": ")
		}
		b.WriteString(is.Message)
	}
	return b.String()
}

// importStatus is CheckStatusResponseSchema.
type importStatus struct {
	TaskID         string        `json:"task_id"`
	Status         string        `json:"status"`
	TotalItems     int           `json:"total_items"`
	ProcessedItems int           `json:"processed_items"`
	Errors         []ImportIssue `json:"errors"`
}

// ImportGoods runs a goods import, the only documented way to write stock (docs/checkbox-rest.md §4.4, §5):
// upload file as JSON (multipart field "file"), wait until Checkbox has checked it, apply the
// changes, and wait until they are done. It returns an *ImportError when the task fails or reports
// problems with rows; the result is filled in either case.
func (c *Client) ImportGoods(ctx context.Context, file ImportFile, opts ImportOptions) (ImportResult, error) {
	if len(file.Goods) == 0 {
		return ImportResult{}, errors.New("checkbox: goods import: the file has no goods")
	}
	if opts.PollInterval <= 0 {
		opts.PollInterval = time.Second
	}
	if opts.Timeout <= 0 {
		opts.Timeout = 15 * time.Minute
	}
	ctx, cancel := context.WithTimeout(ctx, opts.Timeout)
	defer cancel()

	body, ctype, err := multipartFile(file)
	if err != nil {
		return ImportResult{}, err
	}
	// Repeating the upload is safe: an upload whose answer was lost leaves at most an unapplied task.
	var task importStatus
	err = c.do(ctx, request{
		method: http.MethodPost,
		path:   "/api/v1/goods/import/upload",
		query: url.Values{
			"ignore_barcode_duplicates": {strconv.FormatBool(opts.IgnoreBarcodeDuplicates)},
			"auto_supply":               {strconv.FormatBool(opts.AutoSupply)},
		},
		body:        body,
		contentType: ctype,
		auth:        true,
	}, &task)
	if err != nil {
		return ImportResult{}, fmt.Errorf("checkbox: goods import: upload: %w", err)
	}
	if task.TaskID == "" {
		return ImportResult{}, errors.New("checkbox: goods import: upload answer has no task_id")
	}
	log := c.log.WithFields(logrus.Fields{"task": task.TaskID, "goods": len(file.Goods)})
	log.Info("Goods import uploaded to Checkbox")

	checked, err := c.waitImport(ctx, task.TaskID, opts.PollInterval, importCompleted)
	if err != nil {
		return ImportResult{TaskID: task.TaskID}, err
	}
	final := checked
	if checked.Status == importCompleted {
		if err := c.applyImport(ctx, task.TaskID, opts.PollInterval); err != nil {
			return result(checked, nil), err
		}
		if final, err = c.waitImport(ctx, task.TaskID, opts.PollInterval, importDone); err != nil {
			return result(checked, nil), err
		}
	}
	res := result(final, checked.Errors)
	if final.Status == importError || len(res.Errors) > 0 {
		return res, &ImportError{TaskID: res.TaskID, Status: res.Status, Errors: res.Errors}
	}
	log.WithField("items", res.ProcessedItems).Info("Goods import done")
	return res, nil
}

// result merges the check stage's row problems into the final status, without repeating them.
func result(st importStatus, earlier []ImportIssue) ImportResult {
	res := ImportResult{TaskID: st.TaskID, Status: st.Status, TotalItems: st.TotalItems, ProcessedItems: st.ProcessedItems}
	seen := make(map[ImportIssue]bool)
	for _, list := range [][]ImportIssue{earlier, st.Errors} {
		for _, is := range list {
			if !seen[is] {
				seen[is] = true
				res.Errors = append(res.Errors, is)
			}
		}
	}
	return res
}

// applySettle is how long a failed apply_changes whose fate is unknown is watched for the task to leave
// "completed" before obmin gives up on the task (it is never applied twice).
const applySettle = 30 * time.Second

// ErrApplyUnknown: apply_changes failed in a way that may have been taken (the answer was lost, or
// Checkbox answered 5xx), and the task still said "completed" after applySettle. The task is not
// applied again; the caller tries the whole import later, working out stock from Checkbox's counts then.
var ErrApplyUnknown = errors.New("goods import: apply_changes may or may not have been taken")

// applyImport commits a checked import. Applying twice might apply the stock twice should leftovers
// add rather than replace (docs/checkbox-rest.md §12.5), so a failed apply is repeated only when it surely was
// not taken: Checkbox refused it before doing anything (429) or the request never left this computer.
// Otherwise obmin watches the task: once it leaves "completed", the first apply was taken. Checkbox
// applies in the background and may still say "completed" for a while after taking one, so a status
// that stays "completed" is not taken for "not applied": after applySettle it is ErrApplyUnknown.
func (c *Client) applyImport(ctx context.Context, taskID string, poll time.Duration) error {
	r := request{
		method: http.MethodPost,
		path:   "/api/v1/goods/import/apply_changes/" + url.PathEscape(taskID),
		auth:   true,
		settle: func(ctx context.Context, prev error) (bool, error) {
			wait, waited := min(FirstPoll, poll), time.Duration(0)
			for {
				st, err := c.importStatus(ctx, taskID, 1)
				if err != nil {
					return false, fmt.Errorf("checkbox: goods import task %s: status before applying again: %w", taskID, err)
				}
				if st.Status != importCompleted {
					return true, nil
				}
				if notTaken(prev) {
					return false, nil
				}
				if waited >= applySettle {
					return false, fmt.Errorf("checkbox: task %s: %w (it failed with: %v); Checkbox still reports the task as checked after %s, "+
						"and applying it again could count stock twice", taskID, ErrApplyUnknown, prev, applySettle)
				}
				if err := c.sleep(ctx, wait); err != nil {
					return false, err
				}
				waited += wait
				wait = min(2*wait, poll)
			}
		},
	}
	if err := c.do(ctx, r, nil); err != nil {
		return fmt.Errorf("checkbox: goods import task %s: apply changes: %w", taskID, err)
	}
	return nil
}

// waitImport polls the task until it reaches want or "error" (or, while waiting for "completed",
// already "done"): first after FirstPoll, then waiting twice as long each time, up to most.
func (c *Client) waitImport(ctx context.Context, taskID string, most time.Duration, want string) (importStatus, error) {
	var last importStatus
	wait := min(FirstPoll, most)
	for {
		err := c.sleep(ctx, wait)
		wait = min(2*wait, most)
		var st importStatus
		if err == nil {
			st, err = c.importStatus(ctx, taskID, 0)
		}
		if err != nil {
			return last, fmt.Errorf("checkbox: goods import task %s: still %q while waiting for %q: %w", taskID, last.Status, want, err)
		}
		last = st
		if st.Status == want || st.Status == importError || st.Status == importDone {
			return st, nil
		}
	}
}

func (c *Client) importStatus(ctx context.Context, taskID string, attempts int) (importStatus, error) {
	var st importStatus
	err := c.do(ctx, request{
		method:      http.MethodGet,
		path:        "/api/v1/goods/import/task_status/" + url.PathEscape(taskID),
		auth:        true,
		maxAttempts: attempts,
	}, &st)
	if err != nil {
		return st, err
	}
	if st.TaskID == "" {
		st.TaskID = taskID
	}
	return st, nil
}

// multipartFile encodes file as the multipart/form-data body of the upload, in the field "file". The
// ".json" file name tells Checkbox the format (it also takes csv and xlsx).
func multipartFile(file ImportFile) ([]byte, string, error) {
	data, err := json.Marshal(file)
	if err != nil {
		return nil, "", fmt.Errorf("checkbox: goods import: encode file: %w", err)
	}
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	h := textproto.MIMEHeader{}
	h.Set("Content-Disposition", `form-data; name="file"; filename="goods.json"`)
	h.Set("Content-Type", "application/json")
	part, err := w.CreatePart(h)
	if err == nil {
		_, err = part.Write(data)
	}
	if err == nil {
		err = w.Close()
	}
	if err != nil {
		return nil, "", fmt.Errorf("checkbox: goods import: build upload: %w", err)
	}
	return buf.Bytes(), w.FormDataContentType(), nil
}
