package feed

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// FuzzRead feeds arbitrary bytes to Read and Sniff: they must never panic or hang, every error must be a
// *ParseError naming the file, and the summary must count exactly the offers handed over.
func FuzzRead(f *testing.F) {
	files, err := filepath.Glob(filepath.Join("testdata", "*.xml"))
	if err != nil {
		f.Fatal(err)
	}
	for _, p := range files {
		data, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte(""))
	f.Add([]byte(`<yml_catalog><offers><offer id="1" аvailable="true"/></offers></yml_catalog>`))
	f.Add([]byte(`<price><items><item><id>1</id><stock>Нет</stock><priceRUAH>1,5</priceRUAH></item></items></price>`))
	// Bytes that contradict the declaration: UTF-8 under windows-1251, windows-1251 ("Рівне") under UTF-8.
	f.Add([]byte("<?xml version=\"1.0\" encoding=\"windows-1251\"?>\n<yml_catalog><shop><name>Рівне</name></shop></yml_catalog>"))
	f.Add([]byte("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<yml_catalog><shop><name>\xd0\xb3\xe2\xed\xe5</name></shop></yml_catalog>"))

	f.Fuzz(func(t *testing.T, data []byte) {
		n := 0
		sum, err := Read(bytes.NewReader(data), "fuzz.xml", func(o Offer) error {
			if o.ID == "" {
				t.Errorf("offer without id handed over: %+v", o)
			}
			n++
			return nil
		})
		fuzzCheckErr(t, "Read", err)
		if err == nil && n != sum.Offers {
			t.Errorf("handed %d offers, summary says %d", n, sum.Offers)
		}
		_, err = Sniff(bytes.NewReader(data), "fuzz.xml")
		fuzzCheckErr(t, "Sniff", err)
	})
}

func fuzzCheckErr(t *testing.T, what string, err error) {
	t.Helper()
	if err == nil {
		return
	}
	var pe *ParseError
	if !errors.As(err, &pe) || pe.File != "fuzz.xml" || pe.Err == nil {
		t.Fatalf("%s: error %v (%T) is not a *ParseError naming the file", what, err, err)
	}
}
