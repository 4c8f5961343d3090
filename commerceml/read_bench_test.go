package commerceml

import (
	"bytes"
	"encoding/xml"
	"io"
	"runtime"
	"testing"

	"obmin/internal/gen"
)

// readGenCatalog writes a catalogue of n goods shaped like УНФ's import.xml (docs/commerceml.md §2.1).
func readGenCatalog(w io.Writer, n int) error { return gen.Catalog(w, n, gen.Options{}) }

// readGenOffers writes an offers package of n offers shaped like УНФ's offers.xml (docs/commerceml.md §3.1).
func readGenOffers(w io.Writer, n int) error { return gen.Offers(w, n, gen.Options{}) }

// benchInput generates n records and sets the benchmark up to measure reading them.
func benchInput(b *testing.B, gen func(io.Writer, int) error, n int) []byte {
	var buf bytes.Buffer
	if err := gen(&buf, n); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(buf.Len()))
	b.ReportAllocs()
	b.ResetTimer()
	return buf.Bytes()
}

func readBench(b *testing.B, gen func(io.Writer, int) error, n int, h Handler) {
	data := benchInput(b, gen, n)
	for b.Loop() {
		sum, err := Read(bytes.NewReader(data), "bench.xml", h)
		if err != nil || sum.Goods+sum.Offers != n {
			b.Fatalf("read %+v: %v", sum, err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/record")
}

func BenchmarkReadCatalog(b *testing.B) {
	readBench(b, readGenCatalog, 20000, Handler{Good: func(Good) error { return nil }})
}

func BenchmarkReadOffers(b *testing.B) {
	readBench(b, readGenOffers, 20000, Handler{Offer: func(Offer) error { return nil }})
}

// The baselines walk the same bytes with a bare encoding/xml token loop: the floor any streaming Go
// reader pays. scripts/bench prints each reader's throughput as a share of its baseline, from one run.
func tokenBaseline(b *testing.B, gen func(io.Writer, int) error, n int) {
	data := benchInput(b, gen, n)
	for b.Loop() {
		d := xml.NewDecoder(bytes.NewReader(data))
		for {
			if _, err := d.Token(); err == io.EOF {
				break
			} else if err != nil {
				b.Fatal(err)
			}
		}
	}
}

func BenchmarkReadCatalogBaseline(b *testing.B) { tokenBaseline(b, readGenCatalog, 20000) }

func BenchmarkReadOffersBaseline(b *testing.B) { tokenBaseline(b, readGenOffers, 20000) }

// TestReadMemoryIsFlat streams 200 000 offers (about 180 MB), generated on the fly and never
// stored, and samples the heap every 10 000 records. The bound is deliberately generous: the point
// is that the heap does not grow with the file, not to measure it. Under -race the stream is cut to
// 20 000 offers to keep the package fast; run without -race for the full stream.
func TestReadMemoryIsFlat(t *testing.T) {
	if testing.Short() {
		t.Skip("streams 180 MB")
	}
	n, every := 200000, 10000
	if readRaceEnabled {
		n, every = 20000, 1000
	}
	const limit = 64 << 20
	pr, pw := io.Pipe()
	go func() { pw.CloseWithError(readGenOffers(pw, n)) }()
	defer pr.Close() // stops the generator if Read fails early

	var (
		ms      runtime.MemStats
		maxHeap uint64
		samples []uint64
		count   int
	)
	runtime.GC()
	sum, err := Read(pr, "stream.xml", Handler{Offer: func(Offer) error {
		if count++; count%every == 0 {
			runtime.ReadMemStats(&ms)
			samples = append(samples, ms.HeapInuse>>10)
			maxHeap = max(maxHeap, ms.HeapInuse)
		}
		return nil
	}})
	if err != nil || sum.Offers != n {
		t.Fatalf("read %d offers: %v", sum.Offers, err)
	}
	t.Logf("HeapInuse max %.1f MiB over %d offers; samples (KiB): %v", float64(maxHeap)/(1<<20), n, samples)
	if maxHeap > limit {
		t.Errorf("HeapInuse reached %d MiB, limit %d MiB: memory grows with the file", maxHeap>>20, limit>>20)
	}
}
