package billing_test

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/truewatch-labs/marketplace-go/billing"
	"github.com/truewatch-labs/marketplace-go/secret"
	"github.com/truewatch-labs/marketplace-go/workspace"
)

// The wire types put their secrets in clear in JSON (and only they do), and
// decode back to the same value.
func TestWireTypesCarrySecretsInClear(t *testing.T) {
	tests := []struct {
		name    string
		v       any
		back    any
		secrets []string
	}{
		{"RegisterRequest", billing.RegisterRequest{Username: "ada", Password: "Pass-word-1", EmailCode: "123456",
			Company: billing.Company{Name: "A"}, WorkspaceLanguage: workspace.LanguageEN}, &billing.RegisterRequest{},
			[]string{`"password":"Pass-word-1"`, `"emailCode":"123456"`}},
		{"BindAccountRequest", billing.BindAccountRequest{Username: "ada", EmailCode: "654321"}, &billing.BindAccountRequest{},
			[]string{`"emailCode":"654321"`}},
		{"BindAccountResult", billing.BindAccountResult{Token: "bctk_x"}, &billing.BindAccountResult{},
			[]string{`"token":"bctk_x"`}},
		{"CreateWorkspaceRequest", workspace.CreateWorkspaceRequest{Name: "w", EmailCode: "111111"}, &workspace.CreateWorkspaceRequest{},
			[]string{`"emailCode":"111111"`}},
		{"RegisterAndCreateRequest", workspace.RegisterAndCreateRequest{Password: "P-1aaaaa", PasswordConfirm: "P-1aaaaa", EmailCode: "222222"},
			&workspace.RegisterAndCreateRequest{}, []string{`"password":"P-1aaaaa"`, `"passwordConfirm":"P-1aaaaa"`, `"emailCode":"222222"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := json.Marshal(tt.v)
			require.NoError(t, err)
			for _, s := range tt.secrets {
				assert.Contains(t, string(b), s)
			}
			assert.NotContains(t, string(b), secret.Redacted)
			var m map[string]any
			require.NoError(t, json.Unmarshal(b, &m))
			for k := range m {
				assert.NotContains(t, k, "plain", "the embedded copy must not show up as a field")
			}
			require.NoError(t, json.Unmarshal(b, tt.back))
			again, err := json.Marshal(tt.back)
			require.NoError(t, err)
			assert.JSONEq(t, string(b), string(again))
		})
	}
}
