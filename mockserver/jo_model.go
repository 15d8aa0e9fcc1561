package mockserver

import (
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"crypto/pbkdf2"

	"github.com/truewatch-labs/marketplace-go/apierror"
	"github.com/truewatch-labs/marketplace-go/internal/rules"
)

// The joint service (联营): the buyer's side of KooGallery's
// joint-operation products. The buyer creates an enterprise for a purchase
// (CreateEnterprise), adds departments and members, and authorizes members
// for the product's application; each change reaches the vendor through
// the joint-operation kit (jo_sync.go), and authorized members log in to
// the vendor through the marketplace's unified login (jo_idp.go).

// EnterpriseStatus says whether an enterprise can be used yet.
type EnterpriseStatus string

// The statuses.
const (
	// EnterpriseActivating: created, not usable yet (WithEnterpriseActivation,
	// 2 minutes of the mock's clock by default). Nothing is sent to the
	// vendor, members cannot be added and nobody logs in.
	EnterpriseActivating EnterpriseStatus = "activating"
	// EnterpriseActive: the vendor has been sent tenantSync and
	// applicationSync; members can be added, authorized and log in.
	EnterpriseActive EnterpriseStatus = "active"
)

// DefaultEnterpriseActivation is how long a new enterprise stays
// activating: the buyer console says the first creation takes 1 to 3
// minutes.
const DefaultEnterpriseActivation = 2 * time.Minute

// maxEnterpriseActivation bounds WithEnterpriseActivation.
const maxEnterpriseActivation = 10 * time.Minute

// WithEnterpriseActivation sets how long a new enterprise stays activating
// on the mock's clock (default DefaultEnterpriseActivation; 0 activates at
// once; at most 10 minutes).
func WithEnterpriseActivation(d time.Duration) Option {
	return func(cfg *config) error {
		if d < 0 || d > maxEnterpriseActivation {
			return fmt.Errorf("mockserver: the enterprise activation must take 0 to %s", maxEnterpriseActivation)
		}
		cfg.activation = d
		return nil
	}
}

// RootDepartment is the org code of the department every enterprise starts
// with, named after the enterprise; members are in it unless given
// another.
const RootDepartment = "root"

// EnterpriseRequest creates an enterprise: the body of POST
// /_mock/enterprises.
type EnterpriseRequest struct {
	// HuaweiAccountID is the buyer. Required; it must own InstanceID.
	HuaweiAccountID string `json:"huaweiAccountId"`
	// InstanceID is the joint-operation purchase whose application the
	// enterprise uses ("Partner Services > Use Now"); it must be in use
	// and have no enterprise yet. Required.
	InstanceID string `json:"instanceId"`
	// Name is the enterprise's name: 1 to 64 characters, no control
	// characters. It can never change.
	Name string `json:"name"`
	// Domain is the enterprise's unified-login domain: a lower-case DNS
	// name (labels of a-z, 0-9 and '-', at most 253 characters), unique.
	// The mock serves the enterprise's identity provider under
	// {URL}/idp/{domain}. It can change (tenantSync flag 2).
	Domain string `json:"domain"`
	// Abbreviation is the enterprise's login identifier (tenantCode),
	// what members type on the login page: 2 to 32 letters, digits, '-'
	// or '_', starting with a letter, unique regardless of case. It can
	// never change.
	Abbreviation string `json:"abbreviation"`
}

// EnterpriseChange changes an enterprise: the body of POST
// /_mock/enterprises/{tenantId}. Only the domain can change; a name or
// abbreviation other than the enterprise's is refused (409), the same one
// is accepted.
type EnterpriseChange struct {
	Name         string `json:"name,omitempty"`
	Domain       string `json:"domain,omitempty"`
	Abbreviation string `json:"abbreviation,omitempty"`
}

// Enterprise is an enterprise (KooGallery's tenant) as the buyer's console
// shows it.
type Enterprise struct {
	// TenantID is the enterprise's ID in every kit call (tenantId).
	TenantID        string           `json:"tenantId"`
	HuaweiAccountID string           `json:"huaweiAccountId"`
	InstanceID      string           `json:"instanceId"`
	OrderID         string           `json:"orderId,omitempty"`
	Name            string           `json:"name"`
	Domain          string           `json:"domain"`
	Abbreviation    string           `json:"abbreviation"`
	Status          EnterpriseStatus `json:"status"`
	CreatedAt       time.Time        `json:"createdAt"`
	// ActiveAt is when the enterprise is (or became) active.
	ActiveAt time.Time `json:"activeAt"`
	// IdentityProvider is the base URL of the enterprise's unified login,
	// {URL}/idp/{domain}: what tenantSync sends as domainName.
	IdentityProvider string `json:"identityProvider"`
	// LoginURL is the unified-login link the buyer gives members: it opens
	// the application's sign-in page, which sends them to the login page.
	LoginURL string `json:"loginUrl"`
	// Members and Departments count them.
	Members     int `json:"members"`
	Departments int `json:"departments"`
}

// Application is the product's application in an enterprise: the OAuth2
// client the vendor signs members in with (applicationSync). The secret is
// mock data, shown in clear over the control plane; the vendor receives it
// RSA-encrypted.
type Application struct {
	AppID        string   `json:"appId"`
	TenantID     string   `json:"tenantId"`
	ClientID     string   `json:"clientId"`
	ClientSecret string   `json:"clientSecret"`
	RedirectURIs []string `json:"redirectUris"`
	// SignInURL is the vendor's page that starts a login (the enterprise's
	// LoginURL leads there, with tenant_id).
	SignInURL string `json:"signInUrl"`
	// Discovery is the identity provider's metadata document (RFC 8414).
	Discovery string `json:"discovery"`
	// AuthorizeURL, TokenURL, UserInfoURL, OrgIDUserInfoURL and LogoutURL
	// are its endpoints.
	AuthorizeURL     string `json:"authorizeUrl"`
	TokenURL         string `json:"tokenUrl"`
	UserInfoURL      string `json:"userInfoUrl"`
	OrgIDUserInfoURL string `json:"orgIdUserInfoUrl"`
	LogoutURL        string `json:"logoutUrl"`
}

// MemberRequest adds a member: the body of POST
// /_mock/enterprises/{tenantId}/members. The first member of an enterprise
// is pre-filled from the Huawei account's real-name information, as the
// console does: an empty UserName, Name, Email or Mobile takes the
// account's, and the role is admin.
type MemberRequest struct {
	// UserName is the member's account, what they type on the login page:
	// 3 to 32 letters, digits or . _ @ -, starting with a letter or digit,
	// unique in the enterprise regardless of case. It can never change.
	UserName string `json:"userName"`
	// Name is shown to the vendor: 1 to 64 characters.
	Name string `json:"name"`
	// Department is the org code of the member's department (default
	// RootDepartment).
	Department   string `json:"department,omitempty"`
	Email        string `json:"email,omitempty"`
	Mobile       string `json:"mobile,omitempty"`
	Position     string `json:"position,omitempty"`
	EmployeeCode string `json:"employeeCode,omitempty"`
	// Role is "admin" or "user" (default user; admin for the first
	// member).
	Role string `json:"role,omitempty"`
	// InitialPassword is the password the member logs in with the first
	// time, and must change then: 8 to 64 characters, 3 of the 4 classes
	// lower case, upper case, digits, symbols, not containing the user
	// name. Generated from crypto/rand when empty; answered in clear.
	InitialPassword string `json:"initialPassword,omitempty"`
}

// MemberChange changes a member: the body of POST
// /_mock/enterprises/{tenantId}/members/{userName}; empty fields keep
// their values. A UserName other than the member's is refused (409).
type MemberChange struct {
	UserName     string `json:"userName,omitempty"`
	Name         string `json:"name,omitempty"`
	Department   string `json:"department,omitempty"`
	Email        string `json:"email,omitempty"`
	Mobile       string `json:"mobile,omitempty"`
	Position     string `json:"position,omitempty"`
	EmployeeCode string `json:"employeeCode,omitempty"`
	Role         string `json:"role,omitempty"`
	// Enabled disables (false) or enables (true) the member; a disabled
	// member cannot log in.
	Enabled *bool `json:"enabled,omitempty"`
}

// Member is a member of an enterprise as the buyer's console shows it.
type Member struct {
	ID           string `json:"id"`
	UserName     string `json:"userName"`
	Name         string `json:"name"`
	Department   string `json:"department"`
	Email        string `json:"email,omitempty"`
	Mobile       string `json:"mobile,omitempty"`
	Position     string `json:"position,omitempty"`
	EmployeeCode string `json:"employeeCode,omitempty"`
	Role         string `json:"role"`
	Enabled      bool   `json:"enabled"`
	// Authorized says whether the member may use the application.
	Authorized bool `json:"authorized"`
	// MustChangePassword is true until the member changed the initial
	// password at their first login.
	MustChangePassword bool `json:"mustChangePassword"`
	// InitialPassword is the initial password, in clear (mock data), while
	// it has not been changed; empty after.
	InitialPassword string `json:"initialPassword,omitempty"`
	// LockedUntil is when a lock after too many wrong passwords ends.
	LockedUntil time.Time `json:"lockedUntil,omitzero"`
	CreatedAt   time.Time `json:"createdAt"`
}

// Department is a department (KooGallery's org): the body of POST
// /_mock/enterprises/{tenantId}/departments, and what it answers.
type Department struct {
	// OrgCode identifies it in the enterprise: 1 to 64 letters, digits,
	// '-' or '_'. It can never change.
	OrgCode string `json:"orgCode"`
	// Name: 1 to 64 characters.
	Name string `json:"name"`
	// ParentCode is the parent department (default RootDepartment; empty
	// only for the root).
	ParentCode string `json:"parentCode,omitempty"`
}

// AuthorizationRequest authorizes members for the application, or
// withdraws them: the body of POST
// /_mock/enterprises/{tenantId}/authorizations (and .../deauthorize).
type AuthorizationRequest struct {
	UserNames []string `json:"userNames"`
	// AgreementAccepted must be true to authorize: the buyer accepts the
	// product's agreement ("agree, Confirm Authorization").
	AgreementAccepted bool `json:"agreementAccepted,omitempty"`
}

// Errors of the joint service, for errors.Is.
var (
	// ErrUnknownEnterprise: no enterprise has this tenant ID.
	ErrUnknownEnterprise = errors.New("mockserver: unknown enterprise")
	// ErrUnknownMember: the enterprise has no member with this user name.
	ErrUnknownMember = errors.New("mockserver: unknown member")
	// ErrUnknownDepartment: the enterprise has no department with this
	// org code.
	ErrUnknownDepartment = errors.New("mockserver: unknown department")
	// ErrEnterpriseActivating: the enterprise is not active yet.
	ErrEnterpriseActivating = errors.New("mockserver: the enterprise is still activating")
	// ErrImmutable: a change to a field that can never change (an
	// enterprise's name or abbreviation, a member's user name, a
	// department's org code).
	ErrImmutable = errors.New("mockserver: this field cannot be changed")
)

// joint is the joint service's part of the state: enterprises and the
// identity provider's records (jo_idp.go).
type jointState struct {
	enterprises map[string]*enterprise // by tenant ID
	order       []string               // tenant IDs in creation order
	byDomain    map[string]string      // domain -> tenant ID
	byAbbr      map[string]string      // folded abbreviation -> tenant ID
	byInstance  map[string]string      // instance ID -> tenant ID
	idp         idpState
}

func newJointState() jointState {
	return jointState{enterprises: map[string]*enterprise{}, byDomain: map[string]string{}, byAbbr: map[string]string{},
		byInstance: map[string]string{}, idp: newIDPState()}
}

// enterprise is the mock's record of an enterprise.
type enterprise struct {
	pub     Enterprise
	app     Application
	members map[string]*member // by folded user name
	mOrder  []string           // folded user names in creation order
	depts   map[string]*Department
	dOrder  []string
	// kit serializes the enterprise's kit deliveries (jo_sync.go).
	kit *kitQueue
	// prefilled is set once the first member took the account's
	// real-name information.
	prefilled bool
}

// member is the mock's record of a member.
type member struct {
	pub        Member
	salt, hash []byte
	failed     int // wrong passwords in a row
}

func fold(s string) string { return strings.ToLower(s) }

var (
	domainLabel  = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$`)
	abbreviation = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_-]{1,31}$`)
	userName     = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._@-]{2,31}$`)
	orgCode      = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)
)

func checkDomain(p *apierror.Problems, field, d string) {
	if d == "" {
		p.Add(field, "is required")
		return
	}
	if len(d) > 253 {
		p.Add(field, "must be at most 253 characters")
		return
	}
	for _, l := range strings.Split(d, ".") {
		if !domainLabel.MatchString(l) {
			p.Add(field, "must be a lower-case DNS name: labels of a-z, 0-9 and '-', not starting or ending with '-'")
			return
		}
	}
}

// checkText checks a required or optional display text of at most max
// characters without control characters.
func checkText(p *apierror.Problems, field, v string, required bool, max int) {
	switch {
	case v == "" && required:
		p.Add(field, "is required")
	case v == "":
	case !utf8.ValidString(v) || utf8.RuneCountInString(v) > max || strings.TrimSpace(v) != v:
		p.Add(field, "must be at most %d characters, without leading or trailing spaces", max)
	default:
		for _, r := range v {
			if unicode.IsControl(r) {
				p.Add(field, "must not contain control characters")
				return
			}
		}
	}
}

func (r *EnterpriseRequest) validate() error {
	var p apierror.Problems
	rules.HuaweiAccountID(&p, "huaweiAccountId", r.HuaweiAccountID)
	rules.InstanceID(&p, "instanceId", r.InstanceID)
	checkText(&p, "name", r.Name, true, 64)
	checkDomain(&p, "domain", r.Domain)
	if !abbreviation.MatchString(r.Abbreviation) {
		p.Add("abbreviation", "must be 2 to 32 letters, digits, '-' or '_', starting with a letter")
	}
	return p.Err("CreateEnterprise")
}

func checkRole(p *apierror.Problems, role string) {
	if role != "" && role != "admin" && role != "user" {
		p.Add("role", `must be "admin" or "user"`)
	}
}

// memberProblems checks a member's fields (after pre-filling).
func memberProblems(p *apierror.Problems, m *MemberRequest) {
	if !userName.MatchString(m.UserName) {
		p.Add("userName", "must be 3 to 32 letters, digits or . _ @ -, starting with a letter or digit")
	}
	checkText(p, "name", m.Name, true, 64)
	if m.Email != "" {
		rules.Email(p, "email", m.Email)
	}
	rules.Phone(p, "mobile", m.Mobile)
	checkText(p, "position", m.Position, false, 64)
	checkText(p, "employeeCode", m.EmployeeCode, false, 64)
	checkRole(p, m.Role)
	if m.Department != "" && !orgCode.MatchString(m.Department) {
		p.Add("department", "must be an org code: 1 to 64 letters, digits, '-' or '_'")
	}
	if m.InitialPassword != "" {
		checkMemberPassword(p, "initialPassword", m.InitialPassword, m.UserName)
	}
}

// checkMemberPassword is the unified login's password rule: the
// TrueWatch rule (8 to 64 characters, 3 of 4 classes, no spaces) and not
// containing the user name.
func checkMemberPassword(p *apierror.Problems, field, pw, user string) {
	n := len(*p)
	rules.Password(p, field, pw)
	if len(*p) == n && user != "" && strings.Contains(fold(pw), fold(user)) {
		p.Add(field, "must not contain the user name")
	}
}

// newPassword is a random initial password from crypto/rand that meets
// the rule: 16 characters with every class.
func newPassword() string {
	const lower, upper, digits, symbols = "abcdefghijkmnopqrstuvwxyz", "ABCDEFGHJKLMNPQRSTUVWXYZ", "23456789", "!#%+-=?@^_"
	all := lower + upper + digits + symbols
	b := make([]byte, 16)
	_, _ = rand.Read(b) // crypto/rand.Read never fails
	out := make([]byte, 16)
	for i, c := range b {
		set := all
		switch i {
		case 0:
			set = upper
		case 1:
			set = lower
		case 2:
			set = digits
		case 3:
			set = symbols
		}
		out[i] = set[int(c)%len(set)]
	}
	return string(out)
}

// pbkdf2Iterations keeps a password hash cheap enough for tests and still
// a real key derivation: the mock never stores a password in clear once
// it was changed.
const pbkdf2Iterations = 4096

func hashPassword(pw string) (salt, hash []byte) {
	salt = make([]byte, 16)
	_, _ = rand.Read(salt)
	hash, _ = pbkdf2.Key(sha256.New, pw, salt, pbkdf2Iterations, 32) // fails only for FIPS-140 limits, which these meet
	return salt, hash
}

func (m *member) setPassword(pw string) { m.salt, m.hash = hashPassword(pw) }

func (m *member) passwordIs(pw string) bool {
	h, err := pbkdf2.Key(sha256.New, pw, m.salt, pbkdf2Iterations, 32)
	return err == nil && constantTimeEqual(h, m.hash)
}
