// Package torture holds obmin's torture harness: a test that runs the real obmin binary against the Checkbox
// emulator running as its own process, kills obmin with SIGKILL at random moments, makes the emulator fail,
// drops bad files among good ones, and checks that nothing was lost and nothing was sent twice: at
// checkpoints during the run (-torture.checkpoint=N) and at the end, where obmin's own reconciliation
// (obmin reconcile) must agree with it.
//
// It runs only when asked: go test ./internal/torture -run TestTorture -v -torture.iterations=N.
// scripts/torture wraps it; docs/torture.md says what it does and checks.
//
// It has no code: its test drives the obmin binary and imports the emulators.
package torture
