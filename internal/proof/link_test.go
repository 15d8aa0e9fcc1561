package proof

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/truewatch-labs/marketplace-go/apierror"
)

func TestDecodeLink(t *testing.T) {
	const tok = "atk_0123456789abcdef0123456789abcdef"
	got, isLink, err := DecodeLink(EncodeLink(tok))
	assert.Nil(t, err)
	assert.True(t, isLink)
	assert.Equal(t, tok, got)

	_, isLink, err = DecodeLink("eyJtZXRob2QiOiJHRVQifQ==")
	assert.False(t, isLink, "a signed request is not a link")
	assert.Nil(t, err)
	for _, bad := range []string{"ActivationLink", "ActivationLink ", "ActivationLinkatk_0123456789abcdef0123456789abcdef",
		"ActivationLink atk_0123456789ABCDEF0123456789ABCDEF", "ActivationLink atk_0123", "ActivationLink bctk_0123456789abcdef0123456789abcdef",
		"ActivationLink " + tok + " extra"} {
		_, isLink, err = DecodeLink(bad)
		assert.True(t, isLink, bad)
		if assert.NotNil(t, err, bad) {
			assert.Equal(t, apierror.CodeProofInvalid, err.Code)
		}
	}
	assert.True(t, IsLinkToken(tok))
	assert.False(t, IsLinkToken("atk_"+tok[4:]+"0"))
}
