// Package threeway holds BenchmarkThreeWay, which reads one generated catalogue with each of
// readers.Methods (docs/performance.md); cmd/readrss measures each method's peak RSS in a process of its
// own. It is a module of its own, beside obmin's, for the tokenizers only the comparison uses.
package threeway
