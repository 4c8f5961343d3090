package basodata

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestFilterLiterals(t *testing.T) {
	start := WallClock(time.Date(2025, 3, 1, 6, 0, 0, 0, time.UTC), kyiv)
	tests := []struct {
		got  Filter
		want string
	}{
		{Eq("Артикул", Str("O'Neil")), "Артикул eq 'O''Neil'"},
		{Eq("Ref_Key", Guid("6F1C2A10-0001-4C3E-9A01-000000000001")), "Ref_Key eq guid'6f1c2a10-0001-4c3e-9a01-000000000001'"},
		{Ge("Date", Time(start)), "Date ge datetime'2025-03-01T08:00:00'"},
		{And(Eq("DeletionMark", Bool(false)), "", Eq("Ставка", AmountLit(2000))), "(DeletionMark eq false) and (Ставка eq 20)"},
		{Or(Eq("Code", Str("1"))), "Code eq '1'"},
	}
	for _, tt := range tests {
		if string(tt.got) != tt.want {
			t.Errorf("got %s, want %s", tt.got, tt.want)
		}
	}
	q := Query{Filter: Eq("Description", Str("Каса 1 & Co")), Select: []string{"Ref_Key", "Code"}, Top: 10, Skip: 20, OrderBy: "Ref_Key"}.encode()
	want := "$format=json&$filter=Description%20eq%20%27%D0%9A%D0%B0%D1%81%D0%B0%201%20%26%20Co%27&$select=Ref_Key%2CCode&$orderby=Ref_Key&$top=10&$skip=20"
	if q != want {
		t.Errorf("query\n got %s\nwant %s", q, want)
	}
	if entityPath("Catalog_КассыККМ", "ABCDEF00-0000-4000-8000-000000000001") != "Catalog_%D0%9A%D0%B0%D1%81%D1%81%D1%8B%D0%9A%D0%9A%D0%9C(guid'abcdef00-0000-4000-8000-000000000001')" {
		t.Error(entityPath("Catalog_КассыККМ", "ABCDEF00-0000-4000-8000-000000000001"))
	}
	for _, bad := range []string{"x') or (1 eq 1", "", "6f1c2a10-0001-4c3e-9a01-00000000000Z"} {
		if checkRef("key", bad) == nil {
			t.Errorf("%q accepted as a GUID", bad)
		}
	}
}

func TestValuesJSON(t *testing.T) {
	var v struct {
		A Amount     `json:"a"`
		Q Quantity   `json:"q"`
		P Percent    `json:"p"`
		L LineNumber `json:"l"`
		D DateTime   `json:"d"`
		E DateTime   `json:"e"`
	}
	in := `{"a":-16.68,"q":"0.347","p":12.5,"l":3,"d":"2025-03-01T21:05:00","e":"0001-01-01T00:00:00"}`
	if err := json.Unmarshal([]byte(in), &v); err != nil {
		t.Fatal(err)
	}
	if v.A != -1668 || v.Q != 347 || v.P != 1250 || v.L != 3 || v.D.String() != "2025-03-01T21:05:00" || !v.E.IsZero() {
		t.Fatalf("%+v", v)
	}
	out, _ := json.Marshal(v)
	if string(out) != `{"a":-16.68,"q":0.347,"p":12.5,"l":"3","d":"2025-03-01T21:05:00","e":"0001-01-01T00:00:00"}` {
		t.Fatal(string(out))
	}
	if got := v.D.In(kyiv).UTC().Format(time.RFC3339); got != "2025-03-01T19:05:00Z" {
		t.Fatal(got)
	}
}

func TestRetryable(t *testing.T) {
	for _, tt := range []struct {
		err  error
		want bool
	}{
		{&Error{Status: 502}, true},
		{&Error{Status: 500}, true},
		{&Error{Status: 500, OData: true, Message: "Не заповнене поле"}, false},
		{&Error{Status: 500, OData: true, Message: "Конфликт блокировок при выполнении транзакции"}, true},
		{&Error{Status: 400, OData: true}, false},
		{&Error{Status: 404}, false},
		{&transportError{errors.New("reset")}, true},
	} {
		if got := IsRetryable(tt.err); got != tt.want {
			t.Errorf("%v: %v, want %v", tt.err, got, tt.want)
		}
	}
	if !errors.Is(&Error{Status: http.StatusNotFound}, ErrNotFound) {
		t.Error("404 is not ErrNotFound")
	}
	if _, err := New(Config{BaseURL: "http://u:p@bas/odata", User: "u", Password: "p"}); err == nil || strings.Contains(err.Error(), "p@") {
		t.Errorf("credentials in the URL: %v", err)
	}
}
