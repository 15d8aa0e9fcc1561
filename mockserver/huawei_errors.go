package mockserver

import (
	"net/http"
	"strings"

	"github.com/truewatch-labs/marketplace-go/apierror"
)

// Huawei's services answer errors in different shapes, and the official
// SDK decodes them differently (see docs/divergences.md):
//
//   - the API gateway, in front of every service, refuses what it checks
//     itself (the signature, an oversized body) as
//     {"error_code":"APIGW.0301","error_msg":...,"request_id":...};
//   - IAM's Keystone APIs (/v3/...) answer
//     {"error":{"code":404,"message":...,"title":"Not Found"}}, whose
//     numeric code leaves the SDK's ErrorCode empty and its ErrorMessage
//     the raw body;
//   - IAM's other APIs (/v3.0/..., /v3-ext/...) answer
//     {"error_code":"IAM.0007","error_msg":...};
//   - STS (/v5/...) and BSS (/v2/... and the rest) answer
//     {"error_code":...,"error_msg":...}, BSS with CBC.* codes.
//
// The mock answers each in its own shape, so code that branches on the
// SDK's decoded error sees in tests what it sees in production.

// hwService is the Huawei service a path belongs to, for its error shape.
type hwService int

const (
	svcBSS      hwService = iota // BSS and BSS international (/v2/...)
	svcKeystone                  // IAM Keystone APIs (/v3/...)
	svcIAM                       // IAM's other APIs (/v3.0/..., /v3-ext/...)
	svcSTS                       // STS (/v5/...)
)

func hwServiceOf(path string) hwService {
	switch {
	case strings.HasPrefix(path, "/v3/"), path == "/v3":
		return svcKeystone
	case strings.HasPrefix(path, "/v3.0/"), strings.HasPrefix(path, "/v3-ext/"):
		return svcIAM
	case strings.HasPrefix(path, "/v5/"):
		return svcSTS
	}
	return svcBSS
}

// hwKind is the kind of a refusal by the service itself (not the gateway).
type hwKind int

const (
	hwInvalid hwKind = iota // 400: a parameter or the body is invalid
	hwDenied                // 403: the caller may not do this
	hwMissing               // 404: no such resource for the caller
)

// Error codes the mock uses besides those in apierror. IAM.0007 is the
// code IAM documents for "Request parameter %(key)s is invalid"; IAM.0002
// and IAM.0004 for denials and missing resources of IAM's non-Keystone
// APIs, and the IAM.0001 STS answers, are the mock's choice (Huawei does
// not document them).
const (
	hwCodeBodyTooLarge   = "APIGW.0201"
	hwCodeNoRoute        = "APIGW.0101"
	hwCodeIAMInvalid     = "IAM.0007"
	hwCodeIAMNotFound    = "IAM.0004"
	hwCodeNotImplemented = "MOCK.0501"
)

// hwCodes are the error_code of each kind, per service.
var hwCodes = map[hwService][3]string{
	svcBSS: {apierror.CodeHuaweiInvalidParameter, apierror.CodeHuaweiAccessDenied, apierror.CodeHuaweiResourceNotFound},
	svcIAM: {hwCodeIAMInvalid, apierror.CodeHuaweiIAMForbidden, hwCodeIAMNotFound},
	svcSTS: {apierror.CodeHuaweiIAMInvalidRequest, apierror.CodeHuaweiIAMForbidden, hwCodeIAMNotFound},
}

var hwKindStatus = [3]int{http.StatusBadRequest, http.StatusForbidden, http.StatusNotFound}

// hwFail writes a refusal of kind in the shape of r's service.
func hwFail(w http.ResponseWriter, r *http.Request, kind hwKind, msg string) {
	svc := hwServiceOf(r.URL.Path)
	status := hwKindStatus[kind]
	if svc == svcKeystone {
		writeKeystoneError(w, status, msg)
		return
	}
	writeHuaweiError(w, r, status, hwCodes[svc][kind], msg)
}

// hwBadRequest writes HTTP 400 in the shape of r's service.
func hwBadRequest(w http.ResponseWriter, r *http.Request, msg string) { hwFail(w, r, hwInvalid, msg) }

// keystoneError is the error body of IAM's Keystone APIs.
type keystoneError struct {
	Error keystoneErrorBody `json:"error"`
}

type keystoneErrorBody struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
	Title   string `json:"title"`
}

func writeKeystoneError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, keystoneError{Error: keystoneErrorBody{Code: status, Message: msg, Title: http.StatusText(status)}})
}
