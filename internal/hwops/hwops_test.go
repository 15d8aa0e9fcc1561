package hwops

import (
	"bytes"
	"flag"
	"os"
	"os/exec"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite catalogue.go from the SDK in go.mod")

// sdkModule is the directory and version of the SDK module in go.mod.
func sdkModule(t *testing.T) (dir, version string) {
	t.Helper()
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}} {{.Version}}", "github.com/huaweicloud/huaweicloud-sdk-go-v3").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	dir, version, _ = strings.Cut(strings.TrimSpace(string(out)), " ")
	if dir == "" {
		t.Fatal("the SDK module is not downloaded (go mod download)")
	}
	return dir, version
}

// TestCatalogueMatchesSDK: catalogue.go is what Parse reads from the SDK in
// go.mod, so an SDK upgrade that adds or moves an operation fails here.
func TestCatalogueMatchesSDK(t *testing.T) {
	dir, version := sdkModule(t)
	ops, err := Parse(dir)
	if err != nil {
		t.Fatal(err)
	}
	var want bytes.Buffer
	if err := Render(&want, version, ops); err != nil {
		t.Fatal(err)
	}
	if *update {
		if err := os.WriteFile("catalogue.go", want.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	got, err := os.ReadFile("catalogue.go")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want.Bytes()) {
		t.Fatalf("catalogue.go is not what SDK %s defines; run go test ./internal/hwops -update", version)
	}
	if len(ops) < 200 {
		t.Fatalf("only %d operations parsed", len(ops))
	}
}

func TestFind(t *testing.T) {
	for _, tc := range []struct {
		method, path, want string
	}{
		{"GET", "/v3/auth/domains", "KeystoneListAuthDomains"},
		{"GET", "/v3/users/abc", "KeystoneShowUser"},
		{"POST", "/v3/users", "KeystoneCreateUser"},
		{"GET", "/v3/auth/projects", "KeystoneListAuthProjects"},
		{"GET", "/v5/caller-identity", "GetCallerIdentity"},
		{"POST", "/v2/orders/suscriptions/resources/query", "ListPayPerUseCustomerResources"},
		{"GET", "/v2/accounts/customer-accounts/balances", "ShowCustomerAccountBalances"},
	} {
		op, ok := Find(tc.method, tc.path)
		if !ok || op.Name != tc.want {
			t.Errorf("Find(%s %s) = %v, %v; want %s", tc.method, tc.path, op, ok, tc.want)
		}
	}
	for _, tc := range []struct{ method, path string }{
		{"GET", "/v3/nowhere"}, {"DELETE", "/v3/auth/domains"}, {"GET", "/v3/users/"}, {"GET", "/v2/orders/suscriptions/resources/query"},
	} {
		if op, ok := Find(tc.method, tc.path); ok {
			t.Errorf("Find(%s %s) = %v; want none", tc.method, tc.path, op)
		}
	}
}
