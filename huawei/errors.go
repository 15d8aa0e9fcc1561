package huawei

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core/sdkerr"

	"github.com/truewatch-labs/marketplace-go/apierror"
	"github.com/truewatch-labs/marketplace-go/internal/httpcore"
)

// Sentinels specific to this package, for errors.Is. The apierror
// sentinels (ErrUnauthorized for APIGW.0301, ErrForbidden, ErrNotFound,
// ErrRateLimited, ErrServer, ErrTransport) apply as well.
var (
	// ErrAmbiguous: several candidates qualify where exactly one is needed:
	// purchases (ActiveTrueWatchPurchase) or orders (OrderFor).
	// It is apierror.ErrAmbiguous.
	ErrAmbiguous = apierror.ErrAmbiguous
	// ErrMalformedResponse: Huawei answered 2xx with a body that cannot be
	// decoded or lacks required fields. It is apierror.ErrMalformedResponse.
	ErrMalformedResponse = apierror.ErrMalformedResponse
	// ErrAccountIDUnavailable: neither IAM nor STS revealed the account ID,
	// usually because the IAM user lacks permission (iam:users:getUser or
	// sts:callerIdentity:get); give it with WithDomainID instead.
	ErrAccountIDUnavailable = errors.New("huawei: account ID unavailable: IAM listed no domain and STS did not answer (missing permission?); set it with WithDomainID")
)

// wrapErr turns an SDK failure into *apierror.Error; the SDK's error stays
// reachable with errors.As.
func wrapErr(ctx context.Context, svc, op string, attempts int, retryAfter time.Duration, err error) error {
	e := &apierror.Error{Service: svc, Operation: op, Attempts: attempts, RetryAfter: retryAfter}
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

func (e *NotFoundError) Error() string { return fmt.Sprintf("no %s %q", e.Kind, e.ID) }

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
		fmt.Fprintf(&b, "%d active TrueWatch purchases, expected one; pass the instance ID explicitly:", n)
	} else if len(e.Candidates) == 0 {
		return "no TrueWatch purchase found for these credentials"
	} else {
		fmt.Fprintf(&b, "no active TrueWatch purchase among %d:", len(e.Candidates))
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
	return fmt.Sprintf("%d orders match purchase %q: %s", len(e.OrderIDs), e.InstanceID, strings.Join(e.OrderIDs, ", "))
}

// Is makes errors.Is(err, ErrAmbiguous) true.
func (e *OrderMatchError) Is(target error) bool { return target == ErrAmbiguous }
