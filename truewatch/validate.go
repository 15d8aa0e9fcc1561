package truewatch

import (
	"errors"
	"slices"
	"strings"

	"github.com/truewatch-labs/marketplace-go/apierror"
	"github.com/truewatch-labs/marketplace-go/billing"
	"github.com/truewatch-labs/marketplace-go/internal/rules"
	"github.com/truewatch-labs/marketplace-go/secret"
	"github.com/truewatch-labs/marketplace-go/site"
	"github.com/truewatch-labs/marketplace-go/workspace"
)

// Placeholders that stand in, during validation, for the values only known
// later (the code, the looked-up IDs), so the request types' own Validate
// methods can check everything else; their problems are dropped.
const (
	placeholderCode      = secret.String("000000")
	placeholderAccountID = "00000000000000000000000000000000"
	placeholderInstance  = "placeholder"
)

// fieldNames maps wire field names to the builder's names in problems.
var fieldNames = map[string]string{"mobile": "phone"}

// Validate checks the builder's inputs without any network call and returns
// one *apierror.ValidationError listing every problem, or nil. Plan and Run
// call it first. A builder with no branch is valid: it only checks whether
// the subscription is activated (see BranchCheck), and needs neither a site
// nor a code provider.
func (a *Activation) Validate() error {
	if a == nil {
		return errNilActivation
	}
	_, err := a.validate()
	return err
}

// validate checks the inputs and, when they are sound, makes the clients.
func (a *Activation) validate() (apis, error) {
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

	choices := slices.Compact(slices.Sorted(slices.Values(a.wsChoices)))
	if a.register != nil && a.bindAccount != nil {
		p.Add("branch", "Register and BindBillingAccount contradict each other; choose one")
	}
	if a.register != nil && len(choices) > 0 {
		p.Add("workspace", "%s cannot be combined with Register, which creates the first workspace itself", strings.Join(choices, ", "))
	}
	if a.bindAccount != nil {
		rules.Required(&p, "bindBillingAccount.username", a.bindAccount.username)
		rules.Email(&p, "bindBillingAccount.email", a.bindAccount.email)
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
		req := registerRequest(r, SiteUS1, placeholderAccountID, placeholderInstance)
		req.EmailCode = placeholderCode
		merge(&p, "register.", req.Validate(), "site", "emailCode", "huaweiAccountId", "instanceId")
		if !r.PasswordConfirm.IsZero() && r.PasswordConfirm != r.Password {
			p.Add("register.passwordConfirm", "does not match password")
		}
	}
	if slices.Contains(a.wsChoices, "BindWorkspaceByID") {
		rules.Required(&p, "bindWorkspaceById.id", a.bindWSID)
	}
	if slices.Contains(a.wsChoices, "BindWorkspaceByName") {
		rules.WorkspaceName(&p, "bindWorkspaceByName.name", a.bindWSName)
	}
	if c := a.create; c != nil {
		req := createRequest(c, SiteUS1)
		req.EmailCode = placeholderCode
		merge(&p, "createWorkspace.", req.Validate(), "site", "emailCode")
	}
	if n := a.newAccount; n != nil {
		req := registerAndCreateRequest(n, SiteUS1)
		req.EmailCode = placeholderCode
		merge(&p, "registerAndCreateWorkspace.", req.Validate(), "site", "emailCode")
	}
	c := a.clients(&p)
	return c, p.Err("Activation")
}

// merge adds the problems of a request's validation error under prefix,
// except those of the fields in skip.
func merge(p *apierror.Problems, prefix string, err error, skip ...string) {
	var ve *apierror.ValidationError
	if !errors.As(err, &ve) {
		return
	}
	for _, pr := range ve.Problems {
		if slices.Contains(skip, pr.Field) {
			continue
		}
		f := pr.Field
		if n, ok := fieldNames[f]; ok {
			f = n
		}
		p.Add(prefix+f, "%s", pr.Message)
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
