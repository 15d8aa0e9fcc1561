package truewatch

import (
	"slices"
	"strings"

	"github.com/truewatch-labs/marketplace-go/apierror"
	"github.com/truewatch-labs/marketplace-go/billing"
	"github.com/truewatch-labs/marketplace-go/internal/httpcore"
	"github.com/truewatch-labs/marketplace-go/internal/rules"
	"github.com/truewatch-labs/marketplace-go/site"
	"github.com/truewatch-labs/marketplace-go/workspace"
)

// Validate checks the builder's inputs without any network call and returns
// one *apierror.ValidationError listing every problem, or nil. Plan and Run
// call it first. A builder with no branch is valid: it only checks whether
// the subscription is activated (see BranchCheck), and needs neither a site
// nor a code provider.
//
// It reads the builder's own fields with the rules the clients and the
// Billing Center apply to the same values (internal/rules), so a valid
// builder sends no request the clients would refuse; it makes no client.
// The values only known later (the verification codes, the IDs Plan looks
// up) are checked when they are known.
func (a *Activation) Validate() error {
	if a == nil {
		return errNilActivation
	}
	return a.validate()
}

func (a *Activation) validate() error {
	p := slices.Clone(a.problems)

	check := a.branch() == BranchCheck
	switch {
	case !a.siteSet || a.site == "":
		if check {
			break // a check reports the site of the settled workspace
		}
		p.Add("site", "is required: choose the workspace's site with WithSite (%s); it can never change", knownSites())
	case !a.site.Valid():
		p.Add("site", "unknown site %q (known: %s)", string(a.site), knownSites())
	}
	lookup := a.huaweiAPI != nil || a.huaweiAK != "" || a.huaweiFromEnv
	if l := a.link; l != nil {
		if a.prover != nil {
			p.Add("activationLink", "WithActivationLink and WithOwnershipProver both prove ownership; give one")
		}
		if a.accountID != "" && a.accountID != l.HuaweiAccountID {
			p.Add("huaweiAccountId", "is %s, but the activation link is for Huawei account %s", a.accountID, l.HuaweiAccountID)
		}
		if a.instanceID != "" && a.instanceID != l.InstanceID {
			p.Add("instanceId", "is %s, but the activation link is for instance %s", a.instanceID, l.InstanceID)
		}
		lookup = true // the link names both
	}
	if a.accountID != "" {
		rules.HuaweiAccountID(&p, "huaweiAccountId", a.accountID)
	} else if !lookup {
		p.Add("huaweiAccountId", "is required unless Huawei credentials are given to look it up (WithHuaweiAccountID or WithHuaweiCredentials)")
	}
	if a.instanceID != "" {
		rules.InstanceID(&p, "instanceId", a.instanceID)
	} else if !lookup {
		p.Add("instanceId", "is required unless Huawei credentials are given to look it up (WithInstanceID or WithHuaweiCredentials)")
	}
	if a.billingAPI == nil && a.billingURL == "" {
		p.Add("billingURL", "is required (WithBillingURL or WithBillingClient)")
	}
	if a.codes == nil && !check {
		p.Add("codes", "a verification code provider is required (WithCodes)")
	}
	a.validateBranch(&p)
	a.validateClients(&p)
	return p.Err("Activation")
}

// validateBranch checks the branch: one, without contradictions, with
// sound information.
func (a *Activation) validateBranch(p *apierror.Problems) {
	choices := slices.Compact(slices.Sorted(slices.Values(a.wsChoices)))
	if a.register != nil && a.bindAccount != nil {
		p.Add("branch", "Register and BindBillingAccount contradict each other; choose one")
	}
	if a.register != nil && len(choices) > 0 {
		p.Add("workspace", "%s cannot be combined with Register, which creates the first workspace itself", strings.Join(choices, ", "))
	}
	if a.bindAccount != nil {
		rules.Required(p, "bindBillingAccount.username", a.bindAccount.username)
		rules.Email(p, "bindBillingAccount.email", a.bindAccount.email)
		switch len(choices) {
		case 0:
			p.Add("workspace", "BindBillingAccount needs one of %s", workspaceChoices)
		case 1:
		default:
			p.Add("workspace", "%s contradict each other; choose one", strings.Join(choices, ", "))
		}
	} else if a.register == nil && len(choices) > 0 {
		p.Add("workspace", "%s needs BindBillingAccount first", strings.Join(choices, ", "))
	}

	if r := a.register; r != nil {
		rules.Username(p, "register.username", r.Username)
		rules.Password(p, "register.password", r.Password.Reveal())
		rules.Email(p, "register.email", r.Email)
		rules.Phone(p, "register.phone", r.Phone)
		rules.CompanyName(p, "register.company.name", r.Company.Name)
		rules.WorkspaceName(p, "register.workspaceName", r.WorkspaceName)
		rules.Language(p, "register.workspaceLanguage", r.WorkspaceLanguage)
		rules.Terms(p, "register.termsAccepted", r.TermsAccepted)
		if !r.PasswordConfirm.IsZero() && r.PasswordConfirm != r.Password {
			p.Add("register.passwordConfirm", "does not match password")
		}
	}
	if slices.Contains(a.wsChoices, "BindWorkspaceByID") {
		rules.Required(p, "bindWorkspaceById.id", a.bindWSID)
	}
	if slices.Contains(a.wsChoices, "BindWorkspaceByName") {
		rules.WorkspaceName(p, "bindWorkspaceByName.name", a.bindWSName)
	}
	if c := a.create; c != nil {
		rules.WorkspaceName(p, "createWorkspace.name", c.Name)
		rules.Language(p, "createWorkspace.language", c.Language)
		rules.Email(p, "createWorkspace.email", c.Email)
		rules.Terms(p, "createWorkspace.termsAccepted", c.TermsAccepted)
	}
	if n := a.newAccount; n != nil {
		rules.WorkspaceName(p, "registerAndCreateWorkspace.name", n.WorkspaceName)
		rules.Language(p, "registerAndCreateWorkspace.language", n.WorkspaceLanguage)
		rules.Username(p, "registerAndCreateWorkspace.username", n.Username)
		rules.Password(p, "registerAndCreateWorkspace.password", n.Password.Reveal())
		if n.PasswordConfirm != n.Password {
			p.Add("registerAndCreateWorkspace.passwordConfirm", "does not match password")
		}
		rules.Email(p, "registerAndCreateWorkspace.email", n.Email)
		rules.Phone(p, "registerAndCreateWorkspace.phone", n.Phone)
		rules.Terms(p, "registerAndCreateWorkspace.termsAccepted", n.TermsAccepted)
	}
}

// validateClients checks the settings of the clients the builder makes
// as the clients will: the URLs with the HTTP core's own parser. What
// only a client can tell (a region without an endpoint) is reported when
// Plan or Run makes it, the same way.
func (a *Activation) validateClients(p *apierror.Problems) {
	if a.billingAPI == nil && a.billingURL != "" {
		if _, err := httpcore.ParseBaseURL(a.billingURL); err != nil {
			p.Add("billingURL", "%v", err)
		}
	}
	if a.huaweiAPI == nil && a.huaweiEndpoint != "" {
		if _, err := httpcore.ParseBaseURL(a.huaweiEndpoint); err != nil {
			p.Add("huaweiEndpoint", "%v", err)
		}
	}
}

func knownSites() string {
	var s []string
	for _, c := range site.Codes() {
		s = append(s, string(c))
	}
	return strings.Join(s, ", ")
}

func registerRequest(r *RegisterInfo, s Site, accountID, instanceID string) *billing.RegisterRequest {
	return &billing.RegisterRequest{
		Site: s, Username: r.Username, Password: r.Password, Email: r.Email, Phone: r.Phone,
		Company: r.Company, WorkspaceName: r.WorkspaceName, WorkspaceLanguage: r.WorkspaceLanguage,
		HuaweiAccountID: accountID, InstanceID: instanceID, TermsAccepted: r.TermsAccepted,
	}
}

func createRequest(c *CreateWorkspaceInfo, s Site) *workspace.CreateWorkspaceRequest {
	return &workspace.CreateWorkspaceRequest{Name: c.Name, Language: c.Language, Site: s, Email: c.Email, TermsAccepted: c.TermsAccepted}
}

func registerAndCreateRequest(n *NewAccountInfo, s Site) *workspace.RegisterAndCreateRequest {
	return &workspace.RegisterAndCreateRequest{
		Name: n.WorkspaceName, Language: n.WorkspaceLanguage, Site: s, Username: n.Username,
		Password: n.Password, PasswordConfirm: n.PasswordConfirm, Email: n.Email, Phone: n.Phone,
		TermsAccepted: n.TermsAccepted,
	}
}
