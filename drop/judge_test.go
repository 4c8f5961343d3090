package drop

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/text/encoding/charmap"

	"obmin/internal/testenv"
)

func TestDropClosed(t *testing.T) {
	cp := func(s string) string { return watchCP1251(t, s) }
	tests := []struct {
		name string
		doc  string
		want bool
	}{
		{"CommerceML, UTF-8 with BOM", watchCML("<Каталог/>"), true},
		{"trailing whitespace", watchCML("") + " \t\r\n\r\n", true},
		{"no trailing newline", strings.TrimSpace(watchCML("")), true},
		{"cut inside the closing tag", strings.TrimSuffix(watchCML(""), "ация>\r\n"), false},
		{"cut before the final >", strings.TrimSuffix(watchCML(""), ">\r\n"), false},
		{"ends with an inner end tag", watchPartial("<Каталог></Каталог>"), false},
		{"ends with an inner end tag and spaces", watchPartial("<Каталог></Каталог>\r\n  "), false},
		{"only the header", watchHead, false},
		{"trailing NUL bytes (preallocated)", watchCML("") + "\x00\x00\x00", false},
		{"empty", "", false},
		{"windows-1251", cp(watchCML("<Каталог/>")), true},
		{"windows-1251, inner end tag", cp(watchPartial("<Каталог></Каталог>")), false},
		{"other root, closed", "<?xml version=\"1.0\"?>\n<!-- comment > with > signs -->\n<!DOCTYPE x>\n<Root a=\"x>y\">\n<b></b>\n</Root>\n", true},
		{"other root, inner end tag", "<?xml version=\"1.0\"?>\n<Root>\n<b></b>\n", false},
		{"end tag with a space", "<Root><b/></Root >", true},
		{"namespaced root", "<cml:Root xmlns:cml=\"urn:x\"><cml:b/></cml:Root>", true},
		{"empty root element", "\uFEFF<?xml version=\"1.0\"?>\r\n<КоммерческаяИнформация ВерсияСхемы=\"2.05\"/>\r\n", true},
		{"empty root element, cut", "\uFEFF<?xml version=\"1.0\"?>\r\n<КоммерческаяИнформация ВерсияСхемы=\"2.05\"", false},
		{"unknown head, any end tag", "garbage</x>", true},
		{"unknown head, no end tag", "garbage<x>", false},
		{"self-closing last element is not an end tag", "<Root><b/>", false},
		{"bare </>", "<Root></>", false},
		{"a comment after the root", watchCML("") + "<!-- вивантажено -->\r\n", true},
		{"a processing instruction after the root", watchCML("") + "<?obmin done?>", true},
		{"comments, instructions and spaces after the root", watchCML("") + "<!-- a -->\r\n<?b c?> <!--d-->  ", true},
		{"an inner end tag, then a comment", watchPartial("<Каталог></Каталог><!-- x -->"), false},
		{"a comment cut short after the root", watchCML("") + "<!-- вивантаж", false},
		{"a comment whose start is before the tail", watchCML("") + "<!--" + strings.Repeat("x", 2*Window) + "-->", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := []byte(tt.doc)
			head := b[:min(len(b), Window)]
			tail := b[max(0, len(b)-Window):]
			if got := closed(head, tail); got != tt.want {
				t.Errorf("closed = %v, want %v", got, tt.want)
			}
		})
	}
}

// TestDropClosedSamples checks the closing-tag test against real exports (UTF-8 with and without BOM,
// windows-1251, CommerceML 2 and 3): each whole file is closed, each cut-off one is not.
func TestDropClosedSamples(t *testing.T) {
	dir := testenv.Shared(t, "samples/commerceml")
	var files []string
	filepath.WalkDir(dir, func(p string, e fs.DirEntry, err error) error {
		if err == nil && !e.IsDir() && strings.EqualFold(filepath.Ext(p), ".xml") {
			files = append(files, p)
		}
		return nil
	})
	if len(files) == 0 {
		t.Fatalf("no XML samples under %s", dir)
	}
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		rel, _ := filepath.Rel(dir, p)
		check := func(what string, b []byte, want bool) {
			head := b[:min(len(b), Window)]
			tail := b[max(0, len(b)-Window):]
			if got := closed(head, tail); got != want {
				t.Errorf("%s (%s): closed = %v, want %v", rel, what, got, want)
			}
		}
		check("whole", b, true)
		end := len(strings.TrimRight(string(b), " \t\r\n"))
		check("last byte cut", b[:end-1], false)
		for _, frac := range []int{2, 3, 5} {
			check(fmt.Sprintf("cut at 1/%d", frac), b[:len(b)/frac], false)
		}
	}
}

const watchHead = "\uFEFF<?xml version=\"1.0\" encoding=\"UTF-8\"?>\r\n" +
	"<КоммерческаяИнформация xmlns=\"urn:1C.ru:commerceml_210\" ВерсияСхемы=\"2.08\" ДатаФормирования=\"2025-03-01T10:00:00\">\r\n"

// watchCML is a whole CommerceML document as BAS writes it.
func watchCML(body string) string {
	return watchHead + body + "\r\n</КоммерческаяИнформация>\r\n"
}

// watchCP1251 is s in windows-1251, as BAS writes it when told to.
func watchCP1251(t testing.TB, s string) string {
	t.Helper()
	s = strings.TrimPrefix(strings.Replace(s, "UTF-8", "windows-1251", 1), "\uFEFF")
	b, err := charmap.Windows1251.NewEncoder().String(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// watchPartial is a document BAS has not finished writing.
func watchPartial(body string) string { return watchHead + body }
