package twapi_test

import (
	"context"
	"go/ast"
	"go/parser"
	"go/token"
	"net/http"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/jarcoal/httpmock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/truewatch-labs/marketplace-go/apierror"
	"github.com/truewatch-labs/marketplace-go/billing"
	"github.com/truewatch-labs/marketplace-go/internal/testkit"
	"github.com/truewatch-labs/marketplace-go/secret"
	"github.com/truewatch-labs/marketplace-go/site"
	"github.com/truewatch-labs/marketplace-go/twapi"
	"github.com/truewatch-labs/marketplace-go/workspace"
)

const module = "github.com/truewatch-labs/marketplace-go/"

// transport records every request and answers each with an empty success.
func transport(t *testing.T) (*httpmock.MockTransport, *http.Client) {
	t.Helper()
	mt := httpmock.NewMockTransport()
	mt.RegisterNoResponder(testkit.OK(map[string]any{}))
	return mt, &http.Client{Transport: mt}
}

// One option set: the same twapi options configure both clients.
func TestSharedOptions_ConfigureBothClients(t *testing.T) {
	mt, hc := transport(t)
	shared := []twapi.Option{twapi.WithHTTPClient(hc), twapi.WithUserAgent("shared/1.0")}
	bc, err := billing.NewClient(append(shared, billing.WithBaseURL("https://billing.test"))...)
	require.NoError(t, err)
	eps, err := site.UnderBase("https://mock.test")
	require.NoError(t, err)
	wc, err := workspace.NewClient(append(shared, workspace.WithEndpoints(eps))...)
	require.NoError(t, err)

	var uas []string
	mt.RegisterNoResponder(func(r *http.Request) (*http.Response, error) {
		uas = append(uas, r.Header.Get("User-Agent"))
		return testkit.OK(map[string]any{})(r)
	})
	var bi, wi twapi.CallInfo
	_, err = bc.GetSubscription(context.Background(), "0123456789abcdef0123456789abcdef", "ins-1", twapi.WithCallInfo(&bi))
	require.NoError(t, err)
	_, err = wc.GetWorkspace(context.Background(), "tok", site.EU1, "wksp_1", workspace.WithCallInfo(&wi))
	require.NoError(t, err)
	require.Len(t, uas, 2, "both clients sent through the one HTTP client")
	for _, ua := range uas {
		assert.True(t, strings.HasSuffix(ua, " shared/1.0"), ua)
	}
	assert.Equal(t, http.StatusOK, bi.HTTPStatus)
	assert.Equal(t, http.StatusOK, wi.HTTPStatus)
	assert.Equal(t, 1, bi.Attempts)
	assert.Equal(t, testkit.TraceID, wi.TraceID)
}

// A client's own option given to the other client is refused by name, with
// the other bad options, and builds nothing.
func TestOwnOptions_RefusedByTheOtherClient(t *testing.T) {
	eps, err := site.UnderBase("https://mock.test")
	require.NoError(t, err)

	wc, err := workspace.NewClient(billing.WithBaseURL("https://billing.test"), twapi.WithLogger(nil),
		billing.WithAudience("https://billing.test"))
	assert.Nil(t, wc)
	var oe *apierror.OptionError
	require.ErrorAs(t, err, &oe)
	assert.Equal(t, "workspace.NewClient", oe.Constructor)
	assert.Equal(t, []apierror.Problem{
		{Field: "WithBaseURL", Message: "is an option of billing.NewClient, not of workspace.NewClient"},
		{Field: "WithLogger", Message: "must not be nil"},
		{Field: "WithAudience", Message: "is an option of billing.NewClient, not of workspace.NewClient"},
	}, oe.Problems)

	bc, err := billing.NewClient(billing.WithBaseURL("https://billing.test"), workspace.WithEndpoints(eps))
	assert.Nil(t, bc)
	require.ErrorAs(t, err, &oe)
	assert.Equal(t, []apierror.Problem{
		{Field: "WithEndpoints", Message: "is an option of workspace.NewClient, not of billing.NewClient"},
	}, oe.Problems)
}

type prover struct{ calls int }

func (p *prover) OwnershipProof(context.Context, string) (string, error) {
	p.calls++
	return "proof", nil
}

// A billing request option given to a workspace call fails it before
// anything is sent, with the call's other problems.
func TestOwnRequestOptions_RefusedByTheOtherClient(t *testing.T) {
	mt, hc := transport(t)
	wc, err := workspace.NewClient(twapi.WithHTTPClient(hc))
	require.NoError(t, err)
	p := &prover{}
	var info twapi.CallInfo
	_, err = wc.GetWorkspace(context.Background(), secret.String(""), site.EU1, "wksp_1",
		billing.WithOwnershipProof(p), twapi.WithCallInfo(&info))
	var ve *apierror.ValidationError
	require.ErrorAs(t, err, &ve)
	assert.Equal(t, "GetWorkspace", ve.Operation)
	assert.Equal(t, []apierror.Problem{
		{Field: "token", Message: "is required"},
		{Field: "WithOwnershipProof", Message: "is a request option of the billing client only"},
	}, ve.Problems)
	assert.Equal(t, 0, mt.GetTotalCallCount(), "nothing sent")
	assert.Equal(t, 0, p.calls)
	assert.Equal(t, twapi.CallInfo{}, info)

	// A valid call with the stray option is refused too.
	_, err = wc.GetWorkspace(context.Background(), "tok", site.EU1, "wksp_1", billing.WithOwnershipProof(p))
	require.ErrorAs(t, err, &ve)
	assert.Equal(t, []apierror.Problem{
		{Field: "WithOwnershipProof", Message: "is a request option of the billing client only"},
	}, ve.Problems)
	assert.Equal(t, 0, mt.GetTotalCallCount())
}

// The public API of both clients shows its fields in go doc: no type a
// caller reads or fills is an alias of an internal type (as CallInfo and
// PageInfo once were).
func TestPublicTypes_AreNotInternal(t *testing.T) {
	seen := map[reflect.Type]bool{}
	var walk func(where string, typ reflect.Type)
	walk = func(where string, typ reflect.Type) {
		for typ.Kind() == reflect.Pointer || typ.Kind() == reflect.Slice || typ.Kind() == reflect.Array || typ.Kind() == reflect.Map {
			typ = typ.Elem()
		}
		if seen[typ] {
			return
		}
		seen[typ] = true
		if strings.Contains(typ.PkgPath(), "/internal/") {
			t.Errorf("%s: %s is an internal type", where, typ)
		}
		// Options are opaque functions; their parameters are internal by
		// design (as google.golang.org/api/option's).
		if typ.Kind() == reflect.Struct && strings.HasPrefix(typ.PkgPath(), module) {
			for i := range typ.NumField() {
				if f := typ.Field(i); f.IsExported() {
					walk(typ.String()+"."+f.Name, f.Type)
				}
			}
		}
	}
	for _, c := range []any{&billing.Client{}, &workspace.Client{}} {
		ct := reflect.TypeOf(c)
		for i := range ct.NumMethod() {
			m := ct.Method(i)
			for j := 1; j < m.Type.NumIn(); j++ {
				walk(ct.String()+"."+m.Name, m.Type.In(j))
			}
			for j := range m.Type.NumOut() {
				walk(ct.String()+"."+m.Name, m.Type.Out(j))
			}
		}
	}
	for _, v := range []any{twapi.CallInfo{}, twapi.PageInfo{}} {
		walk("twapi", reflect.TypeOf(v))
	}
	assert.True(t, seen[reflect.TypeOf(twapi.PageInfo{})], "ListBindableWorkspaces returns *twapi.PageInfo")
	assert.True(t, seen[reflect.TypeOf(twapi.Workspace{})])
}

// imports lists the module packages the non-test files of dir import.
func imports(t *testing.T, dir string) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("..", dir, "*.go"))
	require.NoError(t, err)
	var out []string
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		af, err := parser.ParseFile(token.NewFileSet(), f, nil, parser.ImportsOnly)
		require.NoError(t, err)
		for _, is := range af.Imports {
			p, err := strconv.Unquote(is.Path.Value)
			require.NoError(t, err)
			if rest, ok := strings.CutPrefix(p, module); ok && !slices.Contains(out, rest) {
				out = append(out, rest)
			}
		}
	}
	slices.Sort(out)
	return out
}

// billing and workspace stand side by side on the one core: neither
// imports the other, both import twcore and twapi.
func TestClients_ShareTheCoreNotEachOther(t *testing.T) {
	b, w := imports(t, "billing"), imports(t, "workspace")
	assert.NotContains(t, b, "workspace")
	assert.NotContains(t, w, "billing")
	for _, deps := range [][]string{b, w} {
		assert.Contains(t, deps, "internal/twcore")
		assert.Contains(t, deps, "twapi")
	}
}

// The types of this package are declared with their fields, not as aliases,
// so that go doc shows them.
func TestTypes_DeclaredWithFields(t *testing.T) {
	fset := token.NewFileSet()
	files, err := filepath.Glob("*.go")
	require.NoError(t, err)
	structs := map[string]bool{}
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		af, err := parser.ParseFile(fset, f, nil, 0)
		require.NoError(t, err)
		for _, d := range af.Decls {
			gd, ok := d.(*ast.GenDecl)
			if !ok {
				continue
			}
			for _, s := range gd.Specs {
				if ts, ok := s.(*ast.TypeSpec); ok {
					assert.False(t, ts.Assign.IsValid(), "%s is an alias", ts.Name)
					_, structs[ts.Name.Name] = ts.Type.(*ast.StructType)
				}
			}
		}
	}
	for _, name := range []string{"CallInfo", "PageInfo", "Workspace", "Account", "Settlement", "Timestamp"} {
		assert.True(t, structs[name], "%s is declared as a struct", name)
	}
}
