// Package workspace is the typed client of TrueWatch's workspace API, served
// by the console-API host of each site (https://{site}-console-api.truewatch.com).
// The resources it returns (twapi.Workspace, twapi.Account) and its options
// are shared with the billing client, in package twapi.
//
// A workspace lives on one site forever; every call goes to the site named
// in its request, resolved through site.Endpoints (public hosts by default,
// or the mock server's layout with site.UnderBase):
//
//	eps, _ := site.UnderBase(mockURL) // omit WithEndpoints for the public hosts
//	wc, err := workspace.NewClient(workspace.WithEndpoints(eps))
//	if err != nil {
//		return err
//	}
//	res, err := wc.CreateWorkspace(ctx, token, &workspace.CreateWorkspaceRequest{
//		Name:          "production",
//		Language:      twapi.LanguageEN,
//		Site:          site.EU1,
//		Email:         "ops@acme.example",
//		EmailCode:     secret.String(code),
//		TermsAccepted: true,
//	})
//	if errors.Is(err, apierror.ErrNameTaken) {
//		// pick another name
//	}
//	fmt.Println(res.Workspace.ID, res.LoginURL)
//
// The token is the Billing Center token returned by
// billing.Client.BindBillingAccount. Every method validates its input first
// and returns an *apierror.ValidationError without sending anything when the
// input breaks a documented rule.
package workspace
