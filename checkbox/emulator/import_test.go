package emulator

import (
	"bytes"
	"mime/multipart"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"obmin/internal/testenv"
)

// upload posts file as the multipart field "file" and returns the task id.
func upload(t *testing.T, en *env, query, filename string, file []byte) string {
	t.Helper()
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	part, err := w.CreateFormFile("file", filename)
	if err == nil {
		_, err = part.Write(file)
	}
	if err == nil {
		err = w.Close()
	}
	if err != nil {
		t.Fatal(err)
	}
	var op operationJSON
	en.must(200, "POST", "/api/v1/goods/import/upload?"+query, buf.Bytes(), "Content-Type", w.FormDataContentType()).decode(t, &op)
	if op.TaskID == "" || op.Status != "pending" {
		t.Fatalf("upload answered %+v", op)
	}
	return op.TaskID
}

func taskStatus(t *testing.T, en *env, id string) checkStatusJSON {
	t.Helper()
	var st checkStatusJSON
	en.must(200, "GET", "/api/v1/goods/import/task_status/"+id, nil).decode(t, &st)
	return st
}

// importGoods runs a JSON import through its whole life cycle and fails the test unless it is done.
func importGoods(t *testing.T, en *env, query, file string) {
	t.Helper()
	id := upload(t, en, query, "goods.json", []byte(file))
	for range 10 {
		st := taskStatus(t, en, id)
		if st.Status == "pending" {
			continue
		}
		if st.Status != "completed" {
			t.Fatalf("check ended %+v", st)
		}
		break
	}
	en.must(200, "POST", "/api/v1/goods/import/apply_changes/"+id, nil)
	for range 10 {
		if st := taskStatus(t, en, id); st.Status == "done" {
			return
		}
	}
	t.Fatal("import never done")
}

func TestImportLifecycle(t *testing.T) {
	en := signedIn(t, Config{ImportPolls: 2})
	file := `{"goods":[
		{"good_name":"Кобзар","code":"B-001","group":"Поезія","barcode":"9789660000001","barcodes":"9789660000001,4820000000017","price":"350.00","is_weight":false,"type":"good","taxes":"З","leftovers":12,"uktzed":"4901"},
		{"good_name":"Кава мелена","code":"W-1","group":"","barcode":"","barcodes":"","price":"520.5","is_weight":"true","type":"good","taxes":"А","leftovers":"2,750","uktzed":""}
	],"branches":null}`
	id := upload(t, en, "auto_supply=true&ignore_barcode_duplicates=false", "goods.json", []byte(file))

	// Not applicable before it is checked.
	en.must(422, "POST", "/api/v1/goods/import/apply_changes/"+id, nil)
	want := []string{"pending", "completed"}
	for i, w := range want {
		st := taskStatus(t, en, id)
		if i == 0 {
			st = taskStatus(t, en, id) // ImportPolls: 2
		}
		if st.Status != w || st.TaskID != id || st.TotalItems != 2 {
			t.Fatalf("poll %d: %+v, want %s", i, st, w)
		}
	}
	if len(en.e.Goods()) != 0 {
		t.Fatal("goods written before apply_changes")
	}
	var op operationJSON
	en.must(200, "POST", "/api/v1/goods/import/apply_changes/"+id, nil).decode(t, &op)
	if op.TaskID != id {
		t.Errorf("apply answered %+v", op)
	}
	en.must(422, "POST", "/api/v1/goods/import/apply_changes/"+id, nil) // only once
	statuses := []string{taskStatus(t, en, id).Status, taskStatus(t, en, id).Status, taskStatus(t, en, id).Status}
	if strings.Join(statuses, ",") != "pending,pending,done" {
		t.Errorf("after apply: %v", statuses)
	}

	b, ok := en.e.GoodByCode("B-001")
	if !ok || b.Price != 35000 || b.Barcode != "9789660000001" || b.RelatedBarcodes != "4820000000017" || len(b.Taxes) != 1 || b.Taxes[0].Code != 8 || b.GroupID == "" {
		t.Errorf("B-001 = %+v", b)
	}
	w, _ := en.e.GoodByCode("W-1")
	if w.Price != 52050 || !w.IsWeight || w.Taxes[0].Code != 1 {
		t.Errorf("W-1 = %+v", w)
	}
	for code, want := range map[string]int64{"B-001": 12000, "W-1": 2750} {
		if n, ok := en.e.Stock(code); !ok || n != want {
			t.Errorf("stock %s = %d %v, want %d", code, n, ok, want)
		}
	}

	// A second import replaces the stock and updates the good; a good it leaves out keeps its own.
	importGoods(t, en, "auto_supply=false", `{"goods":[{"good_name":"Кобзар (нове вид.)","code":"B-001","barcode":"9789660000001","price":"360.00","taxes":"З","leftovers":5}]}`)
	if n, _ := en.e.Stock("B-001"); n != 5000 {
		t.Errorf("stock after second import %d, want 5000 (replaced)", n)
	}
	if n, _ := en.e.Stock("W-1"); n != 2750 {
		t.Errorf("W-1 stock %d changed", n)
	}
	if b, _ := en.e.GoodByCode("B-001"); b.Name != "Кобзар (нове вид.)" || b.Price != 36000 {
		t.Errorf("B-001 after update %+v", b)
	}
}

func TestImportLeftoversNeedSupply(t *testing.T) {
	en := signedIn(t, Config{})
	en.addGood("N1", "Нова", 100)
	importGoods(t, en, "", `{"goods":[{"good_name":"Нова","code":"N1","price":"1.00","leftovers":3},{"good_name":"Ще","code":"N2","price":"2.00","leftovers":4}]}`)
	for _, code := range []string{"N1", "N2"} {
		if _, ok := en.e.Stock(code); ok {
			t.Errorf("%s got stock without auto_supply", code)
		}
	}
	importGoods(t, en, "auto_supply=true", `{"goods":[{"good_name":"Нова","code":"N1","price":"1.00","leftovers":3}]}`)
	if n, ok := en.e.Stock("N1"); !ok || n != 3000 {
		t.Errorf("N1 stock %d %v with auto_supply", n, ok)
	}
}

func TestImportErrors(t *testing.T) {
	tests := []struct {
		name, query, filename, file string
		wantAddr                    string
	}{
		{"price with comma text", "", "g.json", `{"goods":[{"good_name":"A","code":"A","price":"десять"}]}`, "goods[0].price"},
		{"zero price", "", "g.json", `{"goods":[{"good_name":"A","code":"A","price":"0.00"}]}`, "goods[0].price"},
		{"kopeck fractions", "", "g.json", `{"goods":[{"good_name":"A","code":"A","price":"1.005"}]}`, "goods[0].price"},
		{"no code", "", "g.json", `{"goods":[{"good_name":"A","price":"1.00"}]}`, "goods[0].code"},
		{"no name", "", "g.json", `{"goods":[{"code":"A","price":"1.00"}]}`, "goods[0].good_name"},
		{"unknown tax letter", "", "g.json", `{"goods":[{"good_name":"A","code":"A","price":"1.00","taxes":"Ж"}]}`, "goods[0].taxes"},
		{"bad type", "", "g.json", `{"goods":[{"good_name":"A","code":"A","price":"1.00","type":"book"}]}`, "goods[0].type"},
		{"code twice", "", "g.json", `{"goods":[{"good_name":"A","code":"A","price":"1.00"},{"good_name":"B","code":"A","price":"1.00"}]}`, "goods[1].code"},
		{"barcode of another good", "", "g.json", `{"goods":[{"good_name":"A","code":"A","price":"1.00","barcode":"111"},{"good_name":"B","code":"B","price":"1.00","barcode":"111"}]}`, "goods[1].barcode"},
		{"name too long", "", "g.json", `{"goods":[{"good_name":"` + strings.Repeat("я", 4001) + `","code":"A","price":"1.00"}]}`, "goods[0].good_name"},
		{"code too long", "", "g.json", `{"goods":[{"good_name":"A","code":"` + strings.Repeat("1", 151) + `","price":"1.00"}]}`, "goods[0].code"},
		{"extra barcode too long", "", "g.json", `{"goods":[{"good_name":"A","code":"A","price":"1.00","barcodes":"1,` + strings.Repeat("2", 101) + `"}]}`, "goods[0].barcodes"},
		{"leftovers not a number", "", "g.json", `{"goods":[{"good_name":"A","code":"A","price":"1.00","leftovers":"many"}]}`, "goods[0].leftovers"},
		{"empty file", "", "g.json", `{"goods":[]}`, "goods"},
		{"broken JSON", "", "g.json", `{"goods":[`, "goods"},
		{"CSV cell", "", "g.csv", "ім'я товару,код,ціна\nA,A,abc\n", "C2"},
		{"xlsx", "", "g.xlsx", "PK\x03\x04", "g.xlsx"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			en := signedIn(t, Config{})
			id := upload(t, en, tt.query, tt.filename, []byte(tt.file))
			taskStatus(t, en, id)
			st := taskStatus(t, en, id)
			if st.Status != "error" || len(st.Errors) == 0 {
				t.Fatalf("status %+v", st)
			}
			if st.Errors[0].Address != tt.wantAddr || st.Errors[0].Error == "" {
				t.Errorf("errors %+v, want address %s", st.Errors, tt.wantAddr)
			}
			en.must(422, "POST", "/api/v1/goods/import/apply_changes/"+id, nil)
			if len(en.e.Goods()) != 0 {
				t.Error("a failed import wrote goods")
			}
		})
	}
	t.Run("barcode duplicates allowed", func(t *testing.T) {
		en := signedIn(t, Config{})
		importGoods(t, en, "ignore_barcode_duplicates=true", `{"goods":[{"good_name":"A","code":"A","price":"1.00","barcode":"111"},{"good_name":"B","code":"B","price":"1.00","barcode":"111"}]}`)
	})
	t.Run("no file field", func(t *testing.T) {
		en := signedIn(t, Config{})
		if d := en.must(422, "POST", "/api/v1/goods/import/upload", []byte("x"), "Content-Type", "text/plain").detail(t); !contains(d, "body.file:missing") {
			t.Errorf("detail %v", d)
		}
	})
	t.Run("unknown task", func(t *testing.T) {
		en := signedIn(t, Config{})
		en.must(404, "GET", "/api/v1/goods/import/task_status/00000000-0000-4000-8000-000000000000", nil)
		en.must(422, "GET", "/api/v1/goods/import/task_status/42", nil)
	})
}

// TestImportUpdatesByCodeAndSkipsBadRows checks that a row with a known code rewrites that good (no
// second good with the code), and that with ImportSkipsBadRows the good rows of a file with a bad one
// are applied and the bad one is reported by its address.
func TestImportUpdatesByCodeAndSkipsBadRows(t *testing.T) {
	en := signedIn(t, Config{ImportSkipsBadRows: true})
	en.addGood("K1", "Стара назва", 100)
	file := `{"goods":[
		{"good_name":"Нова назва","code":"K1","price":"12.30","barcode":"482","barcodes":"482,483","taxes":"З"},
		{"good_name":"` + strings.Repeat("я", 4001) + `","code":"K2","price":"1.00"},
		{"good_name":"Третя","code":"K3","price":"3.00"}
	],"branches":null}`
	id := upload(t, en, "ignore_barcode_duplicates=true", "goods.json", []byte(file))
	taskStatus(t, en, id)
	st := taskStatus(t, en, id)
	if st.Status != "completed" || st.ProcessedItems != 2 || len(st.Errors) != 1 || st.Errors[0].Address != "goods[1].good_name" {
		t.Fatalf("check %+v", st)
	}
	en.must(200, "POST", "/api/v1/goods/import/apply_changes/"+id, nil)
	taskStatus(t, en, id)
	if st := taskStatus(t, en, id); st.Status != "done" || len(st.Errors) != 1 {
		t.Fatalf("after apply %+v", st)
	}
	goods := en.e.Goods()
	if len(goods) != 2 || goods[0].Code != "K1" || goods[1].Code != "K3" {
		t.Fatalf("goods %+v", goods)
	}
	if g := goods[0]; g.Name != "Нова назва" || g.Price != 1230 || g.Barcode != "482" || g.RelatedBarcodes != "483" || len(g.Taxes) != 1 || g.Taxes[0].Symbol != "З" {
		t.Errorf("K1 after import %+v", g)
	}
}

func TestImportCSV(t *testing.T) {
	en := signedIn(t, Config{})
	csv := "\ufeffім'я товару,код,група товарів,штрихкод,штрихкоди,уктзед,ціна,ваговий товар,тип товару,податкові ставки,залишок\n" +
		"Сир твердий,S-1,Молочне,2000000000028,,0406,\"412,30\",True,good,А Б,\"1,5\"\n"
	id := upload(t, en, "auto_supply=true", "goods.csv", []byte(csv))
	taskStatus(t, en, id)
	if st := taskStatus(t, en, id); st.Status != "completed" {
		t.Fatalf("%+v", st)
	}
	en.must(200, "POST", "/api/v1/goods/import/apply_changes/"+id, nil)
	g, ok := en.e.GoodByCode("S-1")
	if !ok || g.Price != 41230 || !g.IsWeight || len(g.Taxes) != 2 || g.Uktzed != "0406" {
		t.Errorf("S-1 = %+v", g)
	}
	if n, _ := en.e.Stock("S-1"); n != 1500 {
		t.Errorf("stock %d, want 1500", n)
	}
}

// TestImportCheckboxFixtures uploads the files Checkbox's own SDK tests upload to a real test register.
func TestImportCheckboxFixtures(t *testing.T) {
	dir := testenv.Shared(t, "checkbox/examples/dismine__checkbox-sdk/tests/test_data")
	for _, name := range []string{"checkbox_goods.json", "checkbox_goods.csv"} {
		t.Run(name, func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join(dir, name))
			if err != nil {
				t.Fatal(err)
			}
			en := signedIn(t, Config{})
			id := upload(t, en, "", name, data)
			taskStatus(t, en, id)
			if st := taskStatus(t, en, id); st.Status != "completed" || st.TotalItems != 2 {
				t.Fatalf("%+v", st)
			}
			en.must(200, "POST", "/api/v1/goods/import/apply_changes/"+id, nil)
			g, ok := en.e.GoodByCode("123457")
			if !ok || g.Name != "Помідор український" || g.Taxes[0].Symbol != "З" || (g.Price != 7000 && g.Price != 8000) {
				t.Errorf("123457 = %+v", g)
			}
		})
	}
}
