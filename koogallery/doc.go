// Package koogallery is the seller's side of Huawei Cloud KooGallery
// (Huawei Cloud Marketplace) for SaaS vendors: the production interface
// KooGallery calls when a buyer purchases, renews, freezes or releases a
// product; the joint-operation ("联营") kit that syncs the buyer's
// enterprise, members and the application's credentials; the unified-login
// client that signs those members in; and the seller Open API call that
// reads an order.
//
//	h, err := koogallery.NewHandler(accessKey, myVendor)        // production interface V2
//	kit, err := koogallery.NewKitHandler(kitKey, myKitVendor,   // joint-operation kit
//		koogallery.WithClientSecretKey(privateKey))
//	mux.Handle("/saasproduce", h)
//	mux.Handle("/saasproduce"+koogallery.KitPathPrefix, kit)
//
// # The production interface (V2)
//
// KooGallery POSTs a JSON body to the product's production address with
// signature, timestamp and nonce in the query:
//
//	POST /saasproduce?signature=<hex>&timestamp=<Unix ms>&nonce=<random>
//	{"activity":"newInstance","businessId":"...","orderId":"...","orderLineId":"...","testFlag":"1"}
//
// and reads resultCode (and, for newInstance, instanceId and appInfo) from
// the JSON answer. The activities and their typed requests:
//
//	newInstance           NewInstanceRequest (flat, or with buyerInfo/orderInfo inline)
//	queryInstance         QueryInstanceRequest
//	refreshInstance       RefreshInstanceRequest (scene TRIAL_TO_FORMAL, RENEWAL, UNSUBSCRIBE_RENEWAL_PERIOD)
//	updateInstanceStatus  UpdateInstanceStatusRequest (FREEZE, UNFREEZE)
//	releaseInstance       ReleaseInstanceRequest
//	upgradeInstance       UpgradeInstanceRequest (also V1's "upgrade")
//	changeInstanceCheck   ChangeInstanceCheckRequest
//	orderNotify           OrderNotifyRequest
//	expireInstance        ExpireInstanceRequest (V1, still sent to older listings)
//
// The Handler checks, in order: the method (POST), the body (at most 1 MiB,
// one JSON object, no key given twice), the timestamp and nonce (present,
// the timestamp within the window), the signature, then the nonce against
// replay; it then decodes the activity (every field checked for presence,
// type and length) and only then calls the Vendor. Each refusal is answered
// with its documented code and reaches no vendor code: 000001 for a
// missing or wrong signature or a reused nonce, 000002 for everything else
// (missing timestamp or nonce, a stale timestamp, malformed JSON, unknown
// activities, missing, mistyped or oversized fields). The HTTP status is
// 200 for every result (405 for a method other than POST); nothing a
// caller sends produces a 5xx, and a vendor's panic is answered 000005.
//
// # The signature
//
//	bodyHash  = lower-case hex(HMAC-SHA256(key = accessKey, payload))
//	signature = hex(HMAC-SHA256(key = accessKey, accessKey + nonce + timestamp + bodyHash))
//
// The SaaS pages omit the HMAC key; the License 2.0 guide's identical
// scheme names the access key, and Huawei's Java sample project uses it.
// The payload is the body "sorted by parameter name". The Java sample
// builds it by parsing the body into a TreeMap, dropping null members and
// writing it back with Jackson; Canonical reproduces that byte for byte:
// top-level keys in Java's String order (UTF-16 code units), top-level
// nulls dropped, nested objects and arrays exactly as received, compact,
// Jackson's string escaping (no HTML escaping of < > &, non-ASCII as
// UTF-8, control characters as \u00XX in upper-case hex), integers as
// given and other numbers through Java's Double.toString (1.50 becomes 1.5,
// 1e2 becomes 100.0; JDK 19 and later). Go's json.Marshal of a map would
// sort nested keys and escape HTML, and would not match.
//
// Because implementations disagree, the verifier accepts a signature over
// any of three renderings of the same parsed body (WithBodyForms narrows
// this): FormSorted (above), FormSortedStrings (the sample's production
// controller binds a Map<String,String>, which turns top-level numbers
// and booleans into strings) and FormRaw (the body as sent, which one
// third-party implementation hashes). All three describe the same
// content, and the vendor is handed what was decoded from it. The
// signature is compared case-insensitively (the examples show both cases)
// and in constant time. One unverified implementation uses plain SHA-256
// instead of the inner HMAC; WithBodyHash(SHA256BodyHash) selects it.
//
// The timestamp is Unix milliseconds (the pages say seconds in places;
// every example has 13 digits, and the sample compares with
// System.currentTimeMillis). It may be up to 60 seconds old (WithWindow).
// The sample does not bound future timestamps; this package allows 60
// seconds of clock skew (WithFutureSkew) and refuses anything later,
// because a timestamp far in the future would stay valid longer than any
// nonce cache remembers it. Nonces are recorded only after the signature
// matched (so no one without the key can fill the store or burn
// KooGallery's nonces), until the timestamp leaves the window, in a
// NonceStore: MemoryNonceStore (bounded; when full it refuses calls with
// 000005 rather than forget a nonce) for one process, or a shared store
// for a fleet. A reused nonce is 000001.
//
// Answers carry no signature in V2 (its sample sends none); V1 required a
// Body-Sign header, sign_type="HMAC-SHA256", signature="base64(HMAC-SHA256(
// accessKey, body))", and the Handler still sends it, since a listing that
// checks it needs it and others ignore it (WithoutBodySign drops it).
//
// # Result codes and errors
//
// A Vendor method returns nil (000000), one of the sentinels
// ErrInvalidParameter (000002), ErrInstanceNotFound (000003),
// ErrProcessing (000004), ErrInternal (000005), ErrNoResources (000100),
// an *Error from NewError for a product-specific code (000101–000199 for
// newInstance), wrapped or not; any other error is answered 000005 with a
// generic message, so that internal details never reach KooGallery (the
// Handler logs them with WithLogger). UnimplementedVendor answers what a
// vendor does not implement: 000005 for the activities that change an
// instance, success for orderNotify and changeInstanceCheck.
//
// # newInstance is idempotent
//
// KooGallery requires one instance per orderId + orderLineId and sends
// newInstance again when an answer failed and whenever the buyer views the
// order ("do not update the order's instanceId then"). The Handler
// enforces it: the first call claims the order in an InstanceStore, the
// vendor creates the instance, the answer is recorded, and every later
// call for the order is answered from the record without calling the
// vendor, with the same instanceId and appInfo. A call that arrives while
// the first is still being answered gets 000004 and KooGallery asks again;
// a vendor failure records nothing, so the next call reaches the vendor.
// The default MemoryInstanceStore lives in the process; a vendor with
// several replicas, or that restarts, implements InstanceStore over its
// database, or turns the check off with WithoutIdempotency and keeps the
// mapping itself. NewInstance must answer within KooGallery's 5-second
// timeout: create the instance asynchronously and report its progress
// through queryInstance.
//
// # The joint-operation kit
//
// For joint-operation products KooGallery POSTs to
// <production address>/produceAPI/v2/{tenantSync, applicationSync,
// authSync, singleOrgSync, allOrgSync}, signed in headers under a separate
// kit key, with no inner hash:
//
//	x-sign = hex(HMAC-SHA256(key = kitKey, kitKey + x-nonce + x-timestamp + payload))
//
// where payload is FormSorted (the sample binds a Map<String,Object>) or,
// accepted too, the raw body. Timestamps, nonces and answers are as for
// the production interface. applicationSync's clientSecret is
// RSA-encrypted with the vendor's public key; the KitHandler decrypts it
// with WithClientSecretKey before the vendor sees it and answers
// ResultAppSecretProblem (000101, the sample's code) when it cannot. The
// padding is not documented: PaddingAuto tries OAEP (SHA-256, SHA-256 with
// MGF1-SHA-1 as Java's OAEPWithSHA-256AndMGF1Padding does, SHA-1) and then
// PKCS#1 v1.5 (Java's plain "RSA"); WithRSAPadding fixes one. Decryption
// happens only after the signature matched, so the answers are no padding
// oracle. The kit's timeStamp (yyyyMMddHHmmssSSS) is read as UTC+8, as its
// V1 page says. singleOrgSync's field names are not public; the decoder
// reads orgCode, name, parentCode and flag and keeps the whole body in Raw.
//
// # Unified login
//
// LoginClient signs a tenant's members in with OAuth2's authorization-code
// flow on golang.org/x/oauth2, against the tenant's domain from
// tenantSync and the credentials from applicationSync: Begin (authorize
// URL with a random state and a PKCE S256 challenge), Finish (state check
// in constant time, code exchange with the verifier), Refresh, UserInfo
// and LogoutURL ({domain}/api/v1/logout?redirect_url=...). The
// joint-operation pages document userinfo at {domain}/api/v1/oauth2/userinfo
// with camelCase fields; Huawei's newer OrgID service answers at
// /orgid/openapi/v1/oauth2/userinfo with X-OrgID-Authorization and
// snake_case fields. Which one a tenant uses is not documented:
// WithUserInfoStyle chooses, and both fill the same UserInfo. Client
// credentials go in the token request's form, as documented.
//
// # The Open API
//
// OpenAPIClient.QueryOrder reads an order (GET
// /api/mkp-openapi-public/global/v1/order/query) with the seller's Huawei
// Cloud AK/SK, each attempt signed afresh by the official SDK's
// SDK-HMAC-SHA256 signer (core/auth/signer). Hosts: mkt-intl.myhuaweicloud.com
// (international, the default), mkt.myhuaweicloud.eu, and
// mkt.myhuaweicloud.com with mkt.myhuaweicloud.cn as its fallback. Errors
// are *apierror.Error with the Open API's code (CBC.0150, CBC.0151,
// CBC.0154, CBC.0250, MKT.9001, ...). The full OrderInfo field table is
// not public; Order names the fields seen in examples and keeps the rest
// in Raw.
//
// # Playing KooGallery
//
// Signer and KitSigner sign as KooGallery does; Caller and KitCaller sign
// and send typed activities and events (or raw bodies, EncodeActivity and
// EncodeKitEvent) to a production address, or in-process to a handler
// (WithCallerHandler). WithInsecureHTTP lets a LoginClient reach a mock of
// the identity provider over plain http off loopback. Vendors test
// their service with them; a mock of KooGallery drives vendors with them.
//
// # What is not here
//
// V1's GET interface with authToken, and the AES encryption V1 applied to
// appInfo's userName and password (its key derivation emulates Java's
// SHA1PRNG and is unverified): the V2 field table still calls those two
// fields encrypted, but this package sends them as the vendor gives them.
package koogallery
