package koogallery

import (
	"context"
	"encoding/json"

	"github.com/truewatch-labs/marketplace-go/secret"
)

// Vendor is the seller's side of the production interface: one method per
// activity, each called by the Handler after the call was verified and
// decoded, with the request's context. Return nil for success, an *Error
// (or one of the Err* sentinels, wrapped or not) for a documented code, and
// any other error for 000005. Embed UnimplementedVendor to implement only
// what your product needs.
//
// Every method must be idempotent: KooGallery repeats calls whose answer it
// did not get, and its calls may arrive in any order.
type Vendor interface {
	// NewInstance creates the instance for an order and returns its ID at
	// once (within KooGallery's 5-second timeout): provisioning that takes
	// longer continues in the background and is reported by
	// QueryInstances. The Handler records the result per order (see
	// InstanceStore) and answers repeats itself.
	NewInstance(ctx context.Context, req *NewInstanceRequest) (*NewInstanceResult, error)
	// QueryInstances returns the instances asked for; IDs that do not
	// exist may be left out, or answered with ErrInstanceNotFound.
	QueryInstances(ctx context.Context, req *QueryInstanceRequest) ([]InstanceInfo, error)
	// RefreshInstance applies a new term (trial to paid, renewal,
	// unsubscribed renewal period).
	RefreshInstance(ctx context.Context, req *RefreshInstanceRequest) error
	// UpdateInstanceStatus freezes or unfreezes an instance.
	UpdateInstanceStatus(ctx context.Context, req *UpdateInstanceStatusRequest) error
	// ReleaseInstance releases an instance; its data may be deleted.
	ReleaseInstance(ctx context.Context, req *ReleaseInstanceRequest) error
	// UpgradeInstance applies a change of specification.
	UpgradeInstance(ctx context.Context, req *UpgradeInstanceRequest) error
	// ChangeInstanceCheck says whether the change may happen (nil: yes).
	ChangeInstanceCheck(ctx context.Context, req *ChangeInstanceCheckRequest) error
	// OrderNotify is told that an order was paid.
	OrderNotify(ctx context.Context, req *OrderNotifyRequest) error
	// ExpireInstance is V1's expiry notice.
	ExpireInstance(ctx context.Context, req *ExpireInstanceRequest) error
}

// UnimplementedVendor answers every activity its embedder does not
// implement: ErrNotImplemented (000005, so KooGallery keeps retrying and the
// seller sees the failure) for the activities that change an instance, and
// success for the two that only inform or ask permission: OrderNotify (the
// order is read when newInstance comes) and ChangeInstanceCheck (no
// product-specific objection).
type UnimplementedVendor struct{}

// NewInstance returns ErrNotImplemented.
func (UnimplementedVendor) NewInstance(context.Context, *NewInstanceRequest) (*NewInstanceResult, error) {
	return nil, ErrNotImplemented
}

// QueryInstances returns ErrNotImplemented.
func (UnimplementedVendor) QueryInstances(context.Context, *QueryInstanceRequest) ([]InstanceInfo, error) {
	return nil, ErrNotImplemented
}

// RefreshInstance returns ErrNotImplemented.
func (UnimplementedVendor) RefreshInstance(context.Context, *RefreshInstanceRequest) error {
	return ErrNotImplemented
}

// UpdateInstanceStatus returns ErrNotImplemented.
func (UnimplementedVendor) UpdateInstanceStatus(context.Context, *UpdateInstanceStatusRequest) error {
	return ErrNotImplemented
}

// ReleaseInstance returns ErrNotImplemented.
func (UnimplementedVendor) ReleaseInstance(context.Context, *ReleaseInstanceRequest) error {
	return ErrNotImplemented
}

// UpgradeInstance returns ErrNotImplemented.
func (UnimplementedVendor) UpgradeInstance(context.Context, *UpgradeInstanceRequest) error {
	return ErrNotImplemented
}

// ChangeInstanceCheck allows the change.
func (UnimplementedVendor) ChangeInstanceCheck(context.Context, *ChangeInstanceCheckRequest) error {
	return nil
}

// OrderNotify acknowledges the notice.
func (UnimplementedVendor) OrderNotify(context.Context, *OrderNotifyRequest) error { return nil }

// ExpireInstance returns ErrNotImplemented.
func (UnimplementedVendor) ExpireInstance(context.Context, *ExpireInstanceRequest) error {
	return ErrNotImplemented
}

// NewInstanceResult is the vendor's answer to newInstance.
type NewInstanceResult struct {
	// InstanceID is required, at most 64 characters; it is what the buyer
	// sees as the Instance ID and what every later activity names.
	InstanceID string
	// AppInfo.FrontEndURL is required.
	AppInfo AppInfo
}

// AppInfo is what the buyer is shown to reach the product. Printing or
// JSON-encoding it redacts Password; the Handler sends it in clear.
type AppInfo struct {
	// FrontEndURL is where the buyer uses the product (required by
	// newInstance, at most 512 characters).
	FrontEndURL string `json:"frontEndUrl"`
	// AdminURL is the product's administration page (optional).
	AdminURL string `json:"adminUrl,omitempty"`
	// UserName and Password are an administrator account, if the product
	// gives one. KooGallery's field table calls them encrypted; this
	// package sends them as given (see the package docs).
	UserName string        `json:"userName,omitempty"`
	Password secret.String `json:"password,omitempty"`
	// Memo is free text shown with the instance.
	Memo string `json:"memo,omitempty"`
}

// InstanceInfo is one instance in the answer to queryInstance.
type InstanceInfo struct {
	InstanceID string  `json:"instanceId"`
	AppInfo    AppInfo `json:"appInfo"`
}

// wireAppInfo is AppInfo on the wire, the password in clear.
type wireAppInfo struct {
	FrontEndURL string `json:"frontEndUrl,omitempty"`
	AdminURL    string `json:"adminUrl,omitempty"`
	UserName    string `json:"userName,omitempty"`
	Password    string `json:"password,omitempty"`
	Memo        string `json:"memo,omitempty"`
}

func toWireAppInfo(a AppInfo) *wireAppInfo {
	return &wireAppInfo{FrontEndURL: a.FrontEndURL, AdminURL: a.AdminURL, UserName: a.UserName,
		Password: a.Password.Reveal(), Memo: a.Memo}
}

type wireInstanceInfo struct {
	InstanceID string       `json:"instanceId"`
	AppInfo    *wireAppInfo `json:"appInfo,omitempty"`
}

// wireResponse is every answer of the production interface and the kit.
type wireResponse struct {
	ResultCode ResultCode          `json:"resultCode"`
	ResultMsg  string              `json:"resultMsg"`
	InstanceID string              `json:"instanceId,omitempty"`
	AppInfo    *wireAppInfo        `json:"appInfo,omitempty"`
	Info       *[]wireInstanceInfo `json:"info,omitempty"`
}

// Response is an answer from a vendor, as Caller reads it.
type Response struct {
	// HTTPStatus is the HTTP status of the answer (200 for every result
	// of a conforming vendor).
	HTTPStatus int
	ResultCode ResultCode
	ResultMsg  string
	// InstanceID and AppInfo answer newInstance.
	InstanceID string
	AppInfo    *AppInfo
	// Info answers queryInstance.
	Info []InstanceInfo
	// Body is the answer as received.
	Body []byte
}

// Err returns nil for ResultSuccess and an *Error with the answer's code
// and message otherwise.
func (r *Response) Err() error {
	if r.ResultCode == ResultSuccess {
		return nil
	}
	return &Error{Code: r.ResultCode, Message: r.ResultMsg}
}

func decodeResponse(status int, body []byte) (*Response, error) {
	var w struct {
		ResultCode ResultCode      `json:"resultCode"`
		ResultMsg  string          `json:"resultMsg"`
		InstanceID string          `json:"instanceId"`
		AppInfo    *AppInfo        `json:"appInfo"`
		Info       json.RawMessage `json:"info"`
	}
	r := &Response{HTTPStatus: status, Body: body}
	if err := json.Unmarshal(body, &w); err != nil {
		return r, err
	}
	r.ResultCode, r.ResultMsg, r.InstanceID, r.AppInfo = w.ResultCode, w.ResultMsg, w.InstanceID, w.AppInfo
	if len(w.Info) > 0 && string(w.Info) != "null" {
		if err := json.Unmarshal(w.Info, &r.Info); err != nil {
			return r, err
		}
	}
	return r, nil
}
