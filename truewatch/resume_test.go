package truewatch_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/truewatch-labs/marketplace-go/mockserver"
	"github.com/truewatch-labs/marketplace-go/site"
	"github.com/truewatch-labs/marketplace-go/truewatch"
)

// TestResumeWithoutCheckpointAfterTokensExpired runs the create branch
// from several "processes" that each keep their checkpoint in memory (the
// default), each failing after the bind and each letting the token expire:
// the replayed binds return expired tokens, and the last run still finishes
// with one outcome instead of being refused until the keys expire.
func TestResumeWithoutCheckpointAfterTokensExpired(t *testing.T) {
	e := newEnv(t, mockserver.WithTokenTTL(time.Minute))
	ba, acc := e.seedBillingAccount(), e.seedAccount(site.US1)
	e.seedWorkspace(acc, ba, "taken")
	build := func(name string) *truewatch.Activation {
		return e.builder().WithStore(truewatch.NewMemoryStore()).BindBillingAccount("ada", adaEmail).
			CreateWorkspace(truewatch.CreateWorkspaceInfo{Name: name, Language: truewatch.LanguageEN, Email: adaEmail, TermsAccepted: true})
	}
	for range 3 {
		_, err := build("taken").Run(context.Background())
		require.ErrorContains(t, err, "WorkspaceNameTaken")
		e.clock.Advance(2 * time.Minute)
	}
	res, err := build("prod").Run(context.Background())
	require.NoError(t, err)
	b := branches[1]
	b.workspaces = 2 // "taken" and the new one
	assertOneOutcome(t, e, b, res)
	assert.Len(t, e.srv.BillingAccounts(), 1)
}

// TestEquivalentInputsAfterBind resumes a bind branch whose account was
// bound, with the username and email spelled in another case: the same
// account, but a different request body under the same idempotency key,
// which the server refuses. Binding an account that is already bound
// changes nothing, so the activation binds again with the next key.
func TestEquivalentInputsAfterBind(t *testing.T) {
	e := newEnv(t)
	b := branches[1]
	b.seed(e)
	e.failRun(b.build(e.builder(), ""), mockserver.Fault{Path: createPath, Status: http.StatusInternalServerError})
	first := e.plannedKey(b.build(e.builder(), ""), truewatch.StepBindBillingAccount)

	res, err := e.builder().BindBillingAccount("Ada", "ADA@example.com").CreateWorkspace(truewatch.CreateWorkspaceInfo{
		Name: "prod", Language: truewatch.LanguageEN, Email: adaEmail, TermsAccepted: true}).Run(context.Background())
	require.NoError(t, err)
	assertOneOutcome(t, e, b, res)
	var bind truewatch.Step
	for _, s := range res.Steps {
		if s.Name == truewatch.StepBindBillingAccount {
			bind = s
		}
	}
	e.assertNextBindKey(res, first, bind.IdempotencyKey)
	assert.Contains(t, bind.Reason, "different inputs")
}

// TestChangedInputsBetweenRuns completes (or fails) the first run's last
// step, then runs again with other inputs (another workspace name, company
// or site): a completed activation is reported as it is, with a note when
// the site differs; one that failed before the work finishes with the new
// inputs. Never a second account or workspace.
func TestChangedInputsBetweenRuns(t *testing.T) {
	create := func(name string) func(a *truewatch.Activation) *truewatch.Activation {
		return func(a *truewatch.Activation) *truewatch.Activation {
			return a.BindBillingAccount("ada", adaEmail).CreateWorkspace(truewatch.CreateWorkspaceInfo{
				Name: name, Language: truewatch.LanguageEN, Email: adaEmail, TermsAccepted: true})
		}
	}
	register := func(company string) func(a *truewatch.Activation) *truewatch.Activation {
		return func(a *truewatch.Activation) *truewatch.Activation {
			info := registerInfo()
			info.Company.Name = company
			return a.Register(info)
		}
	}
	for _, tc := range []struct {
		name         string
		b            branch
		path         string
		first, again func(a *truewatch.Activation) *truewatch.Activation
		againSite    truewatch.Site
		doneFirst    bool
		wantName     string
	}{
		{"workspace created, then another name and site", branches[1], createPath, create("prod"), create("other"), truewatch.SiteEU1, true, "prod"},
		{"workspace not created, then another name", branches[1], createPath, create("prod"), create("other"), truewatch.SiteUS1, false, "other"},
		{"registered, then another company", branches[0], registerPath, register("Analytical Engines"), register("Difference Engines"), truewatch.SiteUS1, true, "prod"},
		{"not registered, then another company", branches[0], registerPath, register("Analytical Engines"), register("Difference Engines"), truewatch.SiteUS1, false, "prod"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			tc.b.seed(e)
			e.failRun(tc.first(e.builder()), mockserver.Fault{Path: tc.path, Status: http.StatusInternalServerError, AfterHandler: tc.doneFirst})

			res, err := tc.again(e.builder().WithSite(tc.againSite)).Run(context.Background())
			require.NoError(t, err)
			assert.Equal(t, tc.doneFirst, res.AlreadyActivated)
			assertOneOutcome(t, e, tc.b, res)
			ws := e.srv.Workspaces()
			require.Len(t, ws, 1)
			assert.Equal(t, tc.wantName, ws[0].Name)
			if tc.againSite != truewatch.SiteUS1 {
				assert.Contains(t, strings.Join(res.Notes, "\n"), "not the chosen eu1")
			}
			if tc.b.name == branches[0].name {
				bas := e.srv.BillingAccounts()
				require.Len(t, bas, 1)
			}
		})
	}
}
