package workspace

import (
	"encoding/json"
	"strconv"
	"time"

	"github.com/truewatch-labs/marketplace-go/apierror"
	"github.com/truewatch-labs/marketplace-go/internal/rules"
	"github.com/truewatch-labs/marketplace-go/secret"
	"github.com/truewatch-labs/marketplace-go/site"
)

// Language is a workspace's template language. It is chosen when the
// workspace is created and can never change.
type Language string

// The supported workspace languages.
const (
	LanguageZH Language = "zh" // Chinese
	LanguageEN Language = "en" // English
)

// Languages returns the supported languages.
func Languages() []Language { return []Language{LanguageZH, LanguageEN} }

// Valid reports whether l is a supported language.
func (l Language) Valid() bool { return l == LanguageZH || l == LanguageEN }

// ValidateLanguage records a problem when l is missing or unsupported.
func ValidateLanguage(p *apierror.Problems, field string, l Language) {
	switch {
	case l == "":
		p.Add(field, "is required")
	case !l.Valid():
		p.Add(field, "unsupported language %q (supported: zh, en)", string(l))
	}
}

// ValidateSite records a problem when c is missing or unknown.
func ValidateSite(p *apierror.Problems, field string, c site.Code) {
	switch {
	case c == "":
		p.Add(field, "is required")
	case !c.Valid():
		p.Add(field, "unknown site %q", string(c))
	}
}

// Timestamp is a point in time carried on the wire as Unix seconds, as in
// TrueWatch's APIs (createAt, updateAt).
type Timestamp struct{ time.Time }

// MarshalJSON writes Unix seconds (0 for the zero time).
func (t Timestamp) MarshalJSON() ([]byte, error) {
	if t.IsZero() {
		return []byte("0"), nil
	}
	return []byte(strconv.FormatInt(t.Unix(), 10)), nil
}

// UnmarshalJSON reads Unix seconds, integer or fractional.
func (t *Timestamp) UnmarshalJSON(b []byte) error {
	var f float64
	if err := json.Unmarshal(b, &f); err != nil {
		return err
	}
	if f <= 0 {
		t.Time = time.Time{}
		return nil
	}
	sec := int64(f)
	t.Time = time.Unix(sec, int64((f-float64(sec))*1e9)).UTC()
	return nil
}

// SettlementMethod says who pays for a workspace.
type SettlementMethod string

// Settlement methods. The mock and this contract use billing_center and
// huaweicloud; the others exist in the Billing Center and are listed so that
// responses decode.
const (
	SettlementBillingCenter SettlementMethod = "billing_center"
	SettlementHuaweiCloud   SettlementMethod = "huaweicloud"
	SettlementAWS           SettlementMethod = "aws"
	SettlementAliyun        SettlementMethod = "aliyun"
	SettlementAzure         SettlementMethod = "azure"
)

// Settlement is how a workspace is settled.
type Settlement struct {
	Method SettlementMethod `json:"method"`
	// HuaweiAccountID and InstanceID are set when Method is huaweicloud.
	HuaweiAccountID string `json:"huaweiAccountId,omitempty"`
	InstanceID      string `json:"instanceId,omitempty"`
	// ChangedAt is when the method last changed by request; the method can
	// change at most once per calendar month (UTC).
	ChangedAt Timestamp `json:"changedAt"`
}

// Workspace is a TrueWatch workspace.
type Workspace struct {
	// ID is the workspace UUID: "wksp_" and 32 hex characters.
	ID       string    `json:"uuid"`
	Name     string    `json:"name"`
	Language Language  `json:"language"`
	Site     site.Code `json:"site"`
	// OwnerAccountID is the TrueWatch account that owns it ("acnt_…").
	OwnerAccountID string `json:"ownerAccountUUID"`
	// BillingAccountID is the Billing Center account it is associated with
	// ("bcac_…"), if any.
	BillingAccountID string     `json:"billingAccountUUID,omitempty"`
	Settlement       Settlement `json:"settlement"`
	// IsLocked is true when its Huawei subscription was released and the
	// workspace is waiting to be unlocked.
	IsLocked bool      `json:"isLocked"`
	CreateAt Timestamp `json:"createAt"`
	UpdateAt Timestamp `json:"updateAt"`
}

// Account is a TrueWatch (console) account. Accounts belong to one site.
type Account struct {
	ID       string    `json:"uuid"` // "acnt_" and 32 hex characters
	Username string    `json:"username"`
	Email    string    `json:"email"`
	Phone    string    `json:"mobile,omitempty"`
	Site     site.Code `json:"site"`
	CreateAt Timestamp `json:"createAt"`
}

// CreateWorkspaceRequest creates a workspace for an existing TrueWatch
// account on the client's site. The account is found by the email it
// registered with, which must have received a create_workspace code.
type CreateWorkspaceRequest struct {
	Name     string    `json:"name"`
	Language Language  `json:"language"`
	Site     site.Code `json:"site"`
	// Email is the email the TrueWatch account registered with.
	Email         string        `json:"email"`
	EmailCode     secret.String `json:"emailCode"`
	TermsAccepted bool          `json:"termsAccepted"`
}

// Validate checks every rule that can be checked before sending.
func (r *CreateWorkspaceRequest) Validate() error {
	var p apierror.Problems
	rules.WorkspaceName(&p, "name", r.Name)
	ValidateLanguage(&p, "language", r.Language)
	ValidateSite(&p, "site", r.Site)
	rules.Email(&p, "email", r.Email)
	rules.Code(&p, "emailCode", r.EmailCode.Reveal())
	rules.Terms(&p, "termsAccepted", r.TermsAccepted)
	return p.Err("CreateWorkspace")
}

// RegisterAndCreateRequest registers a new TrueWatch account on the client's
// site and creates its first workspace.
type RegisterAndCreateRequest struct {
	Name            string        `json:"name"`
	Language        Language      `json:"language"`
	Site            site.Code     `json:"site"`
	Username        string        `json:"username"`
	Password        secret.String `json:"password"`
	PasswordConfirm secret.String `json:"passwordConfirm"`
	Email           string        `json:"email"`
	EmailCode       secret.String `json:"emailCode"`
	Phone           string        `json:"mobile,omitempty"`
	TermsAccepted   bool          `json:"termsAccepted"`
}

// Validate checks every rule that can be checked before sending.
func (r *RegisterAndCreateRequest) Validate() error {
	var p apierror.Problems
	rules.WorkspaceName(&p, "name", r.Name)
	ValidateLanguage(&p, "language", r.Language)
	ValidateSite(&p, "site", r.Site)
	rules.Username(&p, "username", r.Username)
	rules.Password(&p, "password", r.Password.Reveal())
	if r.PasswordConfirm.Reveal() != r.Password.Reveal() {
		p.Add("passwordConfirm", "does not match password")
	}
	rules.Email(&p, "email", r.Email)
	rules.Code(&p, "emailCode", r.EmailCode.Reveal())
	rules.Phone(&p, "mobile", r.Phone)
	rules.Terms(&p, "termsAccepted", r.TermsAccepted)
	return p.Err("RegisterAndCreate")
}

// CreateResult is what creating a workspace returns.
type CreateResult struct {
	Account   Account   `json:"account"`
	Workspace Workspace `json:"workspace"`
	// LoginURL is where the account logs in to the new workspace.
	LoginURL string `json:"loginUrl"`
}
