package main

import (
	"context"
	"errors"
	"io"
)

// cmdEmulator runs the Checkbox emulator as a process of its own.
func cmdEmulator(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	return errors.New("emulator: not implemented yet")
}
