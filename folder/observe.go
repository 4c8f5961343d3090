package folder

import (
	"context"
	"errors"
	"io"
	"io/fs"

	"obmin/drop"
)

// ObserveSource wraps src so that observe learns, after every listing, whether BAS's folder could be read:
// nil, or the error. Opening a file BAS has removed meanwhile says nothing either way; another error
// opening one is observed. Cancellation is not observed: it says nothing about the folder.
func ObserveSource(src Source, observe func(error)) Source { return observedSource{src, observe} }

type observedSource struct {
	Source
	observe func(error)
}

func (o observedSource) List(ctx context.Context) ([]drop.File, error) {
	files, err := o.Source.List(ctx)
	o.report(ctx, err)
	return files, err
}

func (o observedSource) Open(ctx context.Context, path string) (io.ReadCloser, error) {
	r, err := o.Source.Open(ctx, path)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		o.report(ctx, err)
	}
	return r, err
}

func (o observedSource) report(ctx context.Context, err error) {
	if ctx.Err() == nil {
		o.observe(err)
	}
}

// ObserveTarget wraps t the same way: every write and read of the orders folder is observed; a file
// that is not there (ReadFile) shows the folder is reachable.
func ObserveTarget(t Target, observe func(error)) Target { return observedTarget{t, observe} }

type observedTarget struct {
	Target
	observe func(error)
}

func (o observedTarget) WriteFile(ctx context.Context, name string, data []byte) error {
	err := o.Target.WriteFile(ctx, name, data)
	if ctx.Err() == nil {
		o.observe(err)
	}
	return err
}

func (o observedTarget) ReadFile(ctx context.Context, name string) ([]byte, error) {
	b, err := o.Target.ReadFile(ctx, name)
	if ctx.Err() == nil {
		if errors.Is(err, fs.ErrNotExist) {
			o.observe(nil)
		} else {
			o.observe(err)
		}
	}
	return b, err
}

func (o observedTarget) WriteFrom(ctx context.Context, name string, write func(w io.Writer) error) error {
	// write failing on its own (the content could not be made) says nothing about the folder; failing
	// because the folder refused a write does.
	contentErr := false
	err := o.Target.WriteFrom(ctx, name, func(w io.Writer) error {
		ew := &errWriter{w: w}
		werr := write(ew)
		contentErr = werr != nil && ew.err == nil
		return werr
	})
	if ctx.Err() == nil && !contentErr {
		o.observe(err)
	}
	return err
}

func (o observedTarget) Open(ctx context.Context, name string) (io.ReadCloser, error) {
	r, err := o.Target.Open(ctx, name)
	if ctx.Err() == nil {
		if errors.Is(err, fs.ErrNotExist) {
			o.observe(nil)
		} else {
			o.observe(err)
		}
	}
	return r, err
}

// errWriter remembers the first error of the writer it wraps.
type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) Write(p []byte) (int, error) {
	n, err := e.w.Write(p)
	if err != nil && e.err == nil {
		e.err = err
	}
	return n, err
}
