package api_test

import (
	"encoding/json"
	"maps"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/truewatch-labs/marketplace-go/internal/proof"
)

// Hand-written requests and responses, valid and invalid, checked against
// the document: they pin the rules the document states, independently of
// the clients and the mock.

const (
	exampleBase     = "http://mock.test"
	exampleBilling  = exampleBase + "/billing-center"
	exampleSite     = exampleBase + "/sites/za1/console-api"
	exampleToken    = "bctk_0123456789abcdef0123456789abcdef"
	exampleHuawei   = "0a1b2c3d4e5f40718293a4b5c6d7e8f9"
	exampleInstance = "tw-inst-7d7b0a7e1c2d4e5f"
	exampleTrace    = "TRACE-89835D3F-C614-46AD-A1B8-83CC686DDA7F"
	exampleWS       = "wksp_320a93deda9a47549ffb95ce26fc6bb4"
	exampleAcnt     = "acnt_6f2fd4c0766d11ebb56ef2b2c21faf74"
	exampleBcac     = "bcac_5b0c2f1e8d7a4c3b9e6f1a2d3c4b5a69"
)

type obj = map[string]any

// with returns a copy of m with the given keys set (nil value: removed).
func with(m obj, kv ...any) obj {
	out := maps.Clone(m)
	for i := 0; i+1 < len(kv); i += 2 {
		k := kv[i].(string)
		if kv[i+1] == nil {
			delete(out, k)
			continue
		}
		out[k] = kv[i+1]
	}
	return out
}

func exampleRegister() obj {
	return obj{
		"site": "za1", "username": "ada_lovelace", "password": "Analytical-Engine-1843",
		"email": "ada@example.com", "emailCode": "123456", "mobile": "+27115550100",
		"company":       obj{"name": "Analytical Engines Ltd", "country": "ZA"},
		"workspaceName": "Production", "workspaceLanguage": "en",
		"huaweiAccountId": exampleHuawei, "instanceId": exampleInstance, "termsAccepted": true,
	}
}

func exampleRegisterAndCreate() obj {
	return obj{
		"name": "Staging", "language": "zh", "site": "za1", "username": "grace.hopper",
		"password": "Cobol-1959!", "passwordConfirm": "Cobol-1959!", "email": "grace@example.com",
		"emailCode": "654321", "termsAccepted": true,
	}
}

func exampleWorkspace() obj {
	return obj{
		"uuid": exampleWS, "name": "Production", "language": "en", "site": "za1",
		"ownerAccountUUID": exampleAcnt, "billingAccountUUID": exampleBcac,
		"settlement": obj{"method": "huaweicloud", "huaweiAccountId": exampleHuawei,
			"instanceId": exampleInstance, "changedAt": 1767225600},
		"isLocked": false, "createAt": 1767225600, "updateAt": 1767225600,
	}
}

func exampleAccount() obj {
	return obj{"uuid": exampleAcnt, "username": "ada_lovelace", "email": "ada@example.com",
		"site": "za1", "createAt": 1767225600}
}

func exampleBillingAccount() obj {
	return obj{"uuid": exampleBcac, "username": "ada_lovelace", "email": "ada@example.com",
		"companyName": "Analytical Engines Ltd", "createAt": 1767225600}
}

func exampleSubscription() obj {
	return obj{"huaweiAccountId": exampleHuawei, "instanceId": exampleInstance,
		"productId": "OFFI845592654693900288", "status": "in_use", "active": true, "ownershipProven": true,
		"bound": false, "workspaces": []any{}}
}

func examplePublicSubscription() obj {
	return obj{"huaweiAccountId": exampleHuawei, "instanceId": exampleInstance,
		"productId": "OFFI845592654693900288", "status": "in_use", "active": true, "ownershipProven": false}
}

// exampleProof is a well-formed ownership proof (the document checks its
// shape; only Huawei can check its signature).
func exampleProof(t *testing.T) string {
	t.Helper()
	p, err := proof.Sign("https://sts.ap-southeast-1.myhuaweicloud.com", proof.PathCallerIdentity, exampleBilling,
		"EXAMPLEAK0000000001", "example-secret", "", time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	require.NoError(t, err)
	return p
}

func ok(content any) obj {
	return obj{"code": 200, "content": content, "errorCode": "", "message": "", "success": true, "traceId": exampleTrace}
}

func okPage(content any, count, total int) obj {
	return with(ok(content), "pageInfo", obj{"count": count, "pageIndex": 1, "pageSize": 20, "totalCount": total})
}

func fail(status int, code, msg string) obj {
	return obj{"code": status, "content": obj{}, "errorCode": code, "message": msg, "success": false, "traceId": exampleTrace}
}

func problems(ps ...obj) obj {
	items := make([]any, len(ps))
	for i, p := range ps {
		items[i] = p
	}
	return with(fail(400, "ft.ValidationFailed", "invalid request"), "content", obj{"problems": items})
}

type exampleRequest struct {
	method, url string
	token       string
	body        any
	header      map[string]string
	proven      bool // carries exampleProof
}

func (e exampleRequest) build(t *testing.T) *http.Request {
	t.Helper()
	var body *strings.Reader
	if e.body != nil {
		b, err := json.Marshal(e.body)
		require.NoError(t, err)
		body = strings.NewReader(string(b))
	}
	var req *http.Request
	var err error
	if body != nil {
		req, err = http.NewRequest(e.method, e.url, body)
	} else {
		req, err = http.NewRequest(e.method, e.url, nil)
	}
	require.NoError(t, err)
	if e.body != nil {
		req.Header.Set("Content-Type", "application/json;charset=UTF-8")
	}
	if e.token != "" {
		req.Header.Set("Authorization", "Bearer "+e.token)
	}
	if e.proven {
		req.Header.Set(proof.Header, exampleProof(t))
	}
	for k, v := range e.header {
		req.Header.Set(k, v)
	}
	return req
}

func post(url string, body any) exampleRequest {
	return exampleRequest{method: http.MethodPost, url: url, body: body}
}
func get(url string) exampleRequest { return exampleRequest{method: http.MethodGet, url: url} }

func (e exampleRequest) auth(token string) exampleRequest { e.token = token; return e }

// withProof makes the request carry a well-formed ownership proof.
func (e exampleRequest) withProof() exampleRequest { e.proven = true; return e }

// withHeader sets a header.
func (e exampleRequest) withHeader(k, v string) exampleRequest {
	e.header = with2(e.header, k, v)
	return e
}

func TestExampleRequests(t *testing.T) {
	c := loadContract(t, exampleBase)
	long := strings.Repeat("x", 257)
	cases := []struct {
		name  string
		req   exampleRequest
		valid bool
		opID  string
	}{
		{"send code", post(exampleBilling+"/api/v1/verification_code/send", obj{"email": "ada@example.com", "purpose": "register"}), true, "sendVerificationCode"},
		{"send code with idempotency key", exampleRequest{method: http.MethodPost, url: exampleBilling + "/api/v1/verification_code/send",
			body: obj{"email": "ada@example.com", "purpose": "create_workspace"}, header: map[string]string{"Idempotency-Key": "idem_4f6c1a0e9b2d4c8e8a7f3b5d6e1c2a90"}}, true, "sendVerificationCode"},
		{"send code unknown field", post(exampleBilling+"/api/v1/verification_code/send", obj{"email": "ada@example.com", "purpose": "register", "lang": "en"}), false, ""},
		{"send code unknown purpose", post(exampleBilling+"/api/v1/verification_code/send", obj{"email": "ada@example.com", "purpose": "login"}), false, ""},
		{"send code bad email", post(exampleBilling+"/api/v1/verification_code/send", obj{"email": "ada", "purpose": "register"}), false, ""},
		{"send code no body", exampleRequest{method: http.MethodPost, url: exampleBilling + "/api/v1/verification_code/send"}, false, ""},
		{"get subscription", get(exampleBilling + "/api/v1/subscription/get?huaweiAccountId=" + exampleHuawei + "&instanceId=" + exampleInstance), true, "getSubscription"},
		{"get subscription with a proof", get(exampleBilling + "/api/v1/subscription/get?huaweiAccountId=" + exampleHuawei + "&instanceId=" + exampleInstance).withProof(), true, "getSubscription"},
		{"get subscription with a proof that is not base64", get(exampleBilling+"/api/v1/subscription/get?huaweiAccountId="+exampleHuawei+"&instanceId="+exampleInstance).
			withHeader("X-TrueWatch-Ownership-Proof", "not base64!"), false, ""},
		{"get subscription missing instance", get(exampleBilling + "/api/v1/subscription/get?huaweiAccountId=" + exampleHuawei), false, ""},
		{"get subscription upper-case account", get(exampleBilling + "/api/v1/subscription/get?huaweiAccountId=" + strings.ToUpper(exampleHuawei) + "&instanceId=x"), false, ""},
		{"get subscription instance too long", get(exampleBilling + "/api/v1/subscription/get?huaweiAccountId=" + exampleHuawei + "&instanceId=" + strings.Repeat("i", 65)), false, ""},
		{"register", post(exampleBilling+"/api/v1/account/register", exampleRegister()).withProof(), true, "register"},
		{"register without optional mobile", post(exampleBilling+"/api/v1/account/register", with(exampleRegister(), "mobile", nil)).withProof(), true, "register"},
		{"register without a proof", post(exampleBilling+"/api/v1/account/register", exampleRegister()), false, ""},
		{"register with a proof that is not one", post(exampleBilling+"/api/v1/account/register", exampleRegister()).
			withHeader("X-TrueWatch-Ownership-Proof", "bm90IGEgcHJvb2Y="), false, ""},
		{"register short password", post(exampleBilling+"/api/v1/account/register", with(exampleRegister(), "password", "Ab1!")), false, ""},
		{"register password with space", post(exampleBilling+"/api/v1/account/register", with(exampleRegister(), "password", "Analytical Engine 1843")), false, ""},
		{"register terms not accepted", post(exampleBilling+"/api/v1/account/register", with(exampleRegister(), "termsAccepted", false)), false, ""},
		{"register username starts with digit", post(exampleBilling+"/api/v1/account/register", with(exampleRegister(), "username", "1ada")), false, ""},
		{"register username too long", post(exampleBilling+"/api/v1/account/register", with(exampleRegister(), "username", "a"+strings.Repeat("b", 32))), false, ""},
		{"register workspace name too long", post(exampleBilling+"/api/v1/account/register", with(exampleRegister(), "workspaceName", long)), false, ""},
		{"register blank workspace name", post(exampleBilling+"/api/v1/account/register", with(exampleRegister(), "workspaceName", "   ")), false, ""},
		{"register bad mobile", post(exampleBilling+"/api/v1/account/register", with(exampleRegister(), "mobile", "12345")), false, ""},
		{"register code of 5 digits", post(exampleBilling+"/api/v1/account/register", with(exampleRegister(), "emailCode", "12345")), false, ""},
		{"register unknown language", post(exampleBilling+"/api/v1/account/register", with(exampleRegister(), "workspaceLanguage", "fr")), false, ""},
		{"register unknown site", post(exampleBilling+"/api/v1/account/register", with(exampleRegister(), "site", "cn1")), false, ""},
		{"register instance with space", post(exampleBilling+"/api/v1/account/register", with(exampleRegister(), "instanceId", "tw inst")), false, ""},
		{"register company without name", post(exampleBilling+"/api/v1/account/register", with(exampleRegister(), "company", obj{"country": "ZA"})), false, ""},
		{"register company unknown field", post(exampleBilling+"/api/v1/account/register", with(exampleRegister(), "company", obj{"name": "A", "vat": "1"})), false, ""},
		{"bind account", post(exampleBilling+"/api/v1/billing_account/bind", obj{"username": "ada_lovelace", "email": "ada@example.com",
			"emailCode": "123456", "huaweiAccountId": exampleHuawei, "instanceId": exampleInstance}).withProof(), true, "bindBillingAccount"},
		{"bind account without a proof", post(exampleBilling+"/api/v1/billing_account/bind", obj{"username": "ada_lovelace", "email": "ada@example.com",
			"emailCode": "123456", "huaweiAccountId": exampleHuawei, "instanceId": exampleInstance}), false, ""},
		{"bind account missing code", post(exampleBilling+"/api/v1/billing_account/bind", obj{"username": "ada_lovelace", "email": "ada@example.com",
			"huaweiAccountId": exampleHuawei, "instanceId": exampleInstance}), false, ""},
		{"list workspaces", get(exampleBilling + "/api/v1/billing_account/workspace/list?pageIndex=2&pageSize=100&site=za1").auth(exampleToken), true, "listWorkspaces"},
		{"list workspaces without token", get(exampleBilling + "/api/v1/billing_account/workspace/list"), false, ""},
		{"list workspaces malformed token", get(exampleBilling + "/api/v1/billing_account/workspace/list").auth("tkn_123"), false, ""},
		{"list workspaces page size 101", get(exampleBilling + "/api/v1/billing_account/workspace/list?pageSize=101").auth(exampleToken), false, ""},
		{"list workspaces page 0", get(exampleBilling + "/api/v1/billing_account/workspace/list?pageIndex=0").auth(exampleToken), false, ""},
		{"list workspaces unknown site", get(exampleBilling + "/api/v1/billing_account/workspace/list?site=cn1").auth(exampleToken), false, ""},
		{"bind workspace", post(exampleBilling+"/api/v1/billing_account/workspace/bind", obj{"workspaceUUID": exampleWS}).auth(exampleToken), true, "bindWorkspace"},
		{"bind workspace empty id", post(exampleBilling+"/api/v1/billing_account/workspace/bind", obj{"workspaceUUID": ""}).auth(exampleToken), false, ""},
		{"get binding", get(exampleBilling + "/api/v1/billing_account/binding/get").auth(exampleToken), true, "getBinding"},
		{"create workspace", post(exampleSite+"/api/v1/workspace/create", obj{"name": "Staging", "language": "en", "site": "za1",
			"email": "ada@example.com", "emailCode": "123456", "termsAccepted": true}).auth(exampleToken), true, "createWorkspace"},
		{"create workspace without token", post(exampleSite+"/api/v1/workspace/create", obj{"name": "Staging", "language": "en", "site": "za1",
			"email": "ada@example.com", "emailCode": "123456", "termsAccepted": true}), false, ""},
		{"create workspace on an unknown site host", post(exampleBase+"/sites/cn1/console-api/api/v1/workspace/create", obj{"name": "Staging", "language": "en", "site": "za1",
			"email": "ada@example.com", "emailCode": "123456", "termsAccepted": true}).auth(exampleToken), false, ""},
		{"register and create", post(exampleSite+"/api/v1/workspace/register_and_create", exampleRegisterAndCreate()).auth(exampleToken), true, "registerAndCreateWorkspace"},
		{"register and create missing confirmation", post(exampleSite+"/api/v1/workspace/register_and_create", with(exampleRegisterAndCreate(), "passwordConfirm", nil)).auth(exampleToken), false, ""},
		{"get workspace", get(exampleSite + "/api/v1/workspace/" + exampleWS + "/get").auth(exampleToken), true, "getWorkspace"},
		{"billing path on a site host", get(exampleSite + "/api/v1/billing_account/binding/get").auth(exampleToken), false, ""},
		{"workspace path on the billing host", get(exampleBilling + "/api/v1/workspace/" + exampleWS + "/get").auth(exampleToken), false, ""},
		{"unknown path", get(exampleBilling + "/api/v1/nothing/here"), false, ""},
		{"wrong method", get(exampleBilling + "/api/v1/account/register"), false, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			in, err := c.validateRequest(tc.req.build(t))
			if !tc.valid {
				assert.Error(t, err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.opID, in.Route.Operation.OperationID)
		})
	}
}

func TestExampleResponses(t *testing.T) {
	c := loadContract(t, exampleBase)
	sendCode := post(exampleBilling+"/api/v1/verification_code/send", obj{"email": "ada@example.com", "purpose": "register"})
	getSub := get(exampleBilling + "/api/v1/subscription/get?huaweiAccountId=" + exampleHuawei + "&instanceId=" + exampleInstance)
	register := post(exampleBilling+"/api/v1/account/register", exampleRegister()).withProof()
	bindAcct := post(exampleBilling+"/api/v1/billing_account/bind", obj{"username": "ada_lovelace", "email": "ada@example.com",
		"emailCode": "123456", "huaweiAccountId": exampleHuawei, "instanceId": exampleInstance}).withProof()
	list := get(exampleBilling + "/api/v1/billing_account/workspace/list").auth(exampleToken)
	bindWS := post(exampleBilling+"/api/v1/billing_account/workspace/bind", obj{"workspaceUUID": exampleWS}).auth(exampleToken)
	binding := get(exampleBilling + "/api/v1/billing_account/binding/get").auth(exampleToken)
	getWS := get(exampleSite + "/api/v1/workspace/" + exampleWS + "/get").auth(exampleToken)
	create := post(exampleSite+"/api/v1/workspace/create", obj{"name": "Staging", "language": "en", "site": "za1",
		"email": "ada@example.com", "emailCode": "123456", "termsAccepted": true}).auth(exampleToken)

	codeResult := obj{"email": "ada@example.com", "purpose": "register", "expiresAt": 1767226200, "resendAfter": 1767225660}
	bindable := with(exampleWorkspace(), "bindable", false, "reason", "settled by another active subscription")
	created := obj{"account": exampleAccount(), "workspace": exampleWorkspace(), "loginUrl": "http://mock.test/sites/za1/auth/login/pwd"}
	headers := map[string]string{"X-Request-Id": "req-0123456789abcdef0123456789abcdef"}
	cases := []struct {
		name    string
		req     exampleRequest
		status  int
		header  map[string]string
		body    any
		valid   bool
		comment string
	}{
		{"code sent", sendCode, 200, headers, ok(codeResult), true, ""},
		{"code sent, replayed", sendCode, 200, with2(headers, "Idempotent-Replayed", "true"), ok(codeResult), true, ""},
		{"replayed header not true", sendCode, 200, with2(headers, "Idempotent-Replayed", "yes"), ok(codeResult), false, ""},
		{"no request ID", sendCode, 200, nil, ok(codeResult), false, "X-Request-Id is on every response"},
		{"extra content field", sendCode, 200, headers, ok(with(codeResult, "code", "123456")), false, "responses are closed"},
		{"extra envelope field", sendCode, 200, headers, with(ok(codeResult), "data", obj{}), false, ""},
		{"timestamp as string", sendCode, 200, headers, ok(with(codeResult, "expiresAt", "2026-01-01T00:10:00Z")), false, "timestamps are Unix seconds"},
		{"lower-case trace ID", sendCode, 200, headers, with(ok(codeResult), "traceId", strings.ToLower(exampleTrace)), false, ""},
		{"success false on 200", sendCode, 200, headers, with(ok(codeResult), "success", false), false, ""},
		{"envelope code differs from status", sendCode, 200, headers, with(ok(codeResult), "code", 201), false, ""},
		{"resend too soon", sendCode, 429, with2(headers, "Retry-After", "42"), fail(429, "ft.VerificationCodeResendTooSoon", "wait 42s"), true, ""},
		{"resend too soon with a rate-limit code", sendCode, 429, headers, fail(429, "ft.TriggerApiAkCurrentLimiting", "slow down"), false, ""},
		{"resend too soon without retry-after", sendCode, 429, headers, fail(429, "ft.VerificationCodeResendTooSoon", "wait"), false, "the wait is always stated"},
		{"throttled without a token", getSub, 401, with2(headers, "Retry-After", "3"), fail(401, "ft.TriggerApiAkCurrentLimiting", "throttled"), true, ""},
		{"unauthorized on an operation without a token", getSub, 401, headers, fail(401, "ft.Unauthorized", "?"), false, "only throttling answers 401 there"},
		{"missing token", list, 401, with2(headers, "WWW-Authenticate", `Bearer realm="truewatch-billing-center"`), fail(401, "ft.Unauthorized", "missing token"), true, ""},
		{"retry-after not seconds", sendCode, 429, with2(headers, "Retry-After", "soon"), fail(429, "ft.VerificationCodeResendTooSoon", "wait"), false, ""},
		{"validation failed", sendCode, 400, headers, problems(obj{"field": "email", "message": "must be a valid email address"}), true, ""},
		{"validation problem without message", sendCode, 400, headers, problems(obj{"field": "email"}), false, ""},
		{"invalid JSON", sendCode, 400, headers, fail(400, "ft.InvalidJSON", "unknown field \"lang\""), true, ""},
		{"undocumented error code", sendCode, 400, headers, fail(400, "ft.Oops", "?"), false, ""},
		{"error without message", sendCode, 400, headers, fail(400, "ft.InvalidJSON", ""), false, ""},
		{"conflict code on a 400", sendCode, 400, headers, fail(400, "ft.UsernameTaken", "taken"), false, ""},
		{"undocumented status", sendCode, 418, headers, fail(418, "ft.InternalError", "teapot"), false, ""},
		{"idempotency key reused", sendCode, 409, headers, fail(409, "ft.IdempotencyKeyReused", "different body"), true, ""},
		{"server error", sendCode, 503, headers, fail(503, "ft.InjectedFault", "injected"), true, ""},
		{"subscription", getSub, 200, headers, ok(exampleSubscription()), true, ""},
		{"subscription bound", getSub, 200, headers, ok(with(exampleSubscription(), "bound", true, "billingAccountUUID", exampleBcac,
			"billingUsername", "ada_lovelace", "workspaces", []any{obj{"uuid": exampleWS, "name": "Production", "site": "za1"}},
			"loginUrl", "https://za1-console.truewatch.com/login/pwd")), true, ""},
		{"subscription workspaces null", getSub, 200, headers, ok(with(exampleSubscription(), "workspaces", nil)), false, "workspaces is required"},
		{"subscription without a proof", getSub, 200, headers, ok(examplePublicSubscription()), true, ""},
		{"subscription without a proof tells who bound it", getSub, 200, headers, ok(with(examplePublicSubscription(),
			"bound", true, "billingUsername", "ada_lovelace")), false, "the partial answer never says how it is bound"},
		{"subscription without a proof lists workspaces", getSub, 200, headers, ok(with(examplePublicSubscription(),
			"workspaces", []any{})), false, ""},
		{"complete subscription not proven", getSub, 200, headers, ok(with(exampleSubscription(), "ownershipProven", false)), false, ""},
		{"proof refused", register, 401, with2(headers, "WWW-Authenticate", `HuaweiOwnershipProof audience="`+exampleBilling+`"`),
			fail(401, "ft.OwnershipProofReused", "used"), true, ""},
		{"proof required", bindAcct, 401, headers, fail(401, "ft.OwnershipProofRequired", "none"), true, ""},
		{"proof refused on a lookup", getSub, 401, headers, fail(401, "ft.OwnershipProofExpired", "old"), true, ""},
		{"proof refused with a bearer-token code", register, 401, headers, fail(401, "ft.Unauthorized", "?"), false, ""},
		{"proof for another account", register, 403, headers, fail(403, "ft.OwnershipProofAccountMismatch", "not yours"), true, ""},
		{"proof unverifiable", getSub, 502, headers, fail(502, "ft.OwnershipProofUnverifiable", "Huawei down"), true, ""},
		{"proof challenge of another scheme", register, 401, with2(headers, "WWW-Authenticate", "Basic"),
			fail(401, "ft.OwnershipProofInvalid", "forged"), false, ""},
		{"subscription unknown status", getSub, 200, headers, ok(with(exampleSubscription(), "status", "2")), false, ""},
		{"subscription not found", getSub, 404, headers, fail(404, "ft.SubscriptionNotFound", "no such subscription"), true, ""},
		{"registered", register, 200, headers, ok(obj{"account": exampleAccount(), "billingAccount": exampleBillingAccount(),
			"workspace": exampleWorkspace(), "loginUrl": "https://za1-console.truewatch.com/login/pwd"}), true, ""},
		{"registered, workspace ID without prefix", register, 200, headers, ok(obj{"account": exampleAccount(), "billingAccount": exampleBillingAccount(),
			"workspace": with(exampleWorkspace(), "uuid", "320a93deda9a47549ffb95ce26fc6bb4"), "loginUrl": "https://x.test/"}), false, ""},
		{"username taken", register, 409, headers, fail(409, "ft.UsernameTaken", "taken"), true, ""},
		{"payload too large", register, 413, headers, fail(413, "ft.BodyTooLarge", "too large"), true, ""},
		{"bound", bindAcct, 200, headers, ok(obj{"billingAccount": exampleBillingAccount(), "token": exampleToken, "expiresAt": 1767229200}), true, ""},
		{"bound, malformed token", bindAcct, 200, headers, ok(obj{"billingAccount": exampleBillingAccount(), "token": "tkn_1", "expiresAt": 1767229200}), false, ""},
		{"wrong code", bindAcct, 400, headers, fail(400, "ft.InvalidVerificationCode", "wrong code"), true, ""},
		{"code expired", bindAcct, 400, headers, fail(400, "ft.VerificationCodeExpired", "expired"), true, ""},
		{"billing account not found", bindAcct, 404, headers, fail(404, "ft.BillingAccountNotFound", "no such account"), true, ""},
		{"list", list, 200, headers, okPage([]any{bindable}, 1, 1), true, ""},
		{"list without page info", list, 200, headers, ok([]any{bindable}), false, "lists carry pageInfo"},
		{"list item with an unknown reason", list, 200, headers, okPage([]any{with(bindable, "reason", "because")}, 1, 1), false, ""},
		{"list items without bindable", list, 200, headers, okPage([]any{exampleWorkspace()}, 1, 1), false, ""},
		{"token expired", list, 401, headers, fail(401, "ft.TokenExpired", "expired"), true, ""},
		{"rate limited", list, 401, with2(headers, "Retry-After", "1"), fail(401, "ft.TriggerApiAkCurrentLimiting", "throttled"), true, ""},
		{"workspace bound", bindWS, 200, headers, ok(obj{"workspace": exampleWorkspace(), "changed": true, "loginUrl": "https://za1-console.truewatch.com/login/pwd"}), true, ""},
		{"settlement locked", bindWS, 409, headers, fail(409, "ft.SettlementLocked", "locked"), true, ""},
		{"settlement change limit", bindWS, 409, headers, fail(409, "ft.SettlementChangeLimit", "once a month"), true, ""},
		{"binding", binding, 200, headers, ok(obj{"billingAccount": exampleBillingAccount(), "huaweiAccountId": exampleHuawei,
			"instanceId": exampleInstance, "status": "in_use", "workspaces": []any{}}), true, ""},
		{"workspace", getWS, 200, headers, ok(exampleWorkspace()), true, ""},
		{"workspace with unknown settlement method", getWS, 200, headers, ok(with(exampleWorkspace(), "settlement", obj{"method": "cash", "changedAt": 0})), false, ""},
		{"workspace not found", getWS, 404, headers, fail(404, "ft.WorkspaceNotFound", "no such workspace"), true, ""},
		{"workspace error with page info", getWS, 404, headers, with(fail(404, "ft.WorkspaceNotFound", "x"), "pageInfo", obj{"count": 0, "pageIndex": 1, "pageSize": 20, "totalCount": 0}), false, ""},
		{"created", create, 200, headers, ok(created), true, ""},
		{"workspace name taken", create, 409, headers, fail(409, "ft.WorkspaceNameTaken", "taken"), true, ""},
		{"account not found", create, 404, headers, fail(404, "ft.AccountNotFound", "no account"), true, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			in, err := c.validateRequest(tc.req.build(t))
			require.NoError(t, err)
			h := http.Header{"Content-Type": {"application/json;charset=UTF-8"}}
			for k, v := range tc.header {
				h.Set(k, v)
			}
			b, err := json.Marshal(tc.body)
			require.NoError(t, err)
			err = c.validateResponse(in, tc.status, h, b)
			if tc.valid {
				assert.NoError(t, err)
			} else {
				assert.Error(t, err, tc.comment)
			}
		})
	}
}

func with2(m map[string]string, k, v string) map[string]string {
	out := maps.Clone(m)
	if out == nil {
		out = map[string]string{}
	}
	out[k] = v
	return out
}
