package mockserver

import (
	"encoding/json"
	"net/http"
	"strings"

	"github.com/truewatch-labs/marketplace-go/internal/httpcore"
	"github.com/truewatch-labs/marketplace-go/internal/routes"
)

// envelope is TrueWatch's response envelope as the mock writes it.
type envelope struct {
	Code      int                `json:"code"`
	Content   any                `json:"content"`
	PageInfo  *httpcore.PageInfo `json:"pageInfo,omitempty"`
	ErrorCode string             `json:"errorCode"`
	Message   string             `json:"message"`
	Success   bool               `json:"success"`
	TraceID   string             `json:"traceId"`
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status = http.StatusInternalServerError
		b = []byte(`{"error_code":"MOCK.0500","error_msg":"encode response"}`)
	}
	w.Header().Set("Content-Type", "application/json;charset=UTF-8")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// traceID returns the request's trace ID: TRACE- and an upper-case UUID,
// derived from the request ID so logs on both sides line up.
func traceID(r *http.Request) string {
	id := requestIDFrom(r)
	if isHex32(id) {
		// The usual case, on every TrueWatch answer: built on the stack,
		// in one allocation.
		var b [len("TRACE-") + 36]byte
		n := copy(b[:], "TRACE-")
		for i := range 32 {
			if i == 8 || i == 12 || i == 16 || i == 20 {
				b[n] = '-'
				n++
			}
			c := id[i]
			if 'a' <= c && c <= 'f' {
				c -= 'a' - 'A'
			}
			b[n] = c
			n++
		}
		return string(b[:])
	}
	h := strings.ToUpper(id)
	for len(h) < 32 {
		h += "0"
	}
	return "TRACE-" + h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

// isHex32 reports whether s is 32 lower-case hex characters, a request ID.
func isHex32(s string) bool {
	if len(s) != 32 {
		return false
	}
	for i := range len(s) {
		if c := s[i]; !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

// writeTWOK writes a successful TrueWatch envelope.
func writeTWOK(w http.ResponseWriter, r *http.Request, content any, page *httpcore.PageInfo) {
	writeJSON(w, http.StatusOK, envelope{Code: 200, Content: content, PageInfo: page, Success: true, TraceID: traceID(r)})
}

// writeTWError writes a failed TrueWatch envelope: content is {} unless
// detail is given (the validation problems).
func writeTWError(w http.ResponseWriter, r *http.Request, status int, code, msg string, detail any) {
	if detail == nil {
		detail = struct{}{}
	}
	writeJSON(w, status, envelope{Code: status, Content: detail, ErrorCode: code, Message: msg, Success: false, TraceID: traceID(r)})
}

// huaweiError is the error body of Huawei's API gateway and of BSS.
type huaweiError struct {
	ErrorCode string `json:"error_code"`
	ErrorMsg  string `json:"error_msg"`
	RequestID string `json:"request_id,omitempty"`
}

func writeHuaweiError(w http.ResponseWriter, r *http.Request, status int, code, msg string) {
	writeJSON(w, status, huaweiError{ErrorCode: code, ErrorMsg: msg, RequestID: requestIDFrom(r)})
}

// family says which error shape a path's callers expect.
type family int

const (
	familyHuawei family = iota
	familyTrueWatch
	familyControl
	familyVendor // TrueWatch's production interface: KooGallery's answer shape
	familyIdP    // the unified login: OAuth2's error shape
)

func familyOf(path string) family {
	switch {
	case strings.HasPrefix(path, routes.MockBillingPrefix+"/"), strings.HasPrefix(path, routes.MockSitesPrefix):
		return familyTrueWatch
	case strings.HasPrefix(path, routes.MockControlPrefix):
		return familyControl
	case path == VendorProducePath || strings.HasPrefix(path, VendorProducePath+"/"):
		return familyVendor
	case strings.HasPrefix(path, idpPrefix):
		return familyIdP
	}
	return familyHuawei
}

// writeError writes an error in the shape of the path's API family.
func writeError(w http.ResponseWriter, r *http.Request, status int, twCode, hwCode, msg string) {
	switch familyOf(r.URL.Path) {
	case familyTrueWatch:
		writeTWError(w, r, status, twCode, msg, nil)
	case familyControl:
		writeJSON(w, status, map[string]string{"error": msg, "code": twCode})
	case familyIdP:
		code := "server_error"
		if status < 500 {
			code = "invalid_request"
		}
		writeJSON(w, status, map[string]string{"error": code, "error_description": msg})
	case familyVendor:
		code := "000005" // internal error: what a vendor answers when it fails
		if status < 500 {
			code = "000002"
		}
		writeJSON(w, status, map[string]string{"resultCode": code, "resultMsg": msg})
	default:
		writeHuaweiError(w, r, status, hwCode, msg)
	}
}
