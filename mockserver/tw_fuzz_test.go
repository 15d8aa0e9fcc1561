package mockserver

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"regexp"
	"testing"

	"github.com/truewatch-labs/marketplace-go/billing"
	"github.com/truewatch-labs/marketplace-go/internal/httpcore"
	"github.com/truewatch-labs/marketplace-go/internal/testkit"
	"github.com/truewatch-labs/marketplace-go/site"
)

// FuzzTrueWatchHandlers posts arbitrary bodies (with and without an
// Idempotency-Key) to every TrueWatch POST route and requires a 4xx or 2xx
// answer in a well-formed envelope (never a 5xx, never a crash) and a
// consistent state after it. Plain `go test` runs the seed corpus.
func FuzzTrueWatchHandlers(f *testing.F) {
	srv, err := New(WithoutListener(), WithMaxBodyBytes(4096))
	if err != nil {
		f.Fatal(err)
	}
	b, err := srv.SeedBillingAccount(BillingAccountSeed{Username: "fuzzer", Email: "fuzzer@example.com"})
	if err != nil {
		f.Fatal(err)
	}
	acc, err := srv.SeedAccount(AccountSeed{Site: site.AP1, Username: "fuzzer", Email: "fuzzer@example.com"})
	if err != nil {
		f.Fatal(err)
	}
	ws, err := srv.SeedWorkspace(WorkspaceSeed{OwnerAccountID: acc.ID, BillingAccountID: b.ID, Name: "fuzz"})
	if err != nil {
		f.Fatal(err)
	}
	tok, err := srv.SeedBinding(b.ID, DemoHuaweiAccountID, DemoInstanceID)
	if err != nil {
		f.Fatal(err)
	}
	paths := postRoutes()
	hc := srv.HTTPClient()
	trace := regexp.MustCompile(`^TRACE-[0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{12}$`)

	seed := func(route int, v any) {
		raw, err := testkit.WireJSON(v)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(uint8(route), raw, false)
		f.Add(uint8(route), raw, true)
	}
	seed(0, billing.SendCodeRequest{Email: "a@example.com", Purpose: billing.PurposeRegister})
	seed(1, registerReq("ada", "ada@example.com", "123456"))
	seed(2, billing.BindAccountRequest{Username: "fuzzer", Email: "fuzzer@example.com", EmailCode: "123456",
		HuaweiAccountID: DemoHuaweiAccountID, InstanceID: DemoInstanceID})
	seed(3, billing.BindWorkspaceRequest{WorkspaceID: ws.ID})
	seed(4, createReq("123456"))
	seed(5, registerCreateReq("123456"))
	for i := range paths {
		for _, raw := range []string{``, `{`, `[]`, `null`, `0`, `{"site":"ap1","site":"us1"}`, `{"password":{}}`,
			"{\"name\":\"\xff\xfe\"}", `{"workspaceUUID":"` + ws.ID + `"} trailing`, `{"company":{"name":[1]}}`} {
			f.Add(uint8(i), []byte(raw), i%2 == 0)
		}
	}

	f.Fuzz(func(t *testing.T, route uint8, body []byte, idem bool) {
		path := paths[int(route)%len(paths)]
		req, err := http.NewRequest(http.MethodPost, srv.URL()+path, bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+tok.Reveal())
		if idem {
			req.Header.Set(IdempotencyKeyHeader, "fuzz-key")
		}
		resp, err := hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		raw, _ := io.ReadAll(resp.Body)
		if resp.StatusCode >= 500 {
			t.Fatalf("HTTP %d for %s %q: %s", resp.StatusCode, path, body, raw)
		}
		var env httpcore.Envelope
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&env); err != nil {
			t.Fatalf("not an envelope: %v: %s", err, raw)
		}
		ok := resp.StatusCode == http.StatusOK
		if env.Code != resp.StatusCode || env.Success != ok || (env.ErrorCode == "") != ok || (env.Message == "") != ok ||
			!trace.MatchString(env.TraceID) {
			t.Fatalf("inconsistent envelope for HTTP %d: %s", resp.StatusCode, raw)
		}
		srv.requireConsistent(t)
	})
}
