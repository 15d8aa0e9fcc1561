package huawei

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/truewatch-labs/marketplace-go/internal/httpcore"
	"net"
	"net/url"
	"strings"

	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core/sdkerr"

	"github.com/truewatch-labs/marketplace-go/apierror"
)

// Sentinels specific to this package, for errors.Is. The apierror
// sentinels (ErrUnauthorized for APIGW.0301, ErrForbidden, ErrNotFound,
// ErrRateLimited, ErrServer, ErrTransport) apply as well.
var (
	// ErrAmbiguous: several candidates qualify where exactly one is needed:
	// purchases (ActiveTrueWatchPurchase) or orders (OrderFor).
	ErrAmbiguous = errors.New("huawei: several candidates qualify")
	// ErrMalformedResponse: Huawei answered 2xx with a body that cannot be
	// decoded or lacks required fields.
	ErrMalformedResponse = errors.New("huawei: malformed response")
	// ErrAccountIDUnavailable: neither IAM nor STS revealed the account ID,
	// usually because the IAM user lacks permission (iam:users:getUser or
	// sts:callerIdentity:get); give it with WithDomainID instead.
	ErrAccountIDUnavailable = errors.New("huawei: account ID unavailable: IAM listed no domain and STS did not answer (missing permission?); set it with WithDomainID")
)

// classify says whether a failed attempt may be retried, and why it
// failed. Every call this package makes is read-only, so throttling, 5xx
// (except 501) and connection errors are all retried.
func classify(ctx context.Context, err error) (reason string, retryable bool) {
	if ctx.Err() != nil {
		return ctx.Err().Error(), false
	}
	var sre *sdkerr.ServiceResponseError
	if errors.As(err, &sre) {
		switch {
		case sre.ErrorCode == apierror.CodeHuaweiThrottled:
			return "rate limited (" + sre.ErrorCode + ")", true
		case sre.StatusCode == 429:
			return "HTTP 429", true
		case sre.StatusCode >= 500 && sre.StatusCode != 501:
			return fmt.Sprintf("HTTP %d", sre.StatusCode), true
		}
		return fmt.Sprintf("HTTP %d", sre.StatusCode), false
	}
	if errors.Is(err, errSDKPanic) {
		return err.Error(), false
	}
	var ue *url.Error
	var ne net.Error
	if errors.As(err, &ue) || errors.As(err, &ne) {
		var ua x509.UnknownAuthorityError
		var hn x509.HostnameError
		var ci x509.CertificateInvalidError
		if errors.As(err, &ua) || errors.As(err, &hn) || errors.As(err, &ci) ||
			strings.Contains(err.Error(), "unsupported protocol scheme") {
			return "connection error: " + httpcore.RedactURL(err).Error(), false
		}
		return "connection error: " + httpcore.RedactURL(err).Error(), true
	}
	return err.Error(), false
}

// wrapErr turns an SDK failure into *apierror.Error; the SDK's error stays
// reachable with errors.As.
func wrapErr(ctx context.Context, svc, op string, attempts int, err error) error {
	e := &apierror.Error{Service: svc, Operation: op, Attempts: attempts}
	var sre *sdkerr.ServiceResponseError
	switch {
	case errors.As(err, &sre):
		e.HTTPStatus, e.ErrorCode, e.RequestID, e.Err = sre.StatusCode, sre.ErrorCode, sre.RequestId, sre
		e.Message = messageOf(sre)
		if sre.StatusCode < 400 {
			// The SDK reports a 2xx it could not decode this way.
			e.Message = "malformed response body"
			e.Err = fmt.Errorf("%w: %w", ErrMalformedResponse, sre)
		}
	case ctx.Err() != nil && errors.Is(err, ctx.Err()):
		e.Err = ctx.Err()
	default:
		e.Err = httpcore.RedactURL(err)
	}
	return e
}

// messageOf extracts a readable message; Keystone-style bodies
// ({"error":{"code":401,"message":...}}) reach the SDK as raw JSON.
func messageOf(sre *sdkerr.ServiceResponseError) string {
	msg := sre.ErrorMessage
	if sre.ErrorCode != "" || !strings.HasPrefix(strings.TrimSpace(msg), "{") {
		return msg
	}
	var ks struct {
		Error struct {
			Message string `json:"message"`
			Title   string `json:"title"`
		} `json:"error"`
	}
	if json.Unmarshal([]byte(msg), &ks) == nil && ks.Error.Message != "" {
		return ks.Error.Message
	}
	return msg
}

// malformed reports a 2xx whose content breaks the API's contract.
func malformed(svc, op, requestID, format string, args ...any) error {
	return &apierror.Error{Service: svc, Operation: op, HTTPStatus: 200, RequestID: requestID,
		Message: "malformed response body", Err: fmt.Errorf("%w: "+format, append([]any{ErrMalformedResponse}, args...)...)}
}

// NotFoundError means no purchase with this ID (Purchase), or no order for
// this purchase (OrderFor), is visible to the credentials. It matches
// apierror.ErrNotFound.
type NotFoundError struct {
	Kind string // "purchase" or "order for purchase"
	ID   string // the purchase's instance ID
}

func (e *NotFoundError) Error() string { return fmt.Sprintf("huawei: no %s %q", e.Kind, e.ID) }

// Is makes errors.Is(err, apierror.ErrNotFound) true.
func (e *NotFoundError) Is(target error) bool { return target == apierror.ErrNotFound }

// PurchaseSelectionError means ActiveTrueWatchPurchase found no active TrueWatch
// purchase, or several. Candidates lists the purchases considered: every
// TrueWatch purchase when none is active, the active ones when several
// are. It matches apierror.ErrNotFound (none) or ErrAmbiguous (several).
type PurchaseSelectionError struct {
	Candidates []Purchase
}

func (e *PurchaseSelectionError) active() int {
	n := 0
	for _, p := range e.Candidates {
		if p.Status == StatusInUse {
			n++
		}
	}
	return n
}

func (e *PurchaseSelectionError) Error() string {
	var b strings.Builder
	if n := e.active(); n > 1 {
		fmt.Fprintf(&b, "huawei: %d active TrueWatch purchases, expected one; pass the instance ID explicitly:", n)
	} else if len(e.Candidates) == 0 {
		return "huawei: no TrueWatch purchase found for these credentials"
	} else {
		fmt.Fprintf(&b, "huawei: no active TrueWatch purchase among %d:", len(e.Candidates))
	}
	for _, p := range e.Candidates {
		expires := "no expire time"
		if !p.ExpireTime.IsZero() {
			expires = "expires " + p.ExpireTime.UTC().Format("2006-01-02")
		}
		fmt.Fprintf(&b, " %s (%s, product %s, %s);", p.InstanceID, p.Status, p.ProductID, expires)
	}
	return strings.TrimSuffix(b.String(), ";")
}

// Is matches apierror.ErrNotFound when no candidate is active and
// ErrAmbiguous when several are.
func (e *PurchaseSelectionError) Is(target error) bool {
	switch target {
	case apierror.ErrNotFound:
		return e.active() == 0
	case ErrAmbiguous:
		return e.active() > 1
	}
	return false
}

// OrderMatchError means OrderFor found several orders that may have bought the
// purchase. It matches ErrAmbiguous.
type OrderMatchError struct {
	// InstanceID is the purchase's instance ID.
	InstanceID string
	// OrderIDs are the matching orders, oldest first.
	OrderIDs []string
}

func (e *OrderMatchError) Error() string {
	return fmt.Sprintf("huawei: %d orders match purchase %q: %s", len(e.OrderIDs), e.InstanceID, strings.Join(e.OrderIDs, ", "))
}

// Is makes errors.Is(err, ErrAmbiguous) true.
func (e *OrderMatchError) Is(target error) bool { return target == ErrAmbiguous }
