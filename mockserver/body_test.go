package mockserver

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/stretchr/testify/assert"
)

// TestReadAllReadsWhatIoReadAllReads holds readRequestBody to io.ReadAll for
// bodies as long as declared, shorter, longer, without a length, larger
// than presized, read a byte at a time, and past the server's limit.
func TestReadAllReadsWhatIoReadAllReads(t *testing.T) {
	long := strings.Repeat("x", maxPresizedBody+10)
	cases := []struct {
		name     string
		body     string
		declared int64
		limit    int64 // 0: no MaxBytesReader
		oneByte  bool
	}{
		{name: "as declared", body: `{"a":1}`, declared: 7},
		{name: "empty", body: "", declared: 0},
		{name: "shorter than declared", body: `{"a":1}`, declared: 20},
		{name: "longer than declared", body: `{"a":1234567}`, declared: 3},
		{name: "no length", body: `{"a":1}`, declared: -1},
		{name: "larger than presized", body: long, declared: int64(len(long))},
		{name: "a byte at a time", body: `{"abc":"def"}`, declared: 13, oneByte: true},
		{name: "past the limit", body: `{"abcdef":1}`, declared: 12, limit: 5},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			read := func(f func(*http.Request) ([]byte, error)) ([]byte, error) {
				r := httptest.NewRequest(http.MethodPost, "/", nil)
				var body io.Reader = strings.NewReader(c.body)
				if c.oneByte {
					body = iotest.OneByteReader(body)
				}
				r.Body, r.ContentLength = io.NopCloser(body), c.declared
				if c.limit > 0 {
					r.Body = http.MaxBytesReader(httptest.NewRecorder(), r.Body, c.limit)
				}
				return f(r)
			}
			want, wantErr := read(func(r *http.Request) ([]byte, error) { return io.ReadAll(r.Body) })
			got, err := read(readRequestBody)
			assert.True(t, bytes.Equal(want, got), "read %q, io.ReadAll %q", got, want)
			assert.Equal(t, wantErr, err)
			var mbe *http.MaxBytesError
			assert.Equal(t, c.limit > 0, errors.As(err, &mbe))
		})
	}
}
