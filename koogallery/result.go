package koogallery

import (
	"errors"
	"fmt"
	"regexp"
)

// ResultCode is the six-digit resultCode of every answer to KooGallery.
type ResultCode string

// The documented result codes. KooGallery treats anything but
// ResultSuccess as a failure; for newInstance it retries (and eventually
// cancels the order), and ResultProcessing asks it to call again later.
const (
	// ResultSuccess: the call succeeded ("000000").
	ResultSuccess ResultCode = "000000"
	// ResultAuthFailed: the signature is missing or wrong, or the nonce
	// was used before ("000001").
	ResultAuthFailed ResultCode = "000001"
	// ResultInvalidParameter: a parameter is missing, malformed or too
	// long, the body is not a JSON object, the timestamp or nonce is
	// missing, or the timestamp is outside the window ("000002").
	ResultInvalidParameter ResultCode = "000002"
	// ResultInstanceNotFound: the instance does not exist (refresh,
	// status, release, upgrade, query) ("000003").
	ResultInstanceNotFound ResultCode = "000003"
	// ResultProcessing: the request is being processed; KooGallery asks
	// again later ("000004").
	ResultProcessing ResultCode = "000004"
	// ResultInternalError: any other failure on the vendor's side
	// ("000005").
	ResultInternalError ResultCode = "000005"
	// ResultNoResources: no instance resource is available (newInstance,
	// upgrade) ("000100").
	ResultNoResources ResultCode = "000100"
	// ResultAppSecretProblem: the joint-operation kit's applicationSync
	// carried a clientSecret that could not be decrypted with the vendor's
	// private key ("000101", the Huawei Java sample's APP_SECRET_PROBLEM).
	// KooGallery's pages also use 000101–000199 for product-specific
	// newInstance errors; return those with NewError.
	ResultAppSecretProblem ResultCode = "000101"
)

var resultCodePattern = regexp.MustCompile(`^[0-9]{6}$`)

// Valid reports whether c is six decimal digits.
func (c ResultCode) Valid() bool { return resultCodePattern.MatchString(string(c)) }

// defaultMessage is the resultMsg of each code when nothing more specific
// is known; the success message is the sample's "success.".
func (c ResultCode) defaultMessage() string {
	switch c {
	case ResultSuccess:
		return "success."
	case ResultAuthFailed:
		return "authentication failed"
	case ResultInvalidParameter:
		return "invalid request parameter"
	case ResultInstanceNotFound:
		return "instance not found"
	case ResultProcessing:
		return "request is processing"
	case ResultNoResources:
		return "no instance resource available"
	case ResultAppSecretProblem:
		return "something wrong with appSecret"
	}
	return "internal error"
}

// Error is a KooGallery result: the code and message a vendor answers
// with, or that a call to a vendor was answered with (Caller). A Vendor
// method returns one (or wraps one with %w) to choose the code; any other
// error is answered with ResultInternalError and a generic message, so
// that internal details never reach KooGallery. Find one with errors.As;
// errors.Is matches on the code, so
// errors.Is(err, koogallery.ErrInstanceNotFound) holds for any error with
// code 000003.
type Error struct {
	Code    ResultCode
	Message string
}

// NewError returns an *Error with a product-specific or documented code,
// for example NewError("000107", "email domain already used").
func NewError(code ResultCode, message string) *Error {
	return &Error{Code: code, Message: message}
}

func (e *Error) Error() string {
	msg := e.Message
	if msg == "" {
		msg = e.Code.defaultMessage()
	}
	return fmt.Sprintf("koogallery: result %s: %s", e.Code, msg)
}

// Is matches another *Error with the same code.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Code == e.Code
}

// Sentinels a Vendor returns (directly or wrapped with %w) to answer with
// their code.
var (
	// ErrInvalidParameter answers 000002.
	ErrInvalidParameter = &Error{Code: ResultInvalidParameter, Message: "invalid request parameter"}
	// ErrInstanceNotFound answers 000003.
	ErrInstanceNotFound = &Error{Code: ResultInstanceNotFound, Message: "instance not found"}
	// ErrProcessing answers 000004: KooGallery calls again later. From
	// NewInstance it records nothing, so the next newInstance for the
	// order reaches the vendor again.
	ErrProcessing = &Error{Code: ResultProcessing, Message: "request is processing"}
	// ErrInternal answers 000005.
	ErrInternal = &Error{Code: ResultInternalError, Message: "internal error"}
	// ErrNoResources answers 000100.
	ErrNoResources = &Error{Code: ResultNoResources, Message: "no instance resource available"}
	// ErrAuthFailed is the answer to a call whose signature, timestamp or
	// nonce was refused (000001); a Vendor has no reason to return it.
	ErrAuthFailed = &Error{Code: ResultAuthFailed, Message: "authentication failed"}
)

// ErrNotImplemented is what UnimplementedVendor and UnimplementedKitVendor
// return for an activity the vendor has not implemented; it is answered
// with ResultInternalError and the message "<activity> not implemented".
var ErrNotImplemented = errors.New("koogallery: activity not implemented")

// resultFor maps a vendor's error to the code and message KooGallery gets.
func resultFor(activity string, err error) (ResultCode, string) {
	var e *Error
	switch {
	case err == nil:
		return ResultSuccess, ResultSuccess.defaultMessage()
	case errors.As(err, &e) && e.Code.Valid():
		msg := e.Message
		if msg == "" {
			msg = e.Code.defaultMessage()
		}
		return e.Code, msg
	case errors.Is(err, ErrNotImplemented):
		return ResultInternalError, activity + " not implemented"
	}
	return ResultInternalError, ResultInternalError.defaultMessage()
}
