package spool

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"obmin/drop"
)

// ErrNothingToReplay is Replay's answer for a drop in failed/ that holds no files: one refused before its
// files were copied (Reject), which only a new export from BAS can bring.
var ErrNothingToReplay = errors.New("the drop holds no files: it was refused before its files were taken; export again from BAS")

// PreviousErrorName is the file a replayed drop keeps its old .error.txt under.
const PreviousErrorName = "obmin-previous-error.txt"

// Replay puts drop id from failed/ back into inbox/, to be applied again after its cause was fixed. Its
// .error.txt moves inside it (PreviousErrorName), so the drop carries its history to done/. Both moves are
// renames: a crash between them leaves the note inside the drop in failed/, and Replay can be run again.
func (s *Spool) Replay(id string) error {
	if err := drop.CheckName(id); err != nil {
		return fmt.Errorf("replay: drop id: %w", err)
	}
	from := filepath.Join(s.Dir("failed"), id)
	entries, err := os.ReadDir(from)
	if err != nil {
		return fmt.Errorf("replay %s: %w", id, err)
	}
	files := 0
	for _, e := range entries {
		if e.Name() != PreviousErrorName {
			files++
		}
	}
	if files == 0 {
		return fmt.Errorf("replay %s: %w", id, ErrNothingToReplay)
	}
	to := filepath.Join(s.Dir("inbox"), id)
	if err := mustNotExist(to); err != nil {
		return fmt.Errorf("replay %s: %w", id, err)
	}
	note := from + ".error.txt"
	kept := filepath.Join(from, PreviousErrorName)
	if _, err := os.Lstat(note); err == nil {
		if err := os.Remove(kept); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("replay %s: %w", id, err)
		}
		if err := os.Rename(note, kept); err != nil {
			return fmt.Errorf("replay %s: %w", id, err)
		}
	}
	if err := s.move(from, to); err != nil {
		return fmt.Errorf("replay %s: %w", id, err)
	}
	return nil
}
