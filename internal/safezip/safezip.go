// Package safezip unpacks zip archives from outside without trusting them: names are confined to the
// destination, sizes and entry counts are bounded.
package safezip

import (
	"context"
	"errors"
)

// Limits bound what one archive may unpack to.
type Limits struct {
	MaxFiles int   // entries that are files
	MaxTotal int64 // bytes unpacked in all
	MaxFile  int64 // bytes unpacked for one entry
}

// Extract unpacks the plain files of zipPath into dest and returns their slash-separated paths relative to
// dest. Directories are created as needed; links and special files are refused; a name that would escape
// dest, or that is absolute, is an error; exceeding a limit is an error and leaves nothing half-written.
func Extract(ctx context.Context, zipPath, dest string, lim Limits) ([]string, error) {
	return nil, errors.New("safezip: not implemented yet")
}
