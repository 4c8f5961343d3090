package exchange_test

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"obmin/internal/demo"
)

// A drop whose import.xml hides a CDATA section bigger than the reader's token limit (with '<' all
// through it, which the old text bound did not see) fails with the file, element and line, and nothing
// of it reaches Checkbox.
func TestDropWithHugeCDATAFails(t *testing.T) {
	r := newRig(t, nil)
	cat := demo.Catalog(demo.Books, time.Now())
	open := regexp.MustCompile(`<Каталог[^>]*>`).FindIndex(cat)
	if open == nil {
		t.Fatal("no <Каталог> in the demo catalogue")
	}
	line := bytes.Count(cat[:open[1]], []byte("\n")) + 2
	hostile := append(append(append([]byte{}, cat[:open[1]]...), "\n<![CDATA["+strings.Repeat("<Товар>x</Товар>", 80000)+"]]>"...), cat[open[1]:]...)
	dir := filepath.Join(r.export, demo.FolderName)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "import.xml"), hostile, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "offers.xml"), demo.Offers(demo.Books, time.Now()), 0o644); err != nil {
		t.Fatal(err)
	}
	r.pass()
	notes, _ := filepath.Glob(filepath.Join(r.spool.Dir("failed"), "*.error.txt"))
	if len(notes) != 1 {
		t.Fatalf("the drop did not fail: %v", notes)
	}
	note, _ := os.ReadFile(notes[0])
	for _, want := range []string{"import.xml:" + strconv.Itoa(line), "<Каталог>", "CDATA"} {
		if !strings.Contains(string(note), want) {
			t.Errorf("reason should say %q:\n%s", want, note)
		}
	}
	if n := len(r.emu.Goods()); n != 0 {
		t.Errorf("%d goods of the refused drop reached Checkbox", n)
	}
}
