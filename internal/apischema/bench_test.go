package apischema

import (
	"path/filepath"
	"testing"

	"obmin/internal/testenv"
)

func BenchmarkLoadNewest(b *testing.B) {
	dir := testenv.Shared(b, "checkbox")
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := LoadNewest(dir); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkLoadTiny(b *testing.B) {
	p := filepath.Join("testdata", "tiny-openapi.json")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Load(p); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkValidateRequestCreateGood(b *testing.B) {
	d := checkboxDoc(b)
	u := mustURL(b, "/api/v1/goods")
	h := hdr("Authorization", "Bearer x", "Content-Type", "application/json")
	body := []byte(`{"name":"Кобзар","type":"good","code":"A-1","is_weight":false,"price":25000,"barcode":"4820000000001","tax_codes":[8]}`)
	b.ReportAllocs()
	for b.Loop() {
		if err := d.ValidateRequest("POST", u, h, body); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkValidateRequestSearchQuery(b *testing.B) {
	d := checkboxDoc(b)
	u := mustURL(b, "/api/v1/receipts/search?cash_register_id="+registry+"&self_receipts=false&from_date=2024-03-22T00:00:00%2B02:00&limit=100&offset=200")
	h := hdr("Authorization", "Bearer x")
	b.ReportAllocs()
	for b.Loop() {
		if err := d.ValidateRequest("GET", u, h, nil); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkValidateResponseGoodModel(b *testing.B) {
	d := checkboxDoc(b)
	u := mustURL(b, "/api/v1/goods/"+goodID)
	h := hdr("Content-Type", "application/json")
	body := []byte(goodModel)
	b.ReportAllocs()
	for b.Loop() {
		if err := d.ValidateResponse("GET", u, 200, h, body); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkValidateResponseInvalidGoodModel(b *testing.B) {
	d := checkboxDoc(b)
	u := mustURL(b, "/api/v1/goods/"+goodID)
	body := []byte(`{"id":"` + goodID + `","code":"A-1","name":"x","price":"250.00","type":"good","taxes":[{"code":"8"}],"created_at":"22.03.2024"}`)
	b.ReportAllocs()
	for b.Loop() {
		if err := d.ValidateResponse("GET", u, 200, nil, body); err == nil {
			b.Fatal("no error")
		}
	}
}
