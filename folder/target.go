package folder

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"obmin/internal/atomicfile"
)

// Target is a folder obmin delivers files into: where BAS's exchange node reads its orders file. A local
// or shared folder now; an SFTP folder implements it too. The exchange code does not know which it has.
type Target interface {
	String() string // for logs and status, no secrets
	// WriteFile replaces name with data as one step: BAS never sees half a file (temp name, flush,
	// rename over the old one), and the result is verified.
	WriteFile(ctx context.Context, name string, data []byte) error
	// WriteFrom replaces name with what write writes, as WriteFile does, without holding the content: the
	// bytes go straight into the temporary file and are checked by their size and SHA-256. write is called
	// once; an error from it leaves the old file as it was.
	WriteFrom(ctx context.Context, name string, write func(w io.Writer) error) error
	// ReadFile returns the file's content; an error wrapping os.ErrNotExist when there is none.
	ReadFile(ctx context.Context, name string) ([]byte, error)
	// Open opens the file for reading, for files too large to hold; an error wrapping os.ErrNotExist when
	// there is none.
	Open(ctx context.Context, name string) (io.ReadCloser, error)
}

// DeliveredFileMode is the mode of files obmin delivers (the orders file): they hold receipts, so only
// obmin's account and its group (BAS's, where it reads them) may read them.
const DeliveredFileMode = 0o640

// LocalTarget delivers into a local or mounted folder.
func LocalTarget(dir string) Target { return localTarget{dir: dir} }

type localTarget struct{ dir string }

func (t localTarget) String() string { return t.dir }

func (t localTarget) path(name string) (string, error) {
	if name == "" || strings.ContainsAny(name, `/\`) || name == "." || name == ".." || filepath.IsAbs(name) {
		return "", fmt.Errorf("target %s: %q is not a plain file name", t.dir, name)
	}
	return filepath.Join(t.dir, name), nil
}

func (t localTarget) WriteFile(ctx context.Context, name string, data []byte) error {
	return t.WriteFrom(ctx, name, func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	})
}

func (t localTarget) WriteFrom(ctx context.Context, name string, write func(w io.Writer) error) error {
	p, err := t.path(name)
	if err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := os.MkdirAll(t.dir, 0o755); err != nil {
		return err
	}
	// An earlier write of name killed between its temporary file and the rename left ".<name>.<random>.tmp"
	// here; nothing else ever removes it from BAS's folder. Best effort: a temp that cannot be removed
	// must not stop the delivery itself (the next write tries again).
	_ = atomicfile.RemoveTemps(t.dir, name)
	var sum ContentSum
	if err := atomicfile.WriteFile(p, DeliveredFileMode, func(w io.Writer) error {
		return write(io.MultiWriter(w, &sum))
	}); err != nil {
		return err
	}
	f, err := os.Open(p)
	if err != nil {
		return fmt.Errorf("verify %s: %w", p, err)
	}
	defer f.Close()
	var got ContentSum
	if _, err := io.Copy(&got, f); err != nil {
		return fmt.Errorf("verify %s: %w", p, err)
	}
	if !got.Equal(&sum) {
		return fmt.Errorf("verify %s: the file on disk differs from what was written (%d of %d bytes)", p, got.Size(), sum.Size())
	}
	return nil
}

func (t localTarget) ReadFile(ctx context.Context, name string) ([]byte, error) {
	p, err := t.path(name)
	if err != nil {
		return nil, err
	}
	return os.ReadFile(p)
}

func (t localTarget) Open(ctx context.Context, name string) (io.ReadCloser, error) {
	p, err := t.path(name)
	if err != nil {
		return nil, err
	}
	return os.Open(p)
}
