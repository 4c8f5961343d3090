package threeway_test

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"obmin/internal/gen"
	"obmin/internal/gen/threeway/readers"
)

// BenchmarkThreeWay reads one generated catalogue file, in one process, with each of readers.Methods:
//   - obmin: commerceml.Read with a no-op Good handler;
//   - token: a bare encoding/xml Token loop with the decoder set up as Read sets it up (the floor);
//   - etree: the naive approach, the whole document loaded with etree and its Товар elements counted;
//
// and, to see what the floor itself costs, two faster pure-Go streaming tokenizers (token loops only):
//   - gosax: github.com/orisano/gosax;
//   - xmltokenizer: github.com/muktihari/xmltokenizer.
//
// docs/performance.md records the figures; cmd/readrss measures peak RSS, one process per
// (method, N). N = 10 000 by default; scripts/bench passes -threeway.n=100000,1000000 in full mode.
var threewayN = flag.String("threeway.n", "10000", "comma-separated catalogue sizes for BenchmarkThreeWay (sizes above 10000 are skipped under -short)")

func threewaySizes(b *testing.B) []int {
	var sizes []int
	for _, f := range strings.Split(*threewayN, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n <= 0 {
			b.Fatalf("-threeway.n: bad size %q", f)
		}
		sizes = append(sizes, n)
	}
	return sizes
}

func BenchmarkThreeWay(b *testing.B) {
	for _, n := range threewaySizes(b) {
		b.Run(fmt.Sprintf("n=%d", n), func(b *testing.B) {
			if n > 10000 && testing.Short() {
				b.Skip("large catalogues only in full mode")
			}
			// One file per N, shared by every method: the same bytes, read from disk (page cache).
			path := filepath.Join(b.TempDir(), "import.xml")
			size := threewayWrite(b, path, n)
			for _, m := range readers.Methods {
				b.Run(m.Name, func(b *testing.B) {
					b.SetBytes(size)
					b.ReportAllocs()
					for b.Loop() {
						f, err := os.Open(path)
						if err != nil {
							b.Fatal(err)
						}
						got, err := m.Read(f)
						f.Close()
						if err != nil || got != n {
							b.Fatalf("%s: %d goods of %d: %v", m.Name, got, n, err)
						}
					}
					b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "goods/s")
				})
			}
		})
	}
}

func threewayWrite(b *testing.B, path string, n int) int64 {
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	err = errors.Join(gen.Catalog(f, n, gen.Options{}), f.Close())
	if err != nil {
		b.Fatal(err)
	}
	st, err := os.Stat(path)
	if err != nil {
		b.Fatal(err)
	}
	return st.Size()
}
