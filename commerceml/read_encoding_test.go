package commerceml

import (
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"

	"golang.org/x/text/encoding/charmap"
)

// encodingDoc is a small catalogue; %s is the XML declaration's line.
const encodingDoc = "%s\n<КоммерческаяИнформация ВерсияСхемы=\"2.05\">\n<Каталог><Товары>\n<Товар><Ид>1</Ид><Наименование>Сік яблучний «Садок»</Наименование></Товар>\n</Товары></Каталог>\n</КоммерческаяИнформация>\n"

func encodingInput(t *testing.T, decl string, cp1251 bool) string {
	t.Helper()
	s := strings.Replace(encodingDoc, "%s", decl, 1)
	if cp1251 {
		b, err := charmap.Windows1251.NewEncoder().String(s)
		if err != nil {
			t.Fatal(err)
		}
		s = b
	}
	return s
}

// TestReadEncodingMismatch: a file whose bytes contradict its XML declaration (an administrator re-saved
// it) fails with ErrWrongEncoding naming the line and saying which encoding the bytes look like, instead
// of mojibake names or a bare "invalid UTF-8". Files that match their declaration read as before.
func TestReadEncodingMismatch(t *testing.T) {
	const (
		declCP   = `<?xml version="1.0" encoding="windows-1251"?>`
		declUTF8 = `<?xml version="1.0" encoding="UTF-8"?>`
	)
	tests := []struct {
		name    string
		input   string
		oneByte bool // read one byte at a time: the sniffed run crosses every read
		line    int  // 0: no error wanted
		contain []string
	}{
		{name: "windows-1251 declared, windows-1251 bytes", input: encodingInput(t, declCP, true)},
		{name: "UTF-8 declared, UTF-8 bytes", input: encodingInput(t, declUTF8, false)},
		{name: "no declaration, UTF-8 bytes", input: encodingInput(t, "", false)},
		{name: "cp1251 label, windows-1251 bytes", input: encodingInput(t, `<?xml version="1.0" encoding="cp1251"?>`, true)},
		{name: "windows-1251 declared, UTF-8 bytes", input: encodingInput(t, declCP, false), line: 2,
			contain: []string{`says encoding="windows-1251"`, "bytes are UTF-8", `"КоммерческаяИнформация"`}},
		{name: "windows-1251 declared, UTF-8 bytes with a BOM", input: "\uFEFF" + encodingInput(t, declCP, false), line: 2,
			contain: []string{"bytes are UTF-8"}},
		{name: "windows-1251 declared, UTF-8 bytes, read byte by byte", input: encodingInput(t, declCP, false), oneByte: true, line: 2,
			contain: []string{"bytes are UTF-8"}},
		{name: "Windows-1251 spelt otherwise, UTF-8 bytes", input: encodingInput(t, `<?xml version="1.0" encoding="WIN-1251"?>`, false), line: 2,
			contain: []string{`encoding="WIN-1251"`}},
		{name: "windows-1251 declared, UTF-8 bytes after blank lines", input: encodingInput(t, declCP+"\n\n", false), line: 4},
		{name: "UTF-8 declared, windows-1251 bytes", input: encodingInput(t, declUTF8, true), line: 2,
			contain: []string{"not UTF-8", "look like windows-1251", `"КоммерческаяИнформация"`, `declare encoding="windows-1251"`}},
		{name: "no declaration, windows-1251 bytes", input: encodingInput(t, "", true), line: 2,
			contain: []string{"look like windows-1251"}},
		{name: "no declaration, windows-1251 bytes, read byte by byte", input: encodingInput(t, "", true), oneByte: true, line: 2,
			contain: []string{"look like windows-1251"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var r io.Reader = strings.NewReader(tt.input)
			if tt.oneByte {
				r = iotest.OneByteReader(r)
			}
			var names []string
			_, err := Read(r, "import.xml", Handler{Good: func(g Good) error { names = append(names, g.Name); return nil }})
			if tt.line == 0 {
				if err != nil {
					t.Fatal(err)
				}
				if len(names) != 1 || names[0] != "Сік яблучний «Садок»" {
					t.Errorf("names %q", names)
				}
				return
			}
			var pe *ParseError
			if !errors.As(err, &pe) || !errors.Is(err, ErrWrongEncoding) {
				t.Fatalf("error %v, want a *ParseError wrapping ErrWrongEncoding", err)
			}
			if pe.File != "import.xml" || pe.Line != tt.line {
				t.Errorf("error %q: file %q line %d, want line %d", err, pe.File, pe.Line, tt.line)
			}
			for _, c := range tt.contain {
				if !strings.Contains(err.Error(), c) {
					t.Errorf("message %q does not contain %q", err, c)
				}
			}
			if len(names) != 0 {
				t.Errorf("records read before the error: %q", names)
			}
			// Sniff says the same.
			if _, _, serr := Sniff(strings.NewReader(tt.input), "import.xml"); !errors.Is(serr, ErrWrongEncoding) {
				t.Errorf("Sniff: %v, want ErrWrongEncoding", serr)
			}
		})
	}
}
