// Package layout holds the test that keeps obmin's import arrows pointing one way, toward the pure
// packages, as README's layout and each package's doc comment describe them. It has no code.
package layout
