// Package apierror holds the one error type every client in this module
// returns for a failed API call, the sentinels callers branch on with
// errors.Is, and the validation error that lists every problem in a request.
//
// It lives in its own small package so that billing, workspace, huawei and
// truewatch can all return the same type without importing each other.
// The family is small:
//
//   - *Error: a call failed. Every client returns one for every failed
//     call: the service answered with an error (HTTPStatus, ErrorCode,
//     Message, TraceID, RequestID), no answer came (HTTPStatus 0, matching
//     ErrTransport), or the client concluded from good answers that the
//     call cannot succeed; the cause (Err) then says what: a *PagingError
//     (the service repeated or ignored paging), or a client's own typed
//     result such as huawei's *PurchaseSelectionError.
//   - *ValidationError: input refused before anything was sent, listing
//     every problem.
//   - *OptionError: a client constructor refused its options, listing every
//     bad one.
//   - Sentinels for errors.Is, matched by all three (ErrNotFound,
//     ErrRateLimited, ErrValidation, ...).
//
// For example:
//
//	var apiErr *apierror.Error
//	if errors.As(err, &apiErr) {
//		log.Printf("op=%s status=%d code=%s trace=%s", apiErr.Operation,
//			apiErr.HTTPStatus, apiErr.ErrorCode, apiErr.TraceID)
//	}
//	if errors.Is(err, apierror.ErrRateLimited) { ... }
package apierror

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Sentinels for the cases callers branch on. An *Error matches a sentinel
// through its Is method, so errors.Is(err, apierror.ErrNotFound) works on any
// error returned by this module's clients.
var (
	// ErrNotFound: the addressed resource does not exist (HTTP 404, except
	// ft.RouteNotFound, which means the URL matches no operation).
	ErrNotFound = errors.New("not found")
	// ErrRateLimited: the service throttled the call (HTTP 429, TrueWatch's
	// HTTP 401 with ft.TriggerApi*CurrentLimiting, Huawei APIGW throttling).
	ErrRateLimited = errors.New("rate limited")
	// ErrUnauthorized: missing, invalid or expired credentials or token.
	ErrUnauthorized = errors.New("unauthorized")
	// ErrForbidden: the credentials are valid but lack permission.
	ErrForbidden = errors.New("forbidden")
	// ErrInvalidCode: the email verification code is wrong, or was
	// invalidated after too many wrong attempts.
	ErrInvalidCode = errors.New("invalid verification code")
	// ErrCodeExpired: the email verification code has expired.
	ErrCodeExpired = errors.New("verification code expired")
	// ErrAlreadyBound: the subscription, account or workspace is already
	// bound elsewhere.
	ErrAlreadyBound = errors.New("already bound")
	// ErrNameTaken: a username, email or workspace name is already in use.
	ErrNameTaken = errors.New("name taken")
	// ErrValidation: the request broke a documented rule. Returned both by
	// the clients before sending (as *ValidationError) and by the service.
	ErrValidation = errors.New("validation failed")
	// ErrConflict: the request conflicts with the current state (for example
	// a settlement change more than once in a calendar month).
	ErrConflict = errors.New("conflict")
	// ErrIdempotencyKeyReused: an Idempotency-Key was reused with a
	// different request body.
	ErrIdempotencyKeyReused = errors.New("idempotency key reused with a different request")
	// ErrResendTooSoon: a verification code was requested again before the
	// resend interval passed (HTTP 429 ft.VerificationCodeResendTooSoon). It
	// is not retried: the *Error's RetryAfter says how long to wait. A 429
	// that throttles calls is ErrRateLimited instead.
	ErrResendTooSoon = errors.New("verification code requested again too soon")
	// ErrTooManyRequests is the old name of ErrResendTooSoon, the same value.
	//
	// Deprecated: use ErrResendTooSoon; the name read like HTTP 429, which
	// is ErrRateLimited.
	ErrTooManyRequests = ErrResendTooSoon
	// ErrServer: the service failed (HTTP 5xx) after every retry.
	ErrServer = errors.New("server error")
	// ErrTransport: the request never got an HTTP response (DNS, connection
	// refused, TLS, timeout), or its body was cut short, after every retry.
	// A call whose context was cancelled does not match it.
	ErrTransport = errors.New("transport error")
	// ErrMalformedResponse: the service answered 2xx with a body that cannot
	// be decoded or lacks what the API promises. It is not retried.
	ErrMalformedResponse = errors.New("malformed response")
	// ErrAmbiguous: several candidates qualify where exactly one is needed
	// (for example two active purchases where one is looked for).
	ErrAmbiguous = errors.New("several candidates qualify")
	// ErrPaging: a listing stopped because the service repeated a page or
	// ignored the page asked for; asking for more would never end. The
	// cause is a *PagingError.
	ErrPaging = errors.New("inconsistent paging")

	// ErrOwnershipProof matches every refused proof of ownership of a
	// Huawei account (any ft.OwnershipProof* code); the sentinels below
	// say which refusal it was.
	ErrOwnershipProof = errors.New("ownership proof refused")
	// ErrProofRequired: the call is keyed by a Huawei account and carried
	// no proof that the caller controls it (ft.OwnershipProofRequired).
	ErrProofRequired = errors.New("ownership proof required")
	// ErrProofInvalid: the proof is malformed, or Huawei refused its
	// signature (ft.OwnershipProofInvalid).
	ErrProofInvalid = errors.New("ownership proof invalid")
	// ErrProofAudience: the proof names another Billing Center, or does not
	// sign the audience header (ft.OwnershipProofAudience).
	ErrProofAudience = errors.New("ownership proof for another audience")
	// ErrProofExpired: the proof's signing time is outside the window the
	// Billing Center accepts, in the past or the future
	// (ft.OwnershipProofExpired).
	ErrProofExpired = errors.New("ownership proof expired")
	// ErrProofReused: the proof was already used; every call, and every
	// retry of a call, needs a fresh one (ft.OwnershipProofReused).
	ErrProofReused = errors.New("ownership proof already used")
	// ErrProofEndpoint: the proof's request is not addressed to a Huawei
	// identity endpoint the Billing Center trusts (ft.OwnershipProofEndpoint).
	ErrProofEndpoint = errors.New("ownership proof for an endpoint that is not trusted")
	// ErrProofAccountMismatch: the proof is valid but proves another Huawei
	// account than the one the call names (ft.OwnershipProofAccountMismatch).
	ErrProofAccountMismatch = errors.New("ownership proof for another Huawei account")
	// ErrProofUnverifiable: the Billing Center could not get an answer from
	// Huawei to check the proof (ft.OwnershipProofUnverifiable); worth
	// retrying with a fresh proof.
	ErrProofUnverifiable = errors.New("ownership proof could not be verified")
)

// Error codes of other TrueWatch services, which the Billing Center and
// workspace contract never answers (its codes are the ft. codes of the
// block below, and only those). The clients still classify them
// (errors.Is), for a service that answers them.
const (
	// CodeNotFound is TrueWatch's generic "not found"; the contract names
	// what is missing (CodeSubscriptionNotFound, CodeWorkspaceNotFound, ...).
	CodeNotFound = "ft.NotFound"
	// CodeForbidden is TrueWatch's generic "forbidden"; the contract's 403
	// is CodeProofAccountMismatch.
	CodeForbidden = "ft.Forbidden"
	// Deprecated: the contract answers a broken rule with CodeValidation
	// and a problem naming the field (termsAccepted); this code is never
	// answered.
	CodeTermsNotAccepted = "ft.TermsNotAccepted"
	// Deprecated: never answered; see CodeTermsNotAccepted (password).
	CodePasswordPolicy = "ft.PasswordPolicy"
	// Deprecated: never answered; see CodeTermsNotAccepted (huaweiAccountId).
	CodeInvalidHuaweiAccountID = "ft.InvalidHuaweiAccountId"
	// Deprecated: never answered; see CodeTermsNotAccepted (instanceId).
	CodeInvalidInstanceID = "ft.InvalidInstanceId"
	// Deprecated: never answered; see CodeTermsNotAccepted (language).
	CodeUnsupportedLanguage = "ft.UnsupportedLanguage"
	// Deprecated: never answered; a site or language cannot be changed
	// because no operation changes them.
	CodeImmutableField = "ft.ImmutableField"
)

// TrueWatch error codes of the Billing Center and workspace contract
// (api/openapi.yaml, components/schemas/ErrorCode; the api package's tests
// keep the two lists equal), then the Huawei codes the clients branch on.
// They follow TrueWatch's "ft." prefix convention.
const (
	CodeValidation             = "ft.ValidationFailed"
	CodeInvalidJSON            = "ft.InvalidJSON"
	CodeBodyTooLarge           = "ft.BodyTooLarge"
	CodeUnsupportedMediaType   = "ft.UnsupportedMediaType"
	CodeRouteNotFound          = "ft.RouteNotFound"
	CodeMethodNotAllowed       = "ft.MethodNotAllowed"
	CodeUnauthorized           = "ft.Unauthorized"
	CodeTokenExpired           = "ft.TokenExpired"
	CodeInvalidCode            = "ft.InvalidVerificationCode"
	CodeCodeExpired            = "ft.VerificationCodeExpired"
	CodeCodeResendTooSoon      = "ft.VerificationCodeResendTooSoon"
	CodeUsernameTaken          = "ft.UsernameTaken"
	CodeEmailTaken             = "ft.EmailTaken"
	CodeWorkspaceNameTaken     = "ft.WorkspaceNameTaken"
	CodeSubscriptionNotFound   = "ft.SubscriptionNotFound"
	CodeSubscriptionInactive   = "ft.SubscriptionInactive"
	CodeAlreadyBound           = "ft.AlreadyBound"
	CodeSettlementLocked       = "ft.SettlementLocked"
	CodeSettlementChangeLimit  = "ft.SettlementChangeLimit"
	CodeAccountNotFound        = "ft.AccountNotFound"
	CodeWorkspaceNotFound      = "ft.WorkspaceNotFound"
	CodeBillingAccountNotFound = "ft.BillingAccountNotFound"
	CodeIdempotencyKeyReused   = "ft.IdempotencyKeyReused"
	CodeIdempotencyKeyInFlight = "ft.IdempotencyKeyInFlight"
	CodeAkRateLimited          = "ft.TriggerApiAkCurrentLimiting"
	CodeWorkspaceRateLimited   = "ft.TriggerApiWorkspaceCurrentLimiting"
	CodeInternal               = "ft.InternalError"
	CodeInjectedFault          = "ft.InjectedFault"
	CodeUnknownSite            = "ft.UnknownSite"
	// Proofs of ownership of a Huawei account (see ErrOwnershipProof).
	CodeProofRequired           = "ft.OwnershipProofRequired"
	CodeProofInvalid            = "ft.OwnershipProofInvalid"
	CodeProofAudience           = "ft.OwnershipProofAudience"
	CodeProofExpired            = "ft.OwnershipProofExpired"
	CodeProofReused             = "ft.OwnershipProofReused"
	CodeProofEndpoint           = "ft.OwnershipProofEndpoint"
	CodeProofAccountMismatch    = "ft.OwnershipProofAccountMismatch"
	CodeProofUnverifiable       = "ft.OwnershipProofUnverifiable"
	CodeHuaweiUnauthorized      = "APIGW.0301"
	CodeHuaweiThrottled         = "APIGW.0308"
	CodeHuaweiInvalidParameter  = "CBC.0100"
	CodeHuaweiAccessDenied      = "CBC.0150"
	CodeHuaweiResourceNotFound  = "CBC.0101"
	CodeHuaweiInternal          = "CBC.0999"
	CodeHuaweiIAMForbidden      = "IAM.0002"
	CodeHuaweiIAMInvalidRequest = "IAM.0001"
	// KooGallery's seller Open API (query order): rate limited (HTTP 406),
	// no such order or instance (HTTP 500), no authority, illegal token.
	CodeMarketplaceRateLimited = "CBC.0250"
	CodeMarketplaceNotFound    = "MKT.9001"
	CodeBillingNotFound        = "CBC.9001"
	CodeMarketplaceNoAuthority = "CBC.0151"
	CodeMarketplaceBadToken    = "CBC.0154"
)

// Error is a failed API call: the service answered with an error, the call
// never got an answer, or the client concluded from the answers that the
// call cannot succeed (HTTPStatus 0, the cause in Err). It carries what
// support needs to find the call (operation, HTTP status, trace and request
// IDs, attempts) and never any secret from the request.
type Error struct {
	// Service is the API family: "billing", "workspace", "huawei-iam",
	// "huawei-sts" or "huawei-bss".
	Service string
	// Operation is the client method, e.g. "BindBillingAccount".
	Operation string
	// HTTPStatus is the HTTP status of the failed answer; 0 when no response
	// was received, or when the failure is not one answer's (a conclusion
	// such as a *PagingError, see Err).
	HTTPStatus int
	// Code is the envelope's numeric code (TrueWatch mirrors HTTP status).
	Code int
	// ErrorCode is the service's error code, e.g. "ft.UsernameTaken" or
	// "APIGW.0301".
	ErrorCode string
	// Message is the service's human-readable message.
	Message string
	// TraceID is TrueWatch's traceId ("TRACE-<UUID>").
	TraceID string
	// RequestID is the X-Request-Id response header (Huawei and the mock).
	RequestID string
	// Attempts is how many HTTP attempts were made, including retries.
	Attempts int
	// RetryAfter is the server's Retry-After on the final response (for
	// example when a verification code was requested again too soon); 0
	// when the response had none.
	RetryAfter time.Duration
	// Err is the underlying cause (a transport error, a decode error, the
	// Huawei SDK's *sdkerr.ServiceResponseError, a *PagingError or a
	// client's own typed result); reachable with errors.As.
	Err error
}

// Error renders the operation, status, code, message and IDs on one line.
func (e *Error) Error() string {
	var b strings.Builder
	sep := func() {
		if b.Len() > 0 {
			b.WriteString(": ")
		}
	}
	if e.Service != "" {
		b.WriteString(e.Service)
	}
	if e.Operation != "" {
		sep()
		b.WriteString(e.Operation)
	}
	switch {
	case e.HTTPStatus != 0:
		sep()
		fmt.Fprintf(&b, "HTTP %d", e.HTTPStatus)
	case !e.concluded():
		sep()
		b.WriteString("no response")
	}
	if e.ErrorCode != "" {
		b.WriteString(" ")
		b.WriteString(e.ErrorCode)
	}
	if e.Message != "" {
		sep()
		b.WriteString(e.Message)
	}
	if e.Err != nil && e.Message == "" {
		sep()
		b.WriteString(e.Err.Error())
	}
	if e.TraceID != "" {
		b.WriteString(" (traceId ")
		b.WriteString(e.TraceID)
		b.WriteString(")")
	}
	if e.RequestID != "" {
		b.WriteString(" (requestId ")
		b.WriteString(e.RequestID)
		b.WriteString(")")
	}
	if e.Attempts > 1 {
		fmt.Fprintf(&b, " after %d attempts", e.Attempts)
	}
	return b.String()
}

// concluded reports whether the error is a conclusion the client drew from
// good answers (no single answer failed): its cause is a paging failure, or
// says that what was looked for is missing or ambiguous.
func (e *Error) concluded() bool {
	return e.HTTPStatus == 0 && e.Err != nil &&
		(errors.Is(e.Err, ErrPaging) || errors.Is(e.Err, ErrNotFound) || errors.Is(e.Err, ErrAmbiguous))
}

// Unwrap returns the underlying cause, if any.
func (e *Error) Unwrap() error { return e.Err }

// Is reports whether the error belongs to the class named by target, one of
// this package's sentinels.
func (e *Error) Is(target error) bool {
	switch target {
	case ErrNotFound:
		// ft.RouteNotFound says the URL is wrong (a misconfigured base
		// URL), not that the addressed resource is missing.
		return e.HTTPStatus == 404 && e.ErrorCode != CodeRouteNotFound || isOneOf(e.ErrorCode, CodeNotFound, CodeAccountNotFound,
			CodeWorkspaceNotFound, CodeBillingAccountNotFound, CodeSubscriptionNotFound, CodeHuaweiResourceNotFound,
			CodeMarketplaceNotFound, CodeBillingNotFound)
	case ErrRateLimited:
		return e.HTTPStatus == 429 && e.ErrorCode != CodeCodeResendTooSoon ||
			isOneOf(e.ErrorCode, CodeAkRateLimited, CodeWorkspaceRateLimited, CodeHuaweiThrottled, CodeMarketplaceRateLimited)
	case ErrUnauthorized:
		return (e.HTTPStatus == 401 && !e.Is(ErrRateLimited)) || isOneOf(e.ErrorCode, CodeUnauthorized, CodeTokenExpired, CodeHuaweiUnauthorized)
	case ErrForbidden:
		return e.HTTPStatus == 403 || isOneOf(e.ErrorCode, CodeHuaweiAccessDenied, CodeMarketplaceNoAuthority)
	case ErrInvalidCode:
		return e.ErrorCode == CodeInvalidCode
	case ErrCodeExpired:
		return e.ErrorCode == CodeCodeExpired
	case ErrAlreadyBound:
		return isOneOf(e.ErrorCode, CodeAlreadyBound, CodeSettlementLocked)
	case ErrNameTaken:
		return isOneOf(e.ErrorCode, CodeUsernameTaken, CodeEmailTaken, CodeWorkspaceNameTaken)
	case ErrValidation:
		return isOneOf(e.ErrorCode, CodeValidation, CodeInvalidJSON, CodeBodyTooLarge, CodeUnsupportedMediaType, CodeTermsNotAccepted,
			CodePasswordPolicy, CodeInvalidHuaweiAccountID, CodeInvalidInstanceID, CodeUnknownSite,
			CodeUnsupportedLanguage, CodeImmutableField, CodeHuaweiInvalidParameter, CodeHuaweiIAMInvalidRequest)
	case ErrConflict:
		return e.HTTPStatus == 409
	case ErrIdempotencyKeyReused:
		return e.ErrorCode == CodeIdempotencyKeyReused
	case ErrResendTooSoon:
		return e.ErrorCode == CodeCodeResendTooSoon
	case ErrServer:
		return e.HTTPStatus >= 500
	case ErrTransport:
		// A call the caller cancelled is not a network failure, nor is a
		// conclusion drawn from good answers.
		return e.HTTPStatus == 0 && e.Err != nil && !errors.Is(e.Err, context.Canceled) && !e.concluded()
	case ErrOwnershipProof:
		return strings.HasPrefix(e.ErrorCode, "ft.OwnershipProof")
	}
	if code := proofCode(target); code != "" {
		return e.ErrorCode == code
	}
	return false
}

// proofCode is the error code of an ownership-proof sentinel, or "".
func proofCode(target error) string {
	switch target {
	case ErrProofRequired:
		return CodeProofRequired
	case ErrProofInvalid:
		return CodeProofInvalid
	case ErrProofAudience:
		return CodeProofAudience
	case ErrProofExpired:
		return CodeProofExpired
	case ErrProofReused:
		return CodeProofReused
	case ErrProofEndpoint:
		return CodeProofEndpoint
	case ErrProofAccountMismatch:
		return CodeProofAccountMismatch
	case ErrProofUnverifiable:
		return CodeProofUnverifiable
	}
	return ""
}

func isOneOf(code string, codes ...string) bool {
	if code == "" {
		return false
	}
	for _, c := range codes {
		if code == c {
			return true
		}
	}
	return false
}

// Problem is one broken rule in a request: the JSON field (camelCase, dotted
// for nested fields) and what is wrong with it. Problem messages never
// contain the offending value when the field is a secret.
type Problem struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

// ValidationError lists every problem found in a request before it was sent
// (or, from the mock, before anything changed). It matches ErrValidation.
type ValidationError struct {
	// Operation is the call or builder step that was refused.
	Operation string
	// Problems lists every broken rule, in field order.
	Problems []Problem
}

// Error lists every problem, separated by semicolons.
func (e *ValidationError) Error() string {
	var b strings.Builder
	if e.Operation != "" {
		b.WriteString(e.Operation)
		b.WriteString(": ")
	}
	b.WriteString("invalid request: ")
	writeProblems(&b, e.Problems)
	return b.String()
}

// writeProblems lists problems as "field: message", separated by
// semicolons.
func writeProblems(b *strings.Builder, problems []Problem) {
	for i, p := range problems {
		if i > 0 {
			b.WriteString("; ")
		}
		if p.Field != "" {
			b.WriteString(p.Field)
			b.WriteString(": ")
		}
		b.WriteString(p.Message)
	}
}

// Is makes errors.Is(err, ErrValidation) true.
func (e *ValidationError) Is(target error) bool { return target == ErrValidation }

// Problems is a helper for building a ValidationError field by field.
type Problems []Problem

// Add records a problem.
func (p *Problems) Add(field, format string, args ...any) {
	*p = append(*p, Problem{Field: field, Message: fmt.Sprintf(format, args...)})
}

// Err returns nil when no problem was recorded, else a *ValidationError.
func (p Problems) Err(operation string) error {
	if len(p) == 0 {
		return nil
	}
	return &ValidationError{Operation: operation, Problems: append([]Problem(nil), p...)}
}
