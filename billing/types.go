package billing

import (
	"time"

	"github.com/truewatch-labs/marketplace-go/apierror"
	"github.com/truewatch-labs/marketplace-go/internal/rules"
	"github.com/truewatch-labs/marketplace-go/secret"
	"github.com/truewatch-labs/marketplace-go/site"
	"github.com/truewatch-labs/marketplace-go/twapi"
)

// Purpose says what an email verification code is for. A code only works
// for the purpose it was sent for.
type Purpose string

// The verification code purposes.
const (
	PurposeRegister           Purpose = "register"             // Register
	PurposeBindBillingAccount Purpose = "bind_billing_account" // BindBillingAccount
	PurposeCreateWorkspace    Purpose = "create_workspace"     // twapi.CreateWorkspace and RegisterAndCreate
)

// Valid reports whether p is a known purpose.
func (p Purpose) Valid() bool {
	return p == PurposeRegister || p == PurposeBindBillingAccount || p == PurposeCreateWorkspace
}

// SendCodeRequest asks for an email verification code.
//
// Codes are 6 digits and expire after 10 minutes; a new code for the same
// email and purpose is refused for 60 seconds (apierror.ErrResendTooSoon);
// 5 wrong attempts invalidate the code. Sending a new code replaces the old.
type SendCodeRequest struct {
	Email   string  `json:"email"`
	Purpose Purpose `json:"purpose"`
}

// Validate checks the request before sending.
func (r *SendCodeRequest) Validate() error {
	var p apierror.Problems
	rules.Email(&p, "email", r.Email)
	if !r.Purpose.Valid() {
		p.Add("purpose", "must be one of register, bind_billing_account, create_workspace")
	}
	return p.Err("SendVerificationCode")
}

// SendCodeResult says where the code went and when it stops working.
type SendCodeResult struct {
	Email   string  `json:"email"`
	Purpose Purpose `json:"purpose"`
	// ExpiresAt is when the code expires.
	ExpiresAt twapi.Timestamp `json:"expiresAt"`
	// ResendAfter is the earliest time a new code may be requested.
	ResendAfter twapi.Timestamp `json:"resendAfter"`
}

// SubscriptionStatus mirrors the Huawei purchase status.
type SubscriptionStatus string

// Subscription statuses (Huawei BSS: 2 in use, 3 closed, 4 frozen, 5 expired).
const (
	StatusInUse   SubscriptionStatus = "in_use"
	StatusClosed  SubscriptionStatus = "closed"
	StatusFrozen  SubscriptionStatus = "frozen"
	StatusExpired SubscriptionStatus = "expired"
)

// BoundWorkspace is a workspace settled by a subscription.
type BoundWorkspace struct {
	ID   string    `json:"uuid"`
	Name string    `json:"name"`
	Site site.Code `json:"site"`
}

// Subscription is a TrueWatch purchase on Huawei Cloud Marketplace as the
// Billing Center sees it.
type Subscription struct {
	HuaweiAccountID string             `json:"huaweiAccountId"`
	InstanceID      string             `json:"instanceId"`
	ProductID       string             `json:"productId"`
	Status          SubscriptionStatus `json:"status"`
	// Active is true when the subscription is in use and can be activated.
	Active bool `json:"active"`
	// OwnershipProven is true when the lookup carried a valid proof of
	// ownership of the Huawei account, and so the answer is complete. When
	// false, Bound, the Billing Center account, Workspaces, LoginURL,
	// ExpireTime and GraceUntil are not reported (they read as zero),
	// whatever the binding state and the term.
	OwnershipProven bool `json:"ownershipProven"`
	// Bound is true when a Billing Center account is bound to it.
	Bound bool `json:"bound"`
	// BillingAccountID and BillingUsername name the bound Billing Center
	// account, when Bound.
	BillingAccountID string `json:"billingAccountUUID,omitempty"`
	BillingUsername  string `json:"billingUsername,omitempty"`
	// Workspaces lists the workspaces settled by this subscription.
	Workspaces []BoundWorkspace `json:"workspaces"`
	// LoginURL is where to log in when the subscription is fully bound (on
	// the site of its first workspace).
	LoginURL string `json:"loginUrl,omitempty"`
	// ExpireTime is when the subscription's current term ends (zero when
	// the Billing Center does not say).
	ExpireTime twapi.Timestamp `json:"expireTime,omitzero"`
	// GraceUntil is set while the subscription is expired or released and
	// its workspaces still work: when the grace period (14 days) ends,
	// they lose the cloud-account settlement and are locked, unless a
	// renewal comes first (an expired subscription only). Zero otherwise.
	GraceUntil twapi.Timestamp `json:"graceUntil,omitzero"`
}

// InGrace reports whether the subscription is expired or released and its
// workspaces are in their grace period (until GraceUntil).
func (s *Subscription) InGrace() bool { return !s.GraceUntil.IsZero() }

// State describes the subscription's status for people: "in use",
// "frozen", "expired", "released", with "in grace until <date>" when its
// workspaces are counting down to their lock.
func (s *Subscription) State() string {
	st := string(s.Status)
	switch s.Status {
	case StatusInUse:
		st = "in use"
	case StatusClosed:
		st = "released"
	}
	if s.InGrace() {
		st += ", in grace until " + s.GraceUntil.UTC().Format(time.RFC3339)
	}
	return st
}

// Activated reports whether the subscription needs nothing more: a Billing
// Center account is bound and at least one workspace is settled by it. It
// is always false for an answer without OwnershipProven, which does not
// tell.
func (s *Subscription) Activated() bool { return s.Bound && len(s.Workspaces) > 0 }

// BillingAccount is a Billing Center account.
type BillingAccount struct {
	ID          string          `json:"uuid"` // "bcac_" and 32 hex characters
	Username    string          `json:"username"`
	Email       string          `json:"email"`
	CompanyName string          `json:"companyName,omitempty"`
	CreateAt    twapi.Timestamp `json:"createAt"`
}

// Company is the enterprise information given at registration.
type Company struct {
	Name     string `json:"name"`
	Industry string `json:"industry,omitempty"`
	Size     string `json:"size,omitempty"`
	Country  string `json:"country,omitempty"`
	Website  string `json:"website,omitempty"`
}

// RegisterRequest registers a TrueWatch account and a Billing Center account
// in one go, creates the first workspace and binds it, settled by the Huawei
// subscription. Nothing is created unless everything is.
type RegisterRequest struct {
	// Basic information.
	Site      site.Code     `json:"site"`
	Username  string        `json:"username"`
	Password  secret.String `json:"password"`
	Email     string        `json:"email"`
	EmailCode secret.String `json:"emailCode"`
	Phone     string        `json:"mobile,omitempty"`
	// Enterprise information.
	Company Company `json:"company"`
	// Activation.
	WorkspaceName     string         `json:"workspaceName"`
	WorkspaceLanguage twapi.Language `json:"workspaceLanguage"`
	HuaweiAccountID   string         `json:"huaweiAccountId"`
	InstanceID        string         `json:"instanceId"`
	TermsAccepted     bool           `json:"termsAccepted"`
}

// Validate checks every rule that can be checked before sending.
func (r *RegisterRequest) Validate() error {
	var p apierror.Problems
	rules.Site(&p, "site", r.Site)
	rules.Username(&p, "username", r.Username)
	rules.Password(&p, "password", r.Password.Reveal())
	rules.Email(&p, "email", r.Email)
	rules.Code(&p, "emailCode", r.EmailCode.Reveal())
	rules.Phone(&p, "mobile", r.Phone)
	rules.CompanyName(&p, "company.name", r.Company.Name)
	rules.WorkspaceName(&p, "workspaceName", r.WorkspaceName)
	rules.Language(&p, "workspaceLanguage", r.WorkspaceLanguage)
	rules.HuaweiAccountID(&p, "huaweiAccountId", r.HuaweiAccountID)
	rules.InstanceID(&p, "instanceId", r.InstanceID)
	rules.Terms(&p, "termsAccepted", r.TermsAccepted)
	return p.Err("Register")
}

// RegisterResult is everything registration created.
type RegisterResult struct {
	Account        twapi.Account   `json:"account"`
	BillingAccount BillingAccount  `json:"billingAccount"`
	Workspace      twapi.Workspace `json:"workspace"`
	LoginURL       string          `json:"loginUrl"`
}

// BindAccountRequest binds an existing Billing Center account to a Huawei
// subscription. The account is named by its username; Email must be the
// account's registered email, which received a bind_billing_account code.
// Binding the same account to the same subscription again succeeds and
// returns a fresh token.
type BindAccountRequest struct {
	Username        string        `json:"username"`
	Email           string        `json:"email"`
	EmailCode       secret.String `json:"emailCode"`
	HuaweiAccountID string        `json:"huaweiAccountId"`
	InstanceID      string        `json:"instanceId"`
}

// Validate checks every rule that can be checked before sending.
func (r *BindAccountRequest) Validate() error {
	var p apierror.Problems
	rules.Required(&p, "username", r.Username)
	rules.Email(&p, "email", r.Email)
	rules.Code(&p, "emailCode", r.EmailCode.Reveal())
	rules.HuaweiAccountID(&p, "huaweiAccountId", r.HuaweiAccountID)
	rules.InstanceID(&p, "instanceId", r.InstanceID)
	return p.Err("BindBillingAccount")
}

// BindAccountResult carries the token for the calls that act on the bound
// Billing Center account (workspace listing, binding and creation).
type BindAccountResult struct {
	BillingAccount BillingAccount `json:"billingAccount"`
	// Token is scoped to this Billing Center account and subscription.
	Token     secret.String   `json:"token"`
	ExpiresAt twapi.Timestamp `json:"expiresAt"`
}

// BindableWorkspace is a workspace of the Billing Center account, with
// whether it can be bound to the token's subscription and, if not, why.
type BindableWorkspace struct {
	twapi.Workspace
	Bindable bool `json:"bindable"`
	// Reason explains why Bindable is false: one of the Reason constants.
	Reason string `json:"reason,omitempty"`
}

// Why a workspace cannot be bound (BindableWorkspace.Reason).
const (
	// ReasonAlreadyBound: it is already settled by the token's
	// subscription; binding it again succeeds and changes nothing.
	ReasonAlreadyBound = "already bound"
	// ReasonSettlementLocked: it is settled by another subscription that
	// has not been released.
	ReasonSettlementLocked = "settled by another active subscription"
	// ReasonMonthlyLimit: its settlement method already changed this
	// calendar month (UTC).
	ReasonMonthlyLimit = "settlement already changed this month"
)

// ListOptions pages a list call. Zero values mean page 1 and 20 items.
type ListOptions struct {
	PageIndex int // from 1
	PageSize  int // 1–100
	// Site, when set, lists only workspaces of that site.
	Site site.Code
}

// BindWorkspaceRequest binds an existing workspace of the Billing Center
// account to the token's subscription: its settlement moves to the Huawei
// account and instance. Binding a workspace already bound to the same
// subscription succeeds without change.
type BindWorkspaceRequest struct {
	WorkspaceID string `json:"workspaceUUID"`
}

// Validate checks the request before sending.
func (r *BindWorkspaceRequest) Validate() error {
	var p apierror.Problems
	rules.Required(&p, "workspaceUUID", r.WorkspaceID)
	return p.Err("BindWorkspace")
}

// BindWorkspaceResult is the workspace after binding.
type BindWorkspaceResult struct {
	Workspace twapi.Workspace `json:"workspace"`
	// Changed is false when the workspace was already bound to this
	// subscription and nothing changed.
	Changed  bool   `json:"changed"`
	LoginURL string `json:"loginUrl"`
}

// Binding is the binding state of the token's Billing Center account and
// subscription.
type Binding struct {
	BillingAccount  BillingAccount     `json:"billingAccount"`
	HuaweiAccountID string             `json:"huaweiAccountId"`
	InstanceID      string             `json:"instanceId"`
	Status          SubscriptionStatus `json:"status"`
	Workspaces      []BoundWorkspace   `json:"workspaces"`
}
