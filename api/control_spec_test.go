package api_test

import (
	"net/http"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/truewatch-labs/marketplace-go/billing"
	"github.com/truewatch-labs/marketplace-go/internal/ctlcontract"
	"github.com/truewatch-labs/marketplace-go/mockserver"
	"github.com/truewatch-labs/marketplace-go/twapi"
)

// The static half of the control plane's contract: the document is valid,
// describes exactly the routes the mock serves, and its schemas have
// exactly the JSON fields of the Go types. The dynamic half (every
// operation and status exercised against a real mock, every request and
// answer validated) is mockclient's TestControlPlane.

// TestControlSpecDescribesEveryRoute fails for a route in ControlEndpoints
// (the mux's control routes) that the document lacks, and for a documented
// operation the mock does not serve.
func TestControlSpecDescribesEveryRoute(t *testing.T) {
	doc, err := ctlcontract.Load()
	require.NoError(t, err)
	srv, err := mockserver.New(mockserver.WithoutListener())
	require.NoError(t, err)
	defer srv.Close()
	var served, documented []string
	for _, e := range srv.ControlEndpoints() {
		served = append(served, e.Method+" "+e.Path)
	}
	for _, op := range ctlcontract.Operations(doc) {
		documented = append(documented, op.Method+" "+op.Path)
	}
	for _, r := range served {
		assert.True(t, slices.Contains(documented, r), "%s is served but not in api/control.openapi.yaml: describe it there", r)
	}
	for _, r := range documented {
		assert.True(t, slices.Contains(served, r), "%s is in api/control.openapi.yaml but not served", r)
	}
	assert.Len(t, documented, len(served), "no route twice")
}

// TestControlSpecOperations checks what every operation must say: an
// operationId and summary; the guard's statuses (401 for the token but on
// the health check, 403; 415 on a change) and, on a change, the
// X-Mock-Control security scheme; every error answer in the Error shape;
// and a closed body.
func TestControlSpecOperations(t *testing.T) {
	doc, err := ctlcontract.Load()
	require.NoError(t, err)
	ids := map[string]bool{}
	for _, op := range ctlcontract.Operations(doc) {
		name := op.Method + " " + op.Path
		assert.NotEmpty(t, op.ID, name)
		assert.False(t, ids[op.ID], "operationId %s twice", op.ID)
		ids[op.ID] = true
		assert.NotEmpty(t, op.Op.Summary, name)
		want := []string{"403"}
		if op.ID != "health" {
			want = append(want, "401")
		}
		if op.Method != http.MethodGet {
			want = append(want, "415")
			require.NotNil(t, op.Op.Security, name)
			for _, req := range *op.Op.Security {
				assert.Contains(t, req, "controlHeader", "%s: every way to call a change needs X-Mock-Control", name)
			}
		}
		if op.Op.RequestBody != nil {
			want = append(want, "400", "413")
			s := op.Op.RequestBody.Value.Content.Get("application/json").Schema.Value
			assert.True(t, closedBody(s), "%s: the mock refuses unknown fields, so the body's schema has additionalProperties: false", name)
		}
		for _, code := range want {
			assert.NotNil(t, op.Op.Responses.Value(code), "%s documents %s", name, code)
		}
		for code, r := range op.Op.Responses.Map() {
			if code[0] == '4' {
				mt := r.Value.Content.Get("application/json")
				if assert.NotNil(t, mt, "%s %s is JSON", name, code) {
					assert.Equal(t, "#/components/schemas/Error", mt.Schema.Ref, "%s %s", name, code)
				}
			}
		}
	}
}

func closed(s *openapi3.Schema) bool {
	return s.AdditionalProperties.Has != nil && !*s.AdditionalProperties.Has
}

// closedBody reports whether every object a body may be is closed: the
// schema itself, each alternative of a oneOf (POST /_mock/faults takes a
// fault or a script), and an array's items.
func closedBody(s *openapi3.Schema) bool {
	switch {
	case len(s.OneOf) > 0:
		for _, alt := range s.OneOf {
			if !closedBody(alt.Value) {
				return false
			}
		}
		return true
	case s.Type.Is("array"):
		return s.Items != nil && closedBody(s.Items.Value)
	}
	return closed(s)
}

// goTypes are the Go types whose JSON each schema describes.
var goTypes = map[string]any{
	"AccessKey": mockserver.AccessKey{}, "Account": twapi.Account{}, "AccountSeed": mockserver.AccountSeed{},
	"Application": mockserver.Application{}, "AuthorizationRequest": mockserver.AuthorizationRequest{},
	"BillingAccount": billing.BillingAccount{}, "BillingAccountSeed": mockserver.BillingAccountSeed{},
	"BindingSeed": mockserver.BindingSeed{}, "BoundWorkspace": billing.BoundWorkspace{},
	"ChangeOptions": mockserver.ChangeOptions{}, "ClockState": mockserver.ClockState{}, "Delivery": mockserver.Delivery{},
	"Department": mockserver.Department{}, "DepartmentChange": mockserver.Department{}, "Email": mockserver.Email{},
	"Enterprise": mockserver.Enterprise{}, "EnterpriseChange": mockserver.EnterpriseChange{},
	"EnterpriseRequest": mockserver.EnterpriseRequest{}, "Fault": mockserver.Fault{}, "FaultStatus": mockserver.FaultStatus{},
	"Fixture": mockserver.Fixture{}, "FixtureAccount": mockserver.FixtureAccount{},
	"FixtureBillingAccount": mockserver.FixtureBillingAccount{}, "FixtureBinding": mockserver.FixtureBinding{},
	"FixtureResult": mockserver.FixtureResult{}, "FixtureWorkspace": mockserver.FixtureWorkspace{}, "Latency": mockserver.Latency{},
	"HuaweiAccount": mockserver.HuaweiAccount{}, "MarketplaceOrder": mockserver.MarketplaceOrder{},
	"Member": mockserver.Member{}, "MemberChange": mockserver.MemberChange{}, "MemberRequest": mockserver.MemberRequest{},
	"NamespaceInfo": mockserver.NamespaceInfo{}, "NamespaceRequest": mockserver.NamespaceRequest{},
	"Operation": mockserver.Operation{}, "OrderRequest": mockserver.OrderRequest{}, "OrderView": mockserver.OrderView{},
	"Purchase": mockserver.Purchase{}, "PurchaseChange": mockserver.PurchaseChange{},
	"RecordedRequest": mockserver.RecordedRequest{}, "SeededBinding": mockserver.SeededBinding{},
	"Settlement": twapi.Settlement{}, "Snapshot": mockserver.Snapshot{}, "Subscription": billing.Subscription{},
	"TrueWatchTenant": mockserver.TrueWatchTenant{}, "Workspace": twapi.Workspace{}, "WorkspaceSeed": mockserver.WorkspaceSeed{},
}

// extraFields are JSON fields a type's MarshalJSON adds.
var extraFields = map[string][]string{
	"RecordedRequest": {"latencyMs"}, // Latency is json:"-", written as latencyMs
}

// wireSchemas are the schemas of answers the handlers build without a Go
// type (maps), or of bodies decoded into unexported types.
var wireSchemas = []string{"Error", "Status", "Health", "ID", "FaultAdded", "FaultsAdded", "FaultRemoved", "Empty", "Duration", "ClockMove",
	"PasswordReset", "Timestamp", "Saved"}

// TestControlSchemasMatchGoTypes: every object schema is closed
// (additionalProperties: false) and has exactly the JSON fields of its Go
// type, so a field added to a type fails here until the document has it.
func TestControlSchemasMatchGoTypes(t *testing.T) {
	doc, err := ctlcontract.Load()
	require.NoError(t, err)
	for name, ref := range doc.Components.Schemas {
		s := ref.Value
		if slices.Contains(wireSchemas, name) {
			if s.Type.Is("object") {
				assert.True(t, closed(s), "%s is closed", name)
			}
			continue
		}
		v, ok := goTypes[name]
		if !assert.True(t, ok, "schema %s: name its Go type in goTypes (or list it in wireSchemas)", name) {
			continue
		}
		assert.True(t, closed(s), "%s is closed", name)
		var props []string
		for p := range s.Properties {
			props = append(props, p)
		}
		sort.Strings(props)
		fields := append(jsonFields(reflect.TypeOf(v)), extraFields[name]...)
		sort.Strings(fields)
		assert.Equal(t, fields, props, "schema %s against the JSON of %T", name, v)
		for _, r := range s.Required {
			assert.Contains(t, props, r, "%s requires a property it does not have", name)
		}
	}
}

// jsonFields lists the JSON field names encoding/json gives t's exported
// fields, embedded structs flattened.
func jsonFields(t reflect.Type) []string {
	var out []string
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		name, _, _ := strings.Cut(tag, ",")
		switch {
		case tag == "-":
		case f.Anonymous && name == "":
			out = append(out, jsonFields(f.Type)...)
		case !f.IsExported():
		case name == "":
			out = append(out, f.Name)
		default:
			out = append(out, name)
		}
	}
	return out
}
