package twapi

import (
	"encoding/json"
	"strconv"
	"time"

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
