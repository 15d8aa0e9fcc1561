package mockserver

import (
	"io"
	"net/http"
)

// maxPresizedBody is the largest declared Content-Length a body's buffer
// is allocated for before it is read; a larger body (or one without a
// length) grows as io.ReadAll grows it, so that a request only claiming
// a large body costs nothing until it sends it.
const maxPresizedBody = 64 << 10

// readRequestBody reads r's body as io.ReadAll does (errors included: a body past
// the server's limit fails with *http.MaxBytesError), in one allocation
// of its declared length when it has one: every POST's body is read
// whole, and io.ReadAll's first 512 bytes are ten times most of them.
func readRequestBody(r *http.Request) ([]byte, error) {
	n := r.ContentLength
	if n <= 0 || n > maxPresizedBody {
		return io.ReadAll(r.Body)
	}
	// One byte more than declared, so that the read seeing io.EOF does not
	// grow the buffer.
	b := make([]byte, 0, n+1)
	for {
		m, err := r.Body.Read(b[len(b):cap(b)])
		b = b[:len(b)+m]
		if err != nil {
			if err == io.EOF {
				err = nil
			}
			return b, err
		}
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)] // longer than declared: grow as io.ReadAll does
		}
	}
}
