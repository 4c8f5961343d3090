// Package ctxio lets a long read stop when its context ends: io.Reader has no context, and a parse of a
// large catalogue or a copy over a slow share must still stop on shutdown.
//
// It imports only the standard library.
package ctxio

import (
	"context"
	"io"
)

// Reader returns a reader of r whose Read fails with ctx's error once ctx is done.
func Reader(ctx context.Context, r io.Reader) io.Reader { return reader{ctx, r} }

type reader struct {
	ctx context.Context
	r   io.Reader
}

func (r reader) Read(p []byte) (int, error) {
	if err := r.ctx.Err(); err != nil {
		return 0, err
	}
	return r.r.Read(p)
}
