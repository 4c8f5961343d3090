package exchange

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"obmin/drop"
	"obmin/internal/atomicfile"
	"obmin/internal/voice"
	"obmin/store"
)

// Status is a snapshot of obmin's state for staff and monitoring.
type Status struct {
	At        time.Time                  `json:"at"`
	Emulated  bool                       `json:"emulated_checkbox"`
	Spool     map[string]int             `json:"spool"`
	Receipts  map[store.ReceiptState]int `json:"receipts"`
	Goods     int                        `json:"goods"`
	Pushed    int                        `json:"goods_in_checkbox"`
	Jobs      []store.JobRun             `json:"jobs"`
	Drops     []store.DropRecord         `json:"recent_drops"`
	SpoolRoot string                     `json:"spool_root"`
	Orders    string                     `json:"orders_file"`
	// BAS's exchange runs seen in its export folder: in the last 24 hours, and the last one.
	BASRuns    int       `json:"bas_runs_24h"`
	LastBASRun time.Time `json:"last_bas_run,omitempty"`
	Numbers    NumberUse `json:"order_numbers"`
	// Returns listed for staff in the last week, newest first.
	Returns []ReturnNote `json:"returns"`
	// Waiting are the folders of BAS's export that are not drops yet, and why; Problems the configured
	// folders obmin cannot use right now.
	Waiting  []drop.Waiting        `json:"waiting"`
	Problems []store.FolderProblem `json:"folder_problems"`
	// Retail is the state of BAS's retail sales reports; nil when that channel is off.
	Retail *RetailStatus `json:"retail_reports,omitempty"`
}

// Snapshot gathers the status from the spool and the state.
func (a *Agent) Snapshot(ctx context.Context) (Status, error) {
	st := Status{At: a.now(), Emulated: a.Emulated, SpoolRoot: a.Spool.Root, Orders: a.Sales.Cfg.OrdersFile}
	if a.Sales.Cfg.Out != nil {
		st.Orders = a.Sales.Cfg.OrdersFile + " у " + a.Sales.Cfg.Out.String()
	}
	var err error
	if st.Spool, err = a.Spool.Counts(); err != nil {
		return st, err
	}
	if st.Receipts, err = a.Store.ReceiptCounts(ctx); err != nil {
		return st, err
	}
	if st.Goods, st.Pushed, err = a.Store.CountGoods(ctx); err != nil {
		return st, err
	}
	for _, name := range []string{"drops", "pull-receipts", "retail-reports", "retention", "reconcile"} {
		if j, ok, err := a.Store.LastJob(ctx, name); err != nil {
			return st, err
		} else if ok {
			st.Jobs = append(st.Jobs, j)
		}
	}
	if st.Drops, err = a.Store.RecentDrops(ctx, 10); err != nil {
		return st, err
	}
	if st.BASRuns, st.LastBASRun, err = a.Store.BASRuns(ctx, st.At.Add(-24*time.Hour)); err != nil {
		return st, err
	}
	if st.Numbers, err = a.Sales.NumbersUse(ctx, st.At); err != nil {
		return st, err
	}
	if st.Returns, err = a.Sales.returnNotes(ctx, st.At.AddDate(0, 0, -7)); err != nil {
		return st, err
	}
	ws, err := a.Store.WatchState(ctx)
	if err != nil {
		return st, err
	}
	st.Waiting, st.Problems = ws.Waiting, ws.Problems
	if a.Sales.Cfg.NoOrdersFile {
		st.Orders = "не пишеться (sales.to: retail-report)"
	}
	if a.Retail != nil {
		if st.Retail, err = a.retailStatus(ctx, st.At); err != nil {
			return st, err
		}
	}
	return st, nil
}

// Text renders the status in Ukrainian, for the shop's staff.
func (st Status) Text(w io.Writer) {
	p := func(format string, a ...any) { fmt.Fprintf(w, format+"\r\n", a...) }
	p("obmin — стан на %s", voice.Time(st.At))
	if st.Emulated {
		p("УВАГА: Checkbox — вбудований ЕМУЛЯТОР, справжня каса не отримує нічого (demo / тест).")
	}
	for _, f := range st.Problems {
		p("ПОМИЛКА ТЕКИ %s (%s) з %s: %s", f.Key, f.Path, voice.Time(f.Since), voice.Explain(f.Error))
	}
	p("")
	p("Папки обміну (%s):", st.SpoolRoot)
	for _, k := range []struct{ key, label string }{
		{"inbox", "inbox/ — чекають обробки"}, {"processing", "processing/ — обробляються"},
		{"done", "done/ — оброблено"}, {"failed", "failed/ — помилки (причина у файлі .error.txt)"},
	} {
		p("  %-50s %d", k.label, st.Spool[k.key])
	}
	p("")
	if len(st.Waiting) > 0 {
		p("")
		p("Вивантаження в теці BAS, що ще не взято:")
		for _, w := range st.Waiting {
			line := fmt.Sprintf("  %s (файлів %d): чекає %s — %s", folderName(w.Folder), w.Files, durationUK(st.At.Sub(w.Since).Truncate(time.Second)), w.Reason)
			if !w.GiveUpAt.IsZero() {
				line += fmt.Sprintf("; якщо нічого не зміниться, %s піде до failed/", voice.Time(w.GiveUpAt))
			}
			p("%s", line)
		}
	}
	p("")
	p("Товари: відомо з BAS %d, у Checkbox %d", st.Goods, st.Pushed)
	p("Чеки Checkbox: у файлі замовлень %d, передано в BAS %d (файл пройшов кілька обмінів BAS), підтверджено BAS %d, затримано %d, не продажі %d",
		st.Receipts[StatePending], st.Receipts[StateDelivered], st.Receipts[StateConfirmed], st.Receipts[StateHeld], st.Receipts[StateSkipped])
	if st.Receipts[StateHeld] > 0 {
		p("  Затримані чеки описано в папці %s", filepath.Join(st.SpoolRoot, "held"))
	}
	p("Повернення: внести в BAS вручну %d, змінено замовлення у файлі %d", st.Receipts[StateListed], st.Receipts[StateAmended])
	for i, r := range st.Returns {
		if i == 10 {
			p("  … ще %d (усі — у папці %s)", len(st.Returns)-i, filepath.Join(st.SpoolRoot, "returns"))
			break
		}
		line := fmt.Sprintf("  %s  повернення %s грн, чек %s", voice.Time(r.At), r.Sum, r.Fiscal)
		if r.Sale != "" {
			line += ", замовлення " + r.Sale
		}
		p("%s", line)
	}
	p("Файл замовлень для BAS: %s", st.Orders)
	if st.LastBASRun.IsZero() {
		p("  Обмінів BAS ще не видно (BAS переписує теку «webdata - …» у теці вивантаження при кожному обміні)")
	} else {
		p("  Обмінів BAS за добу: %d, останній помічено %s", st.BASRuns, voice.Time(st.LastBASRun))
	}
	if st.Retail != nil {
		st.Retail.text(p)
	}
	n := st.Numbers
	p("Номери замовлень BAS %d: використано %d з %d, за нинішнього темпу до кінця року — %d", n.Year, n.Used, n.Capacity, n.Projected)
	if n.Short {
		p("  УВАГА: номерів цього року може не вистачити. Для мережі кас замовлення — не той канал: потрібен звіт про роздрібні продажі BAS.")
	}
	p("")
	p("Останні запуски:")
	width := 20 // the column of times stays put however long a job's title
	for _, j := range st.Jobs {
		width = max(width, utf8.RuneCountInString(JobTitle(j.Name)))
	}
	for _, j := range st.Jobs {
		result := "успішно"
		if j.Err != "" {
			result = "ПОМИЛКА: " + voice.Explain(j.Err)
		}
		p("  %-*s %s  %s", width, JobTitle(j.Name), voice.Time(j.End), result)
	}
	if len(st.Drops) > 0 {
		p("")
		p("Останні вивантаження BAS:")
		drops := append([]store.DropRecord(nil), st.Drops...)
		sort.SliceStable(drops, func(i, j int) bool { return drops[i].CreatedAt.After(drops[j].CreatedAt) })
		for _, d := range drops {
			line := fmt.Sprintf("  %s  %-12s файлів %d", d.ID, DropStateTitle(d.State), d.Files)
			if d.Error != "" {
				line += "  " + voice.Explain(strings.SplitN(d.Error, "\n", 2)[0])
			}
			p("%s", line)
		}
	}
}

// JobTitle is a job's name as staff read it.
func JobTitle(name string) string {
	if t, ok := jobTitles[name]; ok {
		return t
	}
	return name
}

var jobTitles = map[string]string{
	"drops": "пакети BAS", "pull-receipts": "запит чеків", "retail-reports": "звіти про роздрібні продажі", "retention": "прибирання архіву",
	"reconcile": "звірка", StaffJob: "дія персоналу",
}

// DropStateTitle is a drop's state as staff read it.
func DropStateTitle(state store.DropState) string {
	if t, ok := dropStates[state]; ok {
		return t
	}
	return string(state)
}

var dropStates = map[store.DropState]string{
	store.DropStateInbox: "чекає", store.DropStateProcessing: "обробляється", store.DropStateDone: "оброблено",
	store.DropStateFailed: "помилка", store.DropStateDuplicate: "повтор",
}

// WriteStatus refreshes status.txt at the spool's root, where staff look first.
func (a *Agent) WriteStatus(ctx context.Context) error {
	st, err := a.Snapshot(ctx)
	if err != nil {
		return err
	}
	var b strings.Builder
	b.WriteString("\ufeff")
	st.Text(&b)
	// Private to obmin's account and group: the status names receipts and sums.
	return atomicfile.WriteFile(filepath.Join(a.Spool.Root, "status.txt"), 0o640, func(w io.Writer) error {
		_, err := io.WriteString(w, b.String())
		return err
	})
}
