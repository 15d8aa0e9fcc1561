package main

import (
	"context"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/truewatch-labs/marketplace-go/billing"
	"github.com/truewatch-labs/marketplace-go/mockclient"
)

// requireToolsEnv, set to 1 (by .ci/run), makes a missing curl, python3
// or node a failure of TestAnyLanguageExamples instead of a skip.
const requireToolsEnv = "MARKETPLACE_REQUIRE_EXAMPLE_TOOLS"

// anyLanguage are the examples of docs/any-language.md and what runs them.
var anyLanguage = []struct{ file, tool string }{
	{"seed.sh", "sh"},
	{"mock.py", "python3"},
	{"mock.mjs", "node"},
}

// TestAnyLanguageExamples runs each example of docs/any-language.md
// (curl, Python, JavaScript) against the binary, built and started as a
// user would, and checks what it printed against the mock's state, read
// with mockclient: first each in the default namespace, then the three at
// once, each in a namespace of its own (NS) that it creates on a mock
// started with -explicit-namespaces, none seeing another's state, fault,
// clock, outbox or journal.
func TestAnyLanguageExamples(t *testing.T) {
	var missing []string
	for _, tool := range []string{"sh", "curl", "sed", "python3", "node"} {
		if _, err := exec.LookPath(tool); err != nil {
			missing = append(missing, tool)
		}
	}
	if len(missing) > 0 {
		if os.Getenv(requireToolsEnv) == "1" {
			t.Fatalf("%s=1 but %v not found: apt-get install -y curl python3 nodejs", requireToolsEnv, missing)
		}
		t.Skipf("%v not found (apt-get install -y curl python3 nodejs; %s=1 makes this a failure)", missing, requireToolsEnv)
	}
	// Each example moves the clock a day on: tokens outlive the three.
	base := startBinary(t, buildBinary(t), "-addr", "127.0.0.1:0", "-token-ttl", "100h", "-explicit-namespaces").base
	root, err := mockclient.New(base)
	require.NoError(t, err)
	for _, ex := range anyLanguage {
		t.Run(ex.file, func(t *testing.T) { runExample(t, base, root, ex.file, ex.tool, "") })
	}
	before, err := root.State(context.Background())
	require.NoError(t, err)
	t.Run("namespaces", func(t *testing.T) {
		for _, ex := range anyLanguage {
			t.Run(ex.file, func(t *testing.T) {
				t.Parallel()
				runExample(t, base, root, ex.file, ex.tool, "lang-"+strings.TrimPrefix(filepath.Ext(ex.file), "."))
			})
		}
	})
	after, err := root.State(context.Background())
	require.NoError(t, err)
	assert.Equal(t, before, after, "the namespaced runs left the default namespace alone")
	list, err := root.Namespaces(context.Background())
	require.NoError(t, err)
	assert.Len(t, list, 1+len(anyLanguage), "each example made its namespace")
}

// runExample runs one example (in the namespace ns, unless empty) and
// checks each line it printed against the mock's state in that namespace.
func runExample(t *testing.T, base string, root *mockclient.Client, file, tool, ns string) {
	mc, api := root, base
	if ns != "" {
		mc, api = root.InNamespace(ns), base+"/ns/"+ns
	}
	ctx := context.Background()
	// A new namespace's clock is the system's, without the moves of the
	// default's (which the runs before moved).
	before := time.Now()
	if ns == "" {
		c, err := mc.Clock(ctx)
		require.NoError(t, err)
		before = c.Now
	}
	runCtx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	cmd := exec.CommandContext(runCtx, tool, filepath.Join("..", "..", "examples", "any-language", file))
	cmd.Env = append(os.Environ(), "MOCK="+base, "NS="+ns)
	out, err := cmd.Output()
	var stderr string
	if ee, ok := err.(*exec.ExitError); ok {
		stderr = string(ee.Stderr)
	}
	require.NoError(t, err, "%s\n%s", out, stderr)
	got := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		k, v, ok := strings.Cut(line, ": ")
		require.True(t, ok, "line %q", line)
		got[k] = v
	}
	st, err := mc.State(ctx)
	require.NoError(t, err)
	require.Len(t, st.BillingAccounts, 1, "the example reset the mock (its namespace) first")
	assert.Equal(t, st.BillingAccounts[0].ID, got["billing account"])
	assert.Equal(t, "acme", st.BillingAccounts[0].Username)
	require.Len(t, st.Accounts, 1)
	assert.Equal(t, st.Accounts[0].ID, got["console account"])
	require.Len(t, st.Workspaces, 1)
	assert.Equal(t, st.Workspaces[0].ID, got["workspace"])
	assert.Equal(t, got["billing account"], st.Workspaces[0].BillingAccountID)
	require.Len(t, st.Subscriptions, 1)
	assert.Equal(t, got["billing account"], st.Subscriptions[0].BillingAccountID, "bound to the demo purchase")
	assert.Regexp(t, `^bctk_[0-9a-f]{32}$`, got["binding token"])
	assert.Equal(t, http.StatusOK, bindingStatus(t, api, got["binding token"]), "the token works")
	if ns != "" {
		assert.Equal(t, http.StatusUnauthorized, bindingStatus(t, base, got["binding token"]), "in its namespace only")
	}

	assert.Equal(t, "503, then 200", got["fault"])
	code, ok, err := mc.LatestCode(ctx, "ops@acme.example", billing.PurposeBindBillingAccount)
	require.NoError(t, err)
	require.True(t, ok)
	assert.Equal(t, code, got["code"])
	clock, err := time.Parse(time.RFC3339Nano, got["clock"])
	require.NoError(t, err)
	assert.WithinDuration(t, before.Add(24*time.Hour), clock, 5*time.Second, "a day later")
	assert.Equal(t, "billing.SendVerificationCode 503 200", got["journal"])
	want := 8
	if ns != "" {
		want++
		assert.Equal(t, ns, got["namespace"])
	}
	assert.Len(t, got, want, "%s", out)
}

// bindingStatus calls the Billing Center's getBinding with token.
func bindingStatus(t *testing.T, base, token string) int {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, base+"/billing-center/api/v1/billing_account/binding/get", nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	_ = resp.Body.Close()
	return resp.StatusCode
}

// TestAnyLanguageDocEmbedsExamples: every example file is in
// docs/any-language.md verbatim, after a line naming it.
func TestAnyLanguageDocEmbedsExamples(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join("..", "..", "docs", "any-language.md"))
	require.NoError(t, err)
	blocks := regexp.MustCompile("(?s)<!-- file: examples/any-language/([^ ]+) -->\n```[a-z]*\n(.*?)```\n").FindAllStringSubmatch(string(doc), -1)
	embedded := map[string]string{}
	for _, b := range blocks {
		embedded[b[1]] = b[2]
	}
	for _, ex := range anyLanguage {
		want, err := os.ReadFile(filepath.Join("..", "..", "examples", "any-language", ex.file))
		require.NoError(t, err)
		assert.Equal(t, string(want), embedded[ex.file], "docs/any-language.md must embed examples/any-language/%s as it is", ex.file)
	}
	assert.Len(t, embedded, len(anyLanguage))
}
