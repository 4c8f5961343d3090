package staff

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"obmin/checkbox"
	"obmin/exchange"
	"obmin/internal/voice"
	"obmin/reconcile"
	"obmin/store"
)

// base is what every page has.
type base struct {
	Lang     string
	Other    string // the other language, for the switch
	Now      time.Time
	Emulated bool
}

func (p *Page) base(lang string) base {
	other := "en"
	if lang == "en" {
		other = "uk"
	}
	return base{Lang: lang, Other: other, Now: p.cfg.Now(), Emulated: p.agent.CheckboxEmulated()}
}

type confirmView struct {
	base
	Action, ID, CSRF string
	Question, Effect string
}

// pageView is the staff page.
type pageView struct {
	base
	Flash     *flash
	Status    exchange.Status
	Links     []linkView
	Failed    []failedView
	Drops     []dropView
	Held      []heldView
	Reports   []HeldReport
	ReportErr string
	Runs      []runView // the last pulls and deliveries
	Next      []nextView
	Reconcile *reconcile.Report
	Running   string // a reconciliation running for this day
	RecDay    string // the day "run again" reconciles
	Actions   []actionView
}

type linkView struct {
	Name, Since, Error string
	Known, Up          bool
}

type failedView struct {
	ID, Since, Text string
	Empty           bool // refused before its files were taken: nothing to put back
}

type dropView struct {
	ID, State, When, Reason string
}

type heldView struct {
	ID, Fiscal, When, Sum, Reason string
}

type runView struct {
	Job, When, Result string
	OK                bool
}

type nextView struct{ Job, At string }

type actionView struct {
	When, Who, What, Target, Result string
	OK                              bool
}

// jobNames are the jobs' names as staff read them.
func jobName(lang, job string) string { return tr(lang, "job."+job) }

func (p *Page) page(w http.ResponseWriter, r *http.Request) {
	lang := p.lang(w, r)
	ctx := r.Context()
	v, err := p.view(ctx, lang)
	if err != nil {
		http.Error(w, tr(lang, "unavailable")+" "+voice.Explain(err.Error()), http.StatusInternalServerError)
		return
	}
	if k := r.URL.Query().Get("note"); k != "" {
		if f, ok := p.takeFlash(k); ok {
			v.Flash = &f
		}
	}
	p.render(w, "page.html", v)
}

func (p *Page) view(ctx context.Context, lang string) (pageView, error) {
	a := p.agent
	v := pageView{base: p.base(lang)}
	var err error
	if v.Status, err = a.Snapshot(ctx); err != nil {
		return v, err
	}
	for _, l := range p.cfg.Links {
		known, since, lastErr := l.Link.State()
		lv := linkView{Name: l.Name, Known: known, Up: known && since.IsZero()}
		if !since.IsZero() {
			lv.Since, lv.Error = voice.Time(since), voice.Explain(lastErr)
		}
		v.Links = append(v.Links, lv)
	}
	if v.Failed, err = p.failed(ctx); err != nil {
		return v, err
	}
	drops, err := a.RecentDrops(ctx, 15)
	if err != nil {
		return v, err
	}
	for _, d := range drops {
		reason, _, _ := strings.Cut(d.Error, "\n")
		v.Drops = append(v.Drops, dropView{ID: d.ID, State: tr(lang, "state."+string(d.State)), When: voice.Time(d.UpdatedAt), Reason: voice.Explain(reason)})
	}
	err = a.HeldReceipts(ctx, func(rec store.ReceiptRecord) error {
		var cr checkbox.Receipt
		_ = json.Unmarshal(rec.Raw, &cr)
		v.Held = append(v.Held, heldView{ID: rec.ID, Fiscal: cr.FiscalCode, When: voice.Time(rec.When), Sum: exchange.UAH(rec.TotalSum).StringFixed(2), Reason: rec.Reason})
		return nil
	})
	if err != nil {
		return v, err
	}
	if p.cfg.HeldReports != nil {
		if v.Reports, err = p.cfg.HeldReports(ctx); err != nil {
			v.ReportErr = voice.Explain(err.Error())
		}
	}
	hist, err := a.JobHistory(ctx, 0)
	if err != nil {
		return v, err
	}
	pulls, drops2, reports := 0, 0, 0
	for _, j := range hist {
		switch {
		case j.Name == "pull-receipts" && pulls < 5:
			pulls++
		case j.Name == "retail-reports" && reports < 5:
			reports++
		case j.Name == "drops" && drops2 < 5:
			drops2++
		case j.Name == exchange.StaffJob && len(v.Actions) < 10:
			var act exchange.StaffAction
			_ = json.Unmarshal([]byte(j.Summary), &act)
			v.Actions = append(v.Actions, actionView{When: voice.Time(j.End), Who: act.Who, What: tr(lang, "act."+act.What), Target: act.Target, Result: act.Result, OK: j.Err == ""})
			continue
		default:
			continue
		}
		v.Runs = append(v.Runs, p.run(lang, j))
	}
	for job, at := range a.NextRuns() {
		v.Next = append(v.Next, nextView{Job: jobName(lang, job), At: voice.Time(at)})
	}
	sort.Slice(v.Next, func(i, j int) bool { return v.Next[i].At < v.Next[j].At })
	if v.Reconcile, err = reconcile.Latest(a.ReconcileDir()); err != nil {
		return v, err
	}
	v.RecDay = reconcile.Yesterday(v.Now)
	if v.Reconcile != nil {
		v.RecDay = v.Reconcile.Date
	}
	p.mu.Lock()
	v.Running = p.running
	p.mu.Unlock()
	return v, nil
}

// run is one job run as staff read it: when, and what it did or why it failed.
func (p *Page) run(lang string, j store.JobRun) runView {
	rv := runView{Job: jobName(lang, j.Name), When: voice.Time(j.End), OK: j.Err == ""}
	if j.Err != "" {
		rv.Result = voice.Explain(j.Err)
		return rv
	}
	var sum map[string]any
	if json.Unmarshal([]byte(j.Summary), &sum) == nil {
		var parts []string
		for _, k := range []string{"new", "pending", "held", "drops", "shifts_closed", "reports_sent"} {
			if n, ok := sum[k].(float64); ok {
				parts = append(parts, tr(lang, "sum."+k)+" "+strings.TrimSuffix(strings.TrimSuffix(jsonNumber(n), ".0"), ".00"))
			}
		}
		rv.Result = strings.Join(parts, ", ")
	}
	if rv.Result == "" {
		rv.Result = tr(lang, "ok")
	}
	return rv
}

func jsonNumber(n float64) string {
	b, _ := json.Marshal(n)
	return string(b)
}

// failed lists failed/ with each drop's reason as its .error.txt gives it.
func (p *Page) failed(ctx context.Context) ([]failedView, error) {
	a := p.agent
	ids, err := a.FailedDrops()
	if err != nil {
		return nil, err
	}
	var out []failedView
	for _, id := range ids {
		fv := failedView{ID: id}
		if rec, ok, err := a.Drop(ctx, id); err != nil {
			return nil, err
		} else if ok {
			fv.Since = voice.Time(rec.UpdatedAt)
		}
		if b, err := os.ReadFile(filepath.Join(a.FailedDir(), id+".error.txt")); err == nil {
			text := strings.TrimPrefix(strings.ReplaceAll(string(b), "\r\n", "\n"), "\ufeff")
			if _, reason, ok := strings.Cut(text, "Причина:\n"); ok {
				text = reason
			}
			fv.Text = strings.TrimSpace(text)
		}
		entries, _ := os.ReadDir(filepath.Join(a.FailedDir(), id))
		fv.Empty = len(entries) == 0
		out = append(out, fv)
	}
	return out, nil
}
