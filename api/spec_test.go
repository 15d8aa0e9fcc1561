package api_test

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/truewatch-labs/marketplace-go/api"
)

func TestSpecIsACopy(t *testing.T) {
	a := api.Spec()
	require.NotEmpty(t, a)
	a[0] ^= 0xff
	assert.False(t, bytes.Equal(a, api.Spec()), "modifying the returned slice must not change the document")
}

func TestSpecIsValid(t *testing.T) {
	doc := loadDoc(t)
	assert.Equal(t, "3.0.3", doc.OpenAPI)
	assert.Equal(t, []string{
		"bindBillingAccount", "bindWorkspace", "createWorkspace", "getBinding", "getSubscription",
		"getWorkspace", "listWorkspaces", "register", "registerAndCreateWorkspace", "sendVerificationCode",
	}, operationIDs(doc))
}
