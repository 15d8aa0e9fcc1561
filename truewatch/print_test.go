package truewatch_test

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/truewatch-labs/marketplace-go/truewatch"
)

func TestPrintingAnActivationNeverRevealsSecrets(t *testing.T) {
	a := truewatch.NewActivation().
		WithSite(truewatch.SiteAP1).
		WithHuaweiCredentials("AKPRINT", "sk-secret-value").
		WithHuaweiSecurityToken("token-secret-value").
		Register(truewatch.RegisterInfo{Username: "ada", Password: "pw-secret-value", PasswordConfirm: "pw-secret-value"})
	for _, verb := range []string{"%v", "%+v", "%#v", "%s"} {
		s := fmt.Sprintf(verb, a)
		assert.Contains(t, s, "ap1", verb)
		for _, secret := range []string{"sk-secret-value", "token-secret-value", "pw-secret-value"} {
			assert.NotContains(t, s, secret, verb)
		}
	}
}
