package emulator

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"path"
	"strings"
	"unicode/utf8"

	"github.com/shopspring/decimal"
)

// The goods import (docs/checkbox-rest.md §4.1, §4.4, §5): POST /goods/import/upload takes a JSON or CSV
// file, task_status reports "pending" for Config.ImportPolls polls and then "completed" (or "error"),
// apply_changes writes it, and task_status reports "pending" again and then "done". A row creates a
// good or, when a good has its code (codes are unique, docs/checkbox-rest.md §4.2), rewrites that good.
// Every problem is reported as errors[{error, address}] with the row's address (goods[i].field in a
// JSON file, a cell such as C5 in a CSV file). A file with any bad row fails whole, nothing applied,
// unless Config.ImportSkipsBadRows: then the other rows are applied.

type importTask struct {
	id                    string
	applied               bool // apply_changes was called
	polls                 int  // status polls in the current stage
	rows                  []importRow
	errors                []opError
	autoSupply, ignoreDup bool
}

// opError is OperationErrorModel.
type opError struct {
	Error   string `json:"error"`
	Address string `json:"address"`
}

// importRow is one good of an import file, checked.
type importRow struct {
	name, code, group, barcode, uktzed, typ string
	barcodes                                []string
	price                                   int64 // kopecks
	isWeight                                bool
	taxCodes                                []int
	leftovers                               *int64                    // thousandths; nil leaves stock alone
	addr                                    func(field string) string // where a field is in the file
	bad                                     bool                      // some error names this row
}

// checkStatusJSON is CheckStatusResponseSchema.
type checkStatusJSON struct {
	TaskID         string    `json:"task_id"`
	Status         string    `json:"status"`
	ChunksCount    *int      `json:"chunks_count"`
	TotalItems     int       `json:"total_items"`
	ProcessedItems int       `json:"processed_items"`
	Errors         []opError `json:"errors"`
}

// operationJSON is OperationBaseResponseSchema.
type operationJSON struct {
	TaskID string `json:"task_id"`
	Status string `json:"status"`
}

// importUpload is POST /api/v1/goods/import/upload: multipart field "file"; query
// ignore_barcode_duplicates and auto_supply (both default false).
func (e *Emulator) importUpload(c *call) reply {
	q := c.r.URL.Query()
	var v checker
	ignoreDup := v.queryBool(q, "ignore_barcode_duplicates", false)
	autoSupply := v.queryBool(q, "auto_supply", false)
	name, data, ok := formFile(c)
	if !ok {
		v.errs = append(v.errs, missing("body", "file"))
	}
	if len(v.errs) > 0 {
		return invalid(v.errs)
	}
	t := &importTask{id: e.newID(), autoSupply: autoSupply, ignoreDup: ignoreDup}
	switch ext := strings.ToLower(path.Ext(name)); {
	case ext == ".json" || (ext == "" && json.Valid(data)):
		t.rows, t.errors = e.readImportJSON(data)
	case ext == ".csv":
		t.rows, t.errors = e.readImportCSV(data)
	default:
		t.errors = []opError{{Error: fmt.Sprintf("Формат файлу %q не підтримується емулятором: лише json і csv", ext), Address: name}}
	}
	t.errors = append(t.errors, e.checkImport(t.rows, ignoreDup)...)
	e.imports[t.id] = t
	return jsonReply(http.StatusOK, operationJSON{TaskID: t.id, Status: "pending"})
}

// formFile reads the multipart field "file".
func formFile(c *call) (string, []byte, bool) {
	_, params, err := mime.ParseMediaType(c.r.Header.Get("Content-Type"))
	if err != nil || params["boundary"] == "" {
		return "", nil, false
	}
	mr := multipart.NewReader(bytes.NewReader(c.body), params["boundary"])
	for {
		p, err := mr.NextPart()
		if err != nil {
			return "", nil, false
		}
		if p.FormName() == "file" {
			data, err := io.ReadAll(p)
			return p.FileName(), data, err == nil
		}
	}
}

// task finds the task of the {task_id} path segment.
func (e *Emulator) task(c *call) (*importTask, *reply) {
	var v checker
	id, ok := v.uuidValue(c.params[0], []any{"path", "task_id"})
	if !ok {
		rep := invalid(v.errs)
		return nil, &rep
	}
	t := e.imports[id]
	if t == nil {
		rep := notFound("Завдання не знайдено")
		return nil, &rep
	}
	return t, nil
}

// taskState is where the task stands now.
func (e *Emulator) taskState(t *importTask) checkStatusJSON {
	out := checkStatusJSON{TaskID: t.id, TotalItems: len(t.rows), Errors: []opError{}}
	if t.polls < e.cfg.ImportPolls {
		out.Status = "pending"
		return out
	}
	out.ProcessedItems = t.goodRows()
	if len(t.errors) > 0 {
		out.Errors = t.errors
	}
	switch {
	case len(t.errors) > 0 && (!e.cfg.ImportSkipsBadRows || out.ProcessedItems == 0):
		out.Status, out.ProcessedItems = "error", 0
	case t.applied:
		out.Status = "done"
	default:
		out.Status = "completed"
	}
	return out
}

// goodRows counts the rows no error names.
func (t *importTask) goodRows() int {
	n := 0
	for _, r := range t.rows {
		if !r.bad {
			n++
		}
	}
	return n
}

// importStatus is GET /api/v1/goods/import/task_status/{task_id}.
func (e *Emulator) importStatus(c *call) reply {
	t, rep := e.task(c)
	if rep != nil {
		return *rep
	}
	out := e.taskState(t)
	t.polls++
	return jsonReply(http.StatusOK, out)
}

// importApply is POST /api/v1/goods/import/apply_changes/{task_id}: only for a task reported
// "completed"; applying twice is refused.
func (e *Emulator) importApply(c *call) reply {
	t, rep := e.task(c)
	if rep != nil {
		return *rep
	}
	switch st := e.taskState(t).Status; {
	case t.applied:
		return refused("Зміни цього завдання вже застосовано", "path", "task_id")
	case st != "completed":
		return refused(fmt.Sprintf("Завдання у стані %q: застосувати можна лише перевірене завдання", st), "path", "task_id")
	}
	e.applyImport(t)
	t.applied, t.polls = true, 0
	return jsonReply(http.StatusOK, operationJSON{TaskID: t.id, Status: "pending"})
}

// applyImport creates or updates a good per row, matched by code. Leftovers replace the stock of goods
// that have some; others get stock only with auto_supply (docs/checkbox-rest.md §4.4: leftovers "correct the
// leftovers of already created goods that have supplies").
func (e *Emulator) applyImport(t *importTask) {
	now := e.now()
	for _, row := range t.rows {
		if row.bad {
			continue // only with Config.ImportSkipsBadRows: otherwise such a task is never applied
		}
		g := e.goodByCodeLocked(row.code)
		if g == nil {
			g = &good{id: e.newID(), code: row.code, createdAt: now}
			e.addGood(g)
		} else {
			g.updatedAt = now
		}
		g.name, g.typ, g.price, g.isWeight, g.uktzed = row.name, row.typ, row.price, row.isWeight, row.uktzed
		g.barcode, g.barcodes, g.taxCodes = row.barcode, row.barcodes, row.taxCodes
		g.groupName, g.groupID = row.group, e.groupID(row.group)
		if row.leftovers != nil && (g.stock != nil || t.autoSupply) {
			n := *row.leftovers
			g.stock = &n
		}
	}
}

// importFields are the columns of an import file: the JSON key, the CSV header (lower case).
var importFields = []struct{ json, csv string }{
	{"good_name", "ім'я товару"},
	{"code", "код"},
	{"group", "група товарів"},
	{"barcode", "штрихкод"},
	{"barcodes", "штрихкоди"},
	{"uktzed", "уктзед"},
	{"price", "ціна"},
	{"is_weight", "ваговий товар"},
	{"type", "тип товару"},
	{"taxes", "податкові ставки"},
	{"leftovers", "залишок"},
}

// readImportJSON reads {"goods": [...], "branches": ...}. Values may be strings, numbers or booleans,
// as Checkbox's own files mix them (price "51.00", is_weight false, leftovers null).
func (e *Emulator) readImportJSON(data []byte) ([]importRow, []opError) {
	var file struct {
		Goods []map[string]json.RawMessage `json:"goods"`
	}
	if err := json.Unmarshal(data, &file); err != nil {
		return nil, []opError{{Error: "Файл не є коректним JSON: " + err.Error(), Address: "goods"}}
	}
	if len(file.Goods) == 0 {
		return nil, []opError{{Error: "Файл не містить товарів", Address: "goods"}}
	}
	var rows []importRow
	var errs []opError
	for i, g := range file.Goods {
		cells := map[string]string{}
		for key, raw := range g {
			cells[key] = jsonCell(raw)
		}
		row, es := e.importRow(cells, func(field string) string { return fmt.Sprintf("goods[%d].%s", i, field) })
		row.bad = len(es) > 0
		rows, errs = append(rows, row), append(errs, es...)
	}
	return rows, errs
}

// jsonCell flattens a JSON value to the text a spreadsheet cell would hold; arrays (barcodes) join
// with commas.
func jsonCell(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var list []any
	if json.Unmarshal(raw, &list) == nil {
		parts := make([]string, len(list))
		for i, x := range list {
			parts[i] = fmt.Sprint(x)
		}
		return strings.Join(parts, ",")
	}
	if isNull(raw) {
		return ""
	}
	return strings.TrimSpace(string(raw))
}

// readImportCSV reads the CSV form: a header row of Ukrainian column names (docs/checkbox-rest.md §4.4).
func (e *Emulator) readImportCSV(data []byte) ([]importRow, []opError) {
	data = bytes.TrimPrefix(data, []byte("\ufeff"))
	recs, err := csv.NewReader(bytes.NewReader(data)).ReadAll()
	if err != nil {
		return nil, []opError{{Error: "Файл не є коректним CSV: " + err.Error(), Address: "A1"}}
	}
	if len(recs) < 2 {
		return nil, []opError{{Error: "Файл не містить товарів", Address: "A2"}}
	}
	col := map[string]int{}
	for i, h := range recs[0] {
		col[strings.ToLower(strings.TrimSpace(h))] = i
	}
	var rows []importRow
	var errs []opError
	for n, rec := range recs[1:] {
		cells := map[string]string{}
		for _, f := range importFields {
			if i, ok := col[f.csv]; ok && i < len(rec) {
				cells[f.json] = rec[i]
			}
		}
		addr := func(field string) string {
			for _, f := range importFields {
				if f.json == field {
					if i, ok := col[f.csv]; ok {
						return fmt.Sprintf("%c%d", 'A'+i, n+2)
					}
				}
			}
			return fmt.Sprintf("A%d", n+2)
		}
		row, es := e.importRow(cells, addr)
		row.bad = len(es) > 0
		rows, errs = append(rows, row), append(errs, es...)
	}
	return rows, errs
}

// importRow checks one good: name and code required, price decimal hryvnia > 0, taxes letters
// separated by spaces, leftovers a decimal number of pieces or kilograms.
func (e *Emulator) importRow(cells map[string]string, addr func(string) string) (importRow, []opError) {
	var errs []opError
	bad := func(field, msg string) { errs = append(errs, opError{Error: msg, Address: addr(field)}) }
	row := importRow{
		addr: addr,
		name: strings.TrimSpace(cells["good_name"]), code: strings.TrimSpace(cells["code"]),
		group: strings.TrimSpace(cells["group"]), barcode: strings.TrimSpace(cells["barcode"]),
		uktzed: strings.TrimSpace(cells["uktzed"]), typ: strings.TrimSpace(cells["type"]),
	}
	// A row makes the same good POST /goods makes, with the same limits (docs/checkbox-rest.md §4.2): name
	// up to 4000 characters, code up to 150, each barcode up to 100.
	long := func(field, what, s string, most int) {
		if n := utf8.RuneCountInString(s); n > most {
			bad(field, fmt.Sprintf("%s: %d символів, найбільше %d", what, n, most))
		}
	}
	if row.name == "" {
		bad("good_name", "Ім'я товару обов'язкове")
	}
	long("good_name", "Ім'я товару", row.name, 4000)
	if row.code == "" {
		bad("code", "Код товару обов'язковий")
	}
	long("code", "Код товару", row.code, 150)
	long("barcode", "Штрихкод", row.barcode, 100)
	for _, b := range strings.Split(cells["barcodes"], ",") {
		if b = strings.TrimSpace(b); b != "" && b != row.barcode {
			long("barcodes", "Штрихкод", b, 100)
			row.barcodes = append(row.barcodes, b)
		}
	}
	price, err := decimal.NewFromString(strings.ReplaceAll(strings.TrimSpace(cells["price"]), ",", "."))
	switch {
	case err != nil:
		bad("price", fmt.Sprintf("Ціна %q не є числом", cells["price"]))
	case !price.IsPositive():
		bad("price", "Ціна має бути більшою за нуль")
	case price.Exponent() < -2 && !price.Equal(price.Round(2)):
		bad("price", fmt.Sprintf("Ціна %s має більше двох знаків після коми", price))
	case price.GreaterThanOrEqual(decimal.NewFromInt(10_000_000)):
		bad("price", fmt.Sprintf("Ціна %s завелика", price))
	default:
		row.price = price.Shift(2).IntPart()
	}
	if w := strings.TrimSpace(cells["is_weight"]); w != "" {
		v, ok := laxBool(w)
		if !ok {
			switch strings.ToLower(w) {
			case "так":
				v, ok = true, true
			case "ні":
				v, ok = false, true
			}
		}
		if !ok {
			bad("is_weight", fmt.Sprintf("Ваговий товар: %q — очікується true або false", w))
		}
		row.isWeight = v
	}
	switch row.typ {
	case "":
		row.typ = "good"
	case "good", "service":
	default:
		bad("type", fmt.Sprintf("Тип товару %q: очікується good або service", row.typ))
	}
	if taxes := strings.Fields(cells["taxes"]); len(taxes) > 0 {
		codes, err := e.taxCodes(taxes)
		if err != nil {
			bad("taxes", err.Error())
		}
		row.taxCodes = codes
	}
	if s := strings.TrimSpace(cells["leftovers"]); s != "" {
		d, err := decimal.NewFromString(strings.ReplaceAll(s, ",", "."))
		switch {
		case err != nil:
			bad("leftovers", fmt.Sprintf("Залишок %q не є числом", s))
		case !d.Equal(d.Round(3)):
			bad("leftovers", fmt.Sprintf("Залишок %s має більше трьох знаків після коми", d))
		default:
			n := d.Shift(3).IntPart()
			row.leftovers = &n
		}
	}
	return row, errs
}

// checkImport finds rows that clash: a code twice in the file, or, unless duplicates are allowed, a
// barcode of another good.
func (e *Emulator) checkImport(rows []importRow, ignoreDup bool) []opError {
	var errs []opError
	codes := map[string]int{}
	barcodes := map[string]string{} // barcode → code
	for _, g := range e.goods {
		for _, b := range append([]string{g.barcode}, g.barcodes...) {
			if b != "" {
				barcodes[b] = g.code
			}
		}
	}
	for i := range rows {
		row := &rows[i]
		if j, dup := codes[row.code]; dup {
			errs = append(errs, opError{Error: fmt.Sprintf("Код %q повторюється (також у товарі %d)", row.code, j+1), Address: row.addr("code")})
			row.bad = true
		}
		codes[row.code] = i
		if ignoreDup {
			continue
		}
		for _, b := range append([]string{row.barcode}, row.barcodes...) {
			if b == "" {
				continue
			}
			if other, ok := barcodes[b]; ok && other != row.code {
				errs = append(errs, opError{Error: fmt.Sprintf("Штрихкод %s вже використовує товар з кодом %q", b, other), Address: row.addr("barcode")})
				row.bad = true
			}
			barcodes[b] = row.code
		}
	}
	return errs
}
