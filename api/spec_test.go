package api_test

import (
	"bytes"
	"go/ast"
	"go/parser"
	"go/token"
	"regexp"
	"slices"
	"strconv"
	"strings"
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

// TestErrorCodesAgree: the document's error codes are exactly the ft.
// codes apierror declares for the contract; apierror's other ft. codes
// appear nowhere in the document; and every code is listed by at least
// one operation's responses, but for the routing codes, which answer
// requests that match no operation and which ErrorCode's description
// names.
func TestErrorCodesAgree(t *testing.T) {
	doc := loadDoc(t)
	var documented []string
	for _, v := range doc.Components.Schemas["ErrorCode"].Value.Enum {
		documented = append(documented, v.(string))
	}
	contract, others := apierrorCodes(t)
	slices.Sort(documented)
	assert.Equal(t, contract, documented, "apierror's contract codes and the document's ErrorCode")
	for _, c := range others {
		assert.NotContains(t, string(api.Spec()), c, "%s is not a code of the contract", c)
	}

	listed := map[string]bool{}
	for _, op := range documentedOperations(doc) {
		for code, resp := range op.op.Responses.Map() {
			status, err := strconv.Atoi(strings.ReplaceAll(code, "X", "0"))
			require.NoError(t, err)
			if resp.Value != nil && status >= 400 {
				for _, c := range documentedCodes(op.op, status) {
					listed[c] = true
				}
			}
		}
	}
	var routing []string
	for _, c := range documented {
		if !listed[c] {
			routing = append(routing, c)
		}
	}
	named := regexp.MustCompile("`(ft\\.[A-Za-z]+)`").FindAllStringSubmatch(doc.Components.Schemas["ErrorCode"].Value.Description, -1)
	var routingNamed []string
	for _, m := range named {
		routingNamed = append(routingNamed, m[1])
	}
	slices.Sort(routingNamed)
	assert.Equal(t, routingNamed, routing, "codes no operation lists must be the routing codes ErrorCode's description names")
}

// apierrorCodes reads apierror's source: the ft. codes of the block
// documented as the contract's, sorted, and its other ft. codes.
func apierrorCodes(t *testing.T) (contract, others []string) {
	t.Helper()
	f, err := parser.ParseFile(token.NewFileSet(), "../apierror/apierror.go", nil, parser.ParseComments)
	require.NoError(t, err)
	for _, d := range f.Decls {
		gd, ok := d.(*ast.GenDecl)
		if !ok || gd.Tok != token.CONST {
			continue
		}
		isContract := gd.Doc != nil && strings.HasPrefix(gd.Doc.Text(), "TrueWatch error codes of the Billing Center and workspace contract")
		for _, spec := range gd.Specs {
			for _, v := range spec.(*ast.ValueSpec).Values {
				lit, ok := v.(*ast.BasicLit)
				if !ok {
					continue
				}
				s, err := strconv.Unquote(lit.Value)
				if err != nil || !strings.HasPrefix(s, "ft.") {
					continue
				}
				if isContract {
					contract = append(contract, s)
				} else {
					others = append(others, s)
				}
			}
		}
	}
	require.NotEmpty(t, contract, "apierror's block of contract codes")
	slices.Sort(contract)
	return contract, others
}
