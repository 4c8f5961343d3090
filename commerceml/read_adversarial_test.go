package commerceml

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

// repeatReader yields n copies of b without holding them in memory.
type repeatReader struct {
	b   []byte
	n   int64 // bytes left
	off int
}

func (r *repeatReader) Read(p []byte) (int, error) {
	if r.n <= 0 {
		return 0, io.EOF
	}
	k := 0
	for k < len(p) && r.n > 0 {
		c := copy(p[k:], r.b[r.off:])
		if int64(c) > r.n {
			c = int(r.n)
		}
		k += c
		r.n -= int64(c)
		r.off = (r.off + c) % len(r.b)
	}
	return k, nil
}

func repeated(s string, total int64) io.Reader { return &repeatReader{b: []byte(s), n: total} }

const advHead = `<?xml version="1.0" encoding="UTF-8"?><КоммерческаяИнформация ВерсияСхемы="2.08"><Каталог><Товары>`

// TestReadAdversarial: hostile input ends in a clear *ParseError, quickly and in bounded memory.
func TestReadAdversarial(t *testing.T) {
	tests := []struct {
		name string
		in   func() io.Reader
		want error // errors.Is target
		msg  string
	}{
		{"100k nested elements", func() io.Reader {
			return io.MultiReader(strings.NewReader(advHead), repeated("<a>", 3*100_000))
		}, ErrTooLarge, "nested more than 256 deep"},
		{"100 MB text node", func() io.Reader {
			return io.MultiReader(strings.NewReader(advHead+"<Товар><Наименование>"), repeated("книга ", 100<<20),
				strings.NewReader("</Наименование></Товар></Товары></Каталог></КоммерческаяИнформация>"))
		}, ErrTooLarge, "bytes of text or of one tag"},
		{"100 MB attribute", func() io.Reader {
			return io.MultiReader(strings.NewReader(advHead+`<Товар Статус="`), repeated("x", 100<<20),
				strings.NewReader(`"/></Товары></Каталог></КоммерческаяИнформация>`))
		}, ErrTooLarge, "bytes of text or of one tag"},
		{"a million attributes", func() io.Reader {
			return io.MultiReader(strings.NewReader(advHead+`<Товар `), repeated(`a="1" `, 6<<20),
				strings.NewReader(`/></Товары></Каталог></КоммерческаяИнформация>`))
		}, ErrTooLarge, "bytes of text or of one tag"},
		{"text in many CDATA sections", func() io.Reader {
			return io.MultiReader(strings.NewReader(advHead+"<Товар><Ид>"), repeated("<![CDATA["+strings.Repeat("y", 4000)+"]]>", 4100*1000),
				strings.NewReader("</Ид></Товар></Товары></Каталог></КоммерческаяИнформация>"))
		}, ErrTooLarge, "text longer than"},
		{"billion laughs", func() io.Reader {
			var b strings.Builder
			b.WriteString(`<?xml version="1.0"?><!DOCTYPE КоммерческаяИнформация [<!ENTITY lol "lol">`)
			prev := "lol"
			for i := 1; i < 10; i++ {
				name := "lol" + string(rune('0'+i))
				b.WriteString(`<!ENTITY ` + name + ` "` + strings.Repeat("&"+prev+";", 10) + `">`)
				prev = name
			}
			b.WriteString(`]><КоммерческаяИнформация><Каталог><Товары><Товар><Наименование>&lol9;</Наименование></Товар></Товары></Каталог></КоммерческаяИнформация>`)
			return strings.NewReader(b.String())
		}, nil, "invalid character entity &lol9;"},
		{"external entity", func() io.Reader {
			return strings.NewReader(`<?xml version="1.0"?><!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>` +
				`<КоммерческаяИнформация><Каталог><Товары><Товар><Наименование>&xxe;</Наименование></Товар></Товары></Каталог></КоммерческаяИнформация>`)
		}, nil, "invalid character entity &xxe;"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			runtime.GC()
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			start := time.Now()
			_, err := Read(tt.in(), "evil.xml", Handler{Good: func(Good) error { return nil }})
			took := time.Since(start)
			runtime.ReadMemStats(&after)
			var pe *ParseError
			if !errors.As(err, &pe) || pe.File != "evil.xml" || pe.Line == 0 {
				t.Fatalf("got %v (%T), want a *ParseError naming the file and a line", err, err)
			}
			if tt.want != nil && !errors.Is(err, tt.want) {
				t.Errorf("got %v, want %v", err, tt.want)
			}
			if !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("message %q does not say %q", err, tt.msg)
			}
			// Allocated in all, not live: a reader that held a 100 MB token would allocate more than that.
			if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 48<<20 {
				t.Errorf("allocated %d MiB", alloc>>20)
			}
			t.Logf("%v in %v, %d KiB allocated", err, took.Round(time.Millisecond), (after.TotalAlloc-before.TotalAlloc)>>10)
		})
	}
}

// TestReadTruncatedEverywhere cuts small samples at every byte: each prefix is read without panic and
// ends in a *ParseError, or reads cleanly only once the closing root tag is in.
func TestReadTruncatedEverywhere(t *testing.T) {
	// Small samples only: the work grows with the square of the size.
	for _, name := range []string{"catalog-cp1251.xml", "value-oddities-crlf.xml", "prices-only.xml", "rests-only.xml", "changes-package.xml"} {
		data, err := os.ReadFile(filepath.Join("testdata", "read", name))
		if err != nil {
			t.Fatal(err)
		}
		truncated := 0
		for i := 0; i <= len(data); i++ {
			_, err := Read(bytes.NewReader(data[:i]), name, Handler{})
			closed := i > bytes.LastIndexByte(data, '>') // the closing root tag is in (any encoding)
			var pe *ParseError
			switch {
			case err == nil && !closed:
				t.Fatalf("%s cut at %d of %d: no error", name, i, len(data))
			case err != nil && !errors.As(err, &pe):
				t.Fatalf("%s cut at %d: %v is not a *ParseError", name, i, err)
			case errors.Is(err, ErrTruncated):
				truncated++
			}
			if _, _, err := Sniff(bytes.NewReader(data[:i]), name); err != nil && !errors.As(err, &pe) {
				t.Fatalf("Sniff of %s cut at %d: %v is not a *ParseError", name, i, err)
			}
		}
		t.Logf("%s: %d prefixes, %d reported as truncated", name, len(data)+1, truncated)
	}
}
