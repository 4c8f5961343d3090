package folder

import (
	"bytes"
	"crypto/sha256"
	"hash"
)

// ContentSum is an io.Writer that counts and hashes (SHA-256) what passes through it: a file too large to
// hold is compared with what was written by its sum, not byte for byte. The zero value is ready.
type ContentSum struct {
	size int64
	h    hash.Hash
}

func (c *ContentSum) Write(p []byte) (int, error) {
	if c.h == nil {
		c.h = sha256.New()
	}
	c.h.Write(p) // a hash never fails
	c.size += int64(len(p))
	return len(p), nil
}

// Size is the number of bytes written.
func (c *ContentSum) Size() int64 { return c.size }

// Equal says whether c and o saw the same bytes.
func (c *ContentSum) Equal(o *ContentSum) bool {
	return c.size == o.size && bytes.Equal(c.sum(), o.sum())
}

func (c *ContentSum) sum() []byte {
	if c.h == nil {
		c.h = sha256.New()
	}
	return c.h.Sum(nil)
}
