package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/truewatch-labs/marketplace-go/mockserver"
)

// readmeSeeds are the README's curl commands that seed the standalone mock,
// by the mode their comment names ("every bind mode" for all three).
func readmeSeeds(t *testing.T) map[string][][2]string {
	t.Helper()
	readme, err := os.ReadFile("../../README.md")
	require.NoError(t, err)
	curl := regexp.MustCompile(`^curl -H 'X-Mock-Control: 1' --json '(\{.*\})' \$MOCK(/_mock/[a-z-]+)$`)
	label := regexp.MustCompile(`^# ([a-z -]+):`)
	out := map[string][][2]string{}
	var mode string
	for _, line := range strings.Split(string(readme), "\n") {
		if m := label.FindStringSubmatch(line); m != nil {
			mode = m[1]
		}
		if m := curl.FindStringSubmatch(line); m != nil {
			for _, md := range []string{"bind-workspace", "create-workspace", "register-workspace"} {
				if mode == "every bind mode" || mode == md {
					out[md] = append(out[md], [2]string{m[2], m[1]})
				}
			}
		}
	}
	require.Len(t, out["register-workspace"], 1, "the README seeds the Billing Center account for every bind mode")
	return out
}

// seedLikeCurl sends the README's control-plane requests as curl does:
// plain HTTP with the X-Mock-Control header and a JSON body, with each
// "acnt_…" and "bcac_…" replaced by the uuid of the last answer that gave
// one.
func seedLikeCurl(t *testing.T, srv *mockserver.Server, seeds [][2]string) {
	t.Helper()
	last := map[string]string{}
	for _, s := range seeds {
		body := s[1]
		for prefix, id := range last {
			body = strings.ReplaceAll(body, prefix+"…", id)
		}
		req, err := http.NewRequest(http.MethodPost, srv.URL()+s[0], strings.NewReader(body))
		require.NoError(t, err)
		req.Header.Set("X-Mock-Control", "1")
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		raw, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		require.Equal(t, http.StatusCreated, resp.StatusCode, "%s %s: %s", s[0], body, raw)
		var answer struct{ UUID string }
		require.NoError(t, json.Unmarshal(raw, &answer))
		last[answer.UUID[:5]] = answer.UUID
	}
}

// latestCodeTerminal types, whenever the program reads the terminal, the
// code of the newest email in the mock's outbox, as a user reading their
// mail would.
type latestCodeTerminal struct {
	srv *mockserver.Server
	buf *strings.Reader
}

func (r *latestCodeTerminal) Read(p []byte) (int, error) {
	if r.buf == nil || r.buf.Len() == 0 {
		mails := r.srv.Outbox()
		if len(mails) == 0 {
			return 0, io.EOF
		}
		r.buf = strings.NewReader(mails[len(mails)-1].Code.Reveal() + "\n")
	}
	return r.buf.Read(p)
}

// TestREADMESeedsTheStandaloneMock: the README's curl commands seed a
// listening mock for each bind mode, and the README's command then
// activates the demo purchase through it.
func TestREADMESeedsTheStandaloneMock(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	require.NoError(t, err)
	require.Contains(t, string(readme), "-mode bind-workspace -bc-username acme -bc-email ops@acme.example -workspace production")
	for mode, seeds := range readmeSeeds(t) {
		t.Run(mode, func(t *testing.T) {
			srv := mockserver.Start(t)
			seedLikeCurl(t, srv, seeds)
			env := map[string]string{"TRUEWATCH_PASSWORD": "Env-Password-7"}
			t.Setenv("HUAWEICLOUD_SDK_AK", mockserver.DemoAccessKey)
			t.Setenv("HUAWEICLOUD_SDK_SK", mockserver.DemoSecretKey)
			args := []string{"-billing-url", srv.BillingURL(), "-huawei-endpoint", srv.HuaweiEndpoint(), "-sites-base", srv.URL(),
				"-mode", mode, "-bc-username", "acme", "-bc-email", "ops@acme.example", "-workspace", "production"}
			var out, errOut bytes.Buffer
			err := run(context.Background(), args, &latestCodeTerminal{srv: srv}, &out, &errOut, func(k string) string { return env[k] })
			require.NoError(t, err, out.String()+errOut.String())
			assert.Contains(t, errOut.String(), "Enter the verification code sent to ops@acme.example")
			sub, ok := srv.Subscription(mockserver.DemoHuaweiAccountID, mockserver.DemoInstanceID)
			require.True(t, ok)
			assert.Equal(t, "acme", sub.BillingUsername)
			require.Len(t, sub.Workspaces, 1)
			assert.Equal(t, "production", sub.Workspaces[0].Name)
		})
	}
}
