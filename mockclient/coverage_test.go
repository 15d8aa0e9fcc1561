package mockclient_test

import (
	"reflect"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/truewatch-labs/marketplace-go/internal/ctlcontract"
	"github.com/truewatch-labs/marketplace-go/mockclient"
)

// methods names the Client methods that call each operation of
// api/control.openapi.yaml.
var methods = map[string][]string{
	"health": {"Health"}, "reset": {"Reset"}, "getState": {"State"},
	"listPurchases": {"Purchases"}, "addPurchase": {"AddPurchase"},
	"renewPurchase": {"ChangePurchase"}, "expirePurchase": {"ChangePurchase"}, "freezePurchase": {"ChangePurchase"},
	"unfreezePurchase": {"ChangePurchase"}, "releasePurchase": {"ChangePurchase"}, "upgradePurchase": {"ChangePurchase"},
	"listOrders": {"Orders"}, "placeOrder": {"PlaceOrder"}, "getOrder": {"Order"}, "viewOrder": {"ViewOrder"},
	"listDeliveries": {"Deliveries"}, "getClock": {"Clock"}, "moveClock": {"AdvanceClock", "SetClock"},
	"unlockWorkspace": {"UnlockWorkspace"}, "listEnterprises": {"Enterprises"}, "createEnterprise": {"CreateEnterprise"},
	"getEnterprise": {"Enterprise"}, "updateEnterprise": {"UpdateEnterprise"}, "deleteEnterprise": {"DeleteEnterprise"},
	"getApplication": {"EnterpriseApplication"}, "rotateClientSecret": {"RotateClientSecret"},
	"listMembers": {"Members"}, "addMember": {"AddMember"}, "updateMember": {"UpdateMember"}, "removeMember": {"RemoveMember"},
	"resetMemberPassword": {"ResetMemberPassword"}, "authorizeMembers": {"AuthorizeMembers"},
	"deauthorizeMembers": {"DeauthorizeMembers"}, "listDepartments": {"Departments"}, "addDepartment": {"AddDepartment"},
	"updateDepartment": {"UpdateDepartment"}, "removeDepartment": {"RemoveDepartment"}, "syncDepartments": {"SyncDepartments"},
	"listTrueWatchTenants": {"TrueWatchTenants"}, "addHuaweiAccount": {"AddHuaweiAccount"},
	"seedBillingAccount": {"SeedBillingAccount"}, "seedAccount": {"SeedAccount"}, "seedWorkspace": {"SeedWorkspace"},
	"seedBinding": {"SeedBinding"}, "listOperations": {"Operations"}, "listFaults": {"Faults"},
	"clearFaults": {"ClearFaults"}, "removeFault": {"RemoveFault"}, "injectFault": {"InjectFault", "InjectFaults"},
	"loadFixture": {"LoadFixture"}, "getFixtureSchema": {"FixtureSchema"}, "saveState": {"SaveState"}, "listOutbox": {"Outbox", "OutboxFor", "LatestCode"},
	"listRequests": {"Requests"}, "clearRequests": {"ClearRequests"}, "getContract": {"ContractSpec"},
	"getControlContract": {"ControlSpec"}, "listNamespaces": {"Namespaces"}, "createNamespace": {"CreateNamespace"},
	"getNamespace": {"Namespace"}, "deleteNamespace": {"DeleteNamespace"},
}

// TestEveryOperationHasAMethod: the client covers the whole control
// plane. An operation added to the document needs a method here.
func TestEveryOperationHasAMethod(t *testing.T) {
	doc, err := ctlcontract.Load()
	require.NoError(t, err)
	client := reflect.TypeOf(&mockclient.Client{})
	for _, op := range ctlcontract.Operations(doc) {
		names, ok := methods[op.ID]
		if !assert.True(t, ok, "operation %s (%s %s) has no method of mockclient.Client: add one, and name it in methods", op.ID, op.Method, op.Path) {
			continue
		}
		for _, n := range names {
			_, ok := client.MethodByName(n)
			assert.True(t, ok, "mockclient.Client has no method %s (for %s)", n, op.ID)
		}
	}
	assert.Len(t, methods, len(ctlcontract.Operations(doc)), "methods names only documented operations")
}
