package huawei_test

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/truewatch-labs/marketplace-go/huawei"
)

func TestPrintingAClientNeverRevealsTheSecretKeyOrToken(t *testing.T) {
	c, err := huawei.NewClient(huawei.WithCredentials("AKREDACTTEST", "sk-very-secret-value"),
		huawei.WithSecurityToken("token-very-secret-value"))
	require.NoError(t, err)
	for _, verb := range []string{"%v", "%+v", "%#v"} {
		s := fmt.Sprintf(verb, c)
		assert.NotContains(t, s, "sk-very-secret-value", verb)
		assert.NotContains(t, s, "token-very-secret-value", verb)
	}
}
