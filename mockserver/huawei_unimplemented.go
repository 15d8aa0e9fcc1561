package mockserver

import (
	"fmt"
	"net/http"

	"github.com/truewatch-labs/marketplace-go/internal/hwops"
)

// HuaweiOperation is an operation of the official SDK's IAM, STS, BSS or
// BSS international client, and whether the mock serves it.
type HuaweiOperation struct {
	// Service is "IAM", "STS" or "BSS".
	Service string
	// Name is the SDK's method name, e.g. "KeystoneListAuthDomains".
	Name string
	// Method and Path are the HTTP method and path template.
	Method, Path string
	// Served is true for the operations the mock answers; the others
	// answer HTTP 501 MOCK.0501.
	Served bool
}

// HuaweiOperations lists every operation of the official SDK's IAM, STS,
// BSS and BSS international clients (of the SDK version in go.mod), sorted
// by path, saying which the mock serves. A call to any other (or to a path
// that is none of them) answers HTTP 501 with error_code MOCK.0501 in
// Huawei's {"error_code","error_msg","request_id"} shape, naming the
// operation when it is one of these, never the 404 Huawei answers for a
// mistyped path: a test against the mock can always tell "the mock lacks
// this" from "Huawei says no".
func HuaweiOperations() []HuaweiOperation {
	served := map[string]bool{}
	for _, rt := range (&Server{}).huaweiRoutes() {
		served[rt.method+" "+rt.path] = true
	}
	var out []HuaweiOperation
	for _, op := range hwops.All() {
		out = append(out, HuaweiOperation{Service: op.Service, Name: op.Name, Method: op.Method, Path: op.Path,
			Served: served[op.Method+" "+op.Path]})
	}
	return out
}

// notImplemented answers a Huawei call the mock does not serve: HTTP 501
// MOCK.0501 in Huawei's error_code shape (whatever the service, so that the
// SDK decodes the code), naming the operation when the SDK has one for
// this method and path.
func notImplemented(w http.ResponseWriter, r *http.Request) {
	var msg string
	if op, ok := hwops.Find(r.Method, r.URL.Path); ok {
		msg = fmt.Sprintf("the mock server does not implement %s %s (%s %s); docs/huawei-operations.md lists the Huawei calls it serves",
			op.Service, op.Name, op.Method, op.Path)
	} else {
		msg = fmt.Sprintf("the mock server does not implement %s %s, which is no IAM, STS or BSS operation of huaweicloud-sdk-go-v3 %s "+
			"(check the method and path); docs/huawei-operations.md lists the Huawei calls it serves", r.Method, r.URL.Path, hwops.SDKVersion)
	}
	writeHuaweiError(w, r, http.StatusNotImplemented, hwCodeNotImplemented, msg)
}
