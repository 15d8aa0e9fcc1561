package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/truewatch-labs/marketplace-go/billing"
	"github.com/truewatch-labs/marketplace-go/huawei"
	"github.com/truewatch-labs/marketplace-go/internal/routes"
	"github.com/truewatch-labs/marketplace-go/mockserver"
	"github.com/truewatch-labs/marketplace-go/secret"
	"github.com/truewatch-labs/marketplace-go/site"
	"github.com/truewatch-labs/marketplace-go/twapi"
)

// The example fixture's Huawei account (examples/fixtures/acme.json).
const (
	acmeHuaweiID = "1f2e3d4c5b6a47988796a5b4c3d2e1f0"
	acmeAK       = "ACMEAKFIXTURE00000001"
	acmeSK       = "acme-fixture-secret-key-not-for-production"
)

func buildBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "truewatch-mock")
	if outb, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, outb)
	}
	return bin
}

// binProc is the binary running: its URL, and its output after the
// banner and exit status once it ends.
type binProc struct {
	cmd    *exec.Cmd
	base   string
	rest   chan string
	exited chan error
}

func startBinary(t *testing.T, bin string, args ...string) *binProc {
	t.Helper()
	return startCmd(t, exec.Command(bin, args...))
}

// startCmd starts cmd, the binary, and reads its banner's first line for
// the address and the scheme it serves.
func startCmd(t *testing.T, cmd *exec.Cmd) *binProc {
	t.Helper()
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
		}
	})
	lines := bufio.NewScanner(stdout)
	var addr, scheme string
	for addr == "" && lines.Scan() {
		if m := regexp.MustCompile(`listening on (127\.0\.0\.1:\d+), serving (https?)://`).FindStringSubmatch(lines.Text()); m != nil {
			addr, scheme = m[1], m[2]
		}
	}
	require.NotEmpty(t, addr, "the banner names the address")
	p := &binProc{cmd: cmd, base: scheme + "://" + addr, rest: make(chan string, 1), exited: make(chan error, 1)}
	go func() {
		var b strings.Builder
		for lines.Scan() {
			b.WriteString(lines.Text() + "\n")
		}
		p.rest <- b.String()
		p.exited <- cmd.Wait()
	}()
	return p
}

// stop sends SIGTERM and returns the output after the banner.
func (p *binProc) stop(t *testing.T) string {
	t.Helper()
	require.NoError(t, p.cmd.Process.Signal(syscall.SIGTERM))
	select {
	case out := <-p.rest:
		require.NoError(t, <-p.exited, "exit status 0: %s", out)
		return out
	case <-time.After(20 * time.Second):
		t.Fatal("the binary did not exit on SIGTERM")
		return ""
	}
}

func (p *binProc) control(t *testing.T, method, path, body string) []byte {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, p.base+path, rd)
	require.NoError(t, err)
	req.Header.Set(mockserver.ControlHeader, "1")
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.Less(t, resp.StatusCode, 300, "%s %s: %s", method, path, raw)
	return raw
}

// code reads the newest code sent to email for purpose from the outbox,
// over HTTP, as a test in another language would.
func (p *binProc) code(t *testing.T, email string, purpose billing.Purpose) secret.String {
	t.Helper()
	var mails []struct {
		Purpose billing.Purpose `json:"purpose"`
		Code    string          `json:"code"`
	}
	require.NoError(t, json.Unmarshal(p.control(t, http.MethodGet, "/_mock/outbox?email="+url.QueryEscape(email), ""), &mails))
	for i := len(mails) - 1; i >= 0; i-- {
		if mails[i].Purpose == purpose {
			return secret.String(mails[i].Code)
		}
	}
	t.Fatalf("no %s code for %s", purpose, email)
	return ""
}

func sdkClients(t *testing.T, base, ak, sk string) *billing.Client {
	t.Helper()
	hw, err := huawei.NewClient(huawei.WithCredentials(ak, secret.String(sk)), huawei.WithEndpoint(base))
	require.NoError(t, err)
	bc, err := billing.NewClient(billing.WithBaseURL(base+routes.MockBillingPrefix), billing.WithOwnershipProver(hw))
	require.NoError(t, err)
	return bc
}

// TestBinaryStateSurvivesRestart runs the binary with -fixture and
// -state, registers a tenant and binds an account through the SDK,
// reading codes from the outbox, stops it with SIGTERM and starts it
// again on the same state file: the state, the token and the ID sequence
// survived, and the fixture was not applied a second time.
func TestBinaryStateSurvivesRestart(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no SIGTERM on Windows")
	}
	bin := buildBinary(t)
	fixture, err := filepath.Abs("../../examples/fixtures/acme.json")
	require.NoError(t, err)
	state := filepath.Join(t.TempDir(), "state.json")
	args := []string{"-addr", "127.0.0.1:0", "-fixture", fixture, "-state", state}
	ctx := context.Background()

	p := startBinary(t, bin, args...)
	demo := sdkClients(t, p.base, mockserver.DemoAccessKey, mockserver.DemoSecretKey)
	_, err = demo.SendVerificationCode(ctx, &billing.SendCodeRequest{Email: "ada@example.com", Purpose: billing.PurposeRegister})
	require.NoError(t, err)
	reg, err := demo.Register(ctx, &billing.RegisterRequest{Site: site.AP1, Username: "ada", Password: "Sup3r-secret",
		Email: "ada@example.com", EmailCode: p.code(t, "ada@example.com", billing.PurposeRegister),
		Company: billing.Company{Name: "Ada Ltd"}, WorkspaceName: "prod", WorkspaceLanguage: twapi.LanguageEN,
		HuaweiAccountID: mockserver.DemoHuaweiAccountID, InstanceID: mockserver.DemoInstanceID, TermsAccepted: true})
	require.NoError(t, err)

	acme := sdkClients(t, p.base, acmeAK, acmeSK)
	_, err = acme.SendVerificationCode(ctx, &billing.SendCodeRequest{Email: "billing@acme.example", Purpose: billing.PurposeBindBillingAccount})
	require.NoError(t, err)
	bound, err := acme.BindBillingAccount(ctx, &billing.BindAccountRequest{Username: "acmebilling", Email: "billing@acme.example",
		EmailCode:       p.code(t, "billing@acme.example", billing.PurposeBindBillingAccount),
		HuaweiAccountID: acmeHuaweiID, InstanceID: "acme-inst-0001"})
	require.NoError(t, err)
	_, err = acme.SendVerificationCode(ctx, &billing.SendCodeRequest{Email: "later@example.com", Purpose: billing.PurposeRegister})
	require.NoError(t, err)
	laterCode := p.code(t, "later@example.com", billing.PurposeRegister)
	before := p.control(t, http.MethodGet, "/_mock/state", "")
	out := p.stop(t)
	assert.Contains(t, out, "state saved to "+state)
	fi, err := os.Stat(state)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), fi.Mode().Perm())

	oldBase := p.base
	p = startBinary(t, bin, args...)
	// Login URLs are made from the address the mock listens on, a new
	// port here.
	assert.JSONEq(t, strings.ReplaceAll(string(before), oldBase, p.base), string(p.control(t, http.MethodGet, "/_mock/state", "")),
		"the same state; the fixture is not applied again over it")
	acme = sdkClients(t, p.base, acmeAK, acmeSK)
	binding, err := acme.GetBinding(ctx, bound.Token)
	require.NoError(t, err, "the token survived the restart")
	assert.Equal(t, "acme-inst-0001", binding.InstanceID)
	assert.Equal(t, laterCode, p.code(t, "later@example.com", billing.PurposeRegister), "the outbox survived")

	var snap mockserver.Snapshot
	require.NoError(t, json.Unmarshal(before, &snap))
	var added billing.BillingAccount
	require.NoError(t, json.Unmarshal(p.control(t, http.MethodPost, "/_mock/billing-accounts", `{"username":"newcomer","email":"new@example.com"}`), &added))
	for _, b := range snap.BillingAccounts {
		assert.NotEqual(t, b.ID, added.ID, "a new ID never repeats a restored one")
	}
	assert.NotEqual(t, reg.BillingAccount.ID, added.ID)
	p.control(t, http.MethodPost, "/_mock/snapshot", "")
	raw, err := os.ReadFile(state)
	require.NoError(t, err)
	assert.Contains(t, string(raw), added.ID, "POST /_mock/snapshot wrote the new account")
	p.stop(t)
}

// TestBinaryRefusesBadStartFiles: a state file that is corrupted,
// truncated or of another version, and a fixture that does not apply,
// stop the start with a non-zero exit and an error naming the file, with
// no secret in it; nothing is served.
func TestBinaryRefusesBadStartFiles(t *testing.T) {
	bin := buildBinary(t)
	dir := t.TempDir()
	good := filepath.Join(dir, "good.json")
	srv, err := mockserver.New(mockserver.WithoutListener(), mockserver.WithStateFile(good))
	require.NoError(t, err)
	require.NoError(t, srv.Stop())
	valid, err := os.ReadFile(good)
	require.NoError(t, err)

	write := func(name string, data []byte) string {
		path := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(path, data, 0o600))
		return path
	}
	cases := []struct {
		name string
		args []string
		want string
	}{
		{"corrupted state", []string{"-state", write("corrupted.json", []byte("{\"format\":\"truewatch-mock-state\",\x00"))}, "corrupted or truncated"},
		{"truncated state", []string{"-state", write("truncated.json", valid[:len(valid)*2/3])}, "corrupted or truncated"},
		{"other version", []string{"-state", write("v9.json", bytes.Replace(valid, []byte(`"version": 1`), []byte(`"version": 9`), 1))}, "version 9 is not supported"},
		{"bad fixture", []string{"-fixture", write("fixture.json", []byte(`{"version":1,"bindings":[{"billingAccount":"nobody","huaweiAccountId":"`+acmeHuaweiID+`","instanceId":"i"}]}`))}, "/bindings/0/billingAccount"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			stdout, stderr := startFails(t, bin, append([]string{"-addr", "127.0.0.1:0"}, c.args...)...)
			assert.Contains(t, stderr, c.args[1], "the error names the file")
			assert.Contains(t, stderr, c.want)
			assert.NotContains(t, stderr, mockserver.DemoSecretKey)
			assert.NotContains(t, stdout, "listening on", "nothing was served")
		})
	}
}

// startFails runs the binary, which must exit with a non-zero status
// within 20s, and returns what it printed.
func startFails(t *testing.T, bin string, args ...string) (stdout, stderr string) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	done := make(chan error, 1)
	require.NoError(t, cmd.Start())
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		var ee *exec.ExitError
		require.ErrorAs(t, err, &ee, "a non-zero exit: %s", out.String())
		assert.NotZero(t, ee.ExitCode())
	case <-time.After(20 * time.Second):
		_ = cmd.Process.Kill()
		<-done
		t.Fatal("the binary started on bad input")
	}
	return out.String(), errOut.String()
}
