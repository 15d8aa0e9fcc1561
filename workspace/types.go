package workspace

import (
	"github.com/truewatch-labs/marketplace-go/apierror"
	"github.com/truewatch-labs/marketplace-go/internal/rules"
	"github.com/truewatch-labs/marketplace-go/secret"
	"github.com/truewatch-labs/marketplace-go/site"
	"github.com/truewatch-labs/marketplace-go/twapi"
)

// CreateWorkspaceRequest creates a workspace for an existing TrueWatch
// account on the client's site. The account is found by the email it
// registered with, which must have received a create_workspace code.
type CreateWorkspaceRequest struct {
	Name     string         `json:"name"`
	Language twapi.Language `json:"language"`
	Site     site.Code      `json:"site"`
	// Email is the email the TrueWatch account registered with.
	Email         string        `json:"email"`
	EmailCode     secret.String `json:"emailCode"`
	TermsAccepted bool          `json:"termsAccepted"`
}

// Validate checks every rule that can be checked before sending.
func (r *CreateWorkspaceRequest) Validate() error {
	var p apierror.Problems
	rules.WorkspaceName(&p, "name", r.Name)
	rules.Language(&p, "language", r.Language)
	rules.Site(&p, "site", r.Site)
	rules.Email(&p, "email", r.Email)
	rules.Code(&p, "emailCode", r.EmailCode.Reveal())
	rules.Terms(&p, "termsAccepted", r.TermsAccepted)
	return p.Err("CreateWorkspace")
}

// RegisterAndCreateRequest registers a new TrueWatch account on the client's
// site and creates its first workspace.
type RegisterAndCreateRequest struct {
	Name            string         `json:"name"`
	Language        twapi.Language `json:"language"`
	Site            site.Code      `json:"site"`
	Username        string         `json:"username"`
	Password        secret.String  `json:"password"`
	PasswordConfirm secret.String  `json:"passwordConfirm"`
	Email           string         `json:"email"`
	EmailCode       secret.String  `json:"emailCode"`
	Phone           string         `json:"mobile,omitempty"`
	TermsAccepted   bool           `json:"termsAccepted"`
}

// Validate checks every rule that can be checked before sending.
func (r *RegisterAndCreateRequest) Validate() error {
	var p apierror.Problems
	rules.WorkspaceName(&p, "name", r.Name)
	rules.Language(&p, "language", r.Language)
	rules.Site(&p, "site", r.Site)
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
	Account   twapi.Account   `json:"account"`
	Workspace twapi.Workspace `json:"workspace"`
	// LoginURL is where the account logs in to the new workspace.
	LoginURL string `json:"loginUrl"`
}
