package koogallery

import (
	"context"
	"encoding/json"
	"errors"
	"net/url"
	"testing"
	"time"
)

// A vendor that keeps the LoginAttempt in its session with encoding/json
// gets "[REDACTED]" back for both fields (secret.String never reaches
// JSON). A callback carrying state=[REDACTED] then matched that constant:
// the state check passed for anyone, which is login CSRF. A redacted state
// or verifier is refused, and no code is exchanged.
func TestLoginAttemptRedactedByJSONIsRefused(t *testing.T) {
	idp := newFakeIdP(t)
	c := loginClient(t, idp)
	_, attempt := c.Begin()
	b, err := json.Marshal(attempt)
	if err != nil {
		t.Fatal(err)
	}
	var kept LoginAttempt
	if err := json.Unmarshal(b, &kept); err != nil {
		t.Fatal(err)
	}
	forged := url.Values{"code": {"attacker-code"}, "state": {kept.State.Reveal()}}
	if _, err := ParseCallback(forged, kept.State); !errors.Is(err, ErrLoginState) {
		t.Errorf("ParseCallback accepted the redacted state: %v", err)
	}
	if _, _, err := c.Finish(context.Background(), forged, kept); !errors.Is(err, ErrLoginState) {
		t.Errorf("Finish accepted the redacted state: %v", err)
	}
	// A real state with a verifier lost to redaction is refused before
	// the exchange too, rather than sending "[REDACTED]" as the verifier.
	half := LoginAttempt{State: attempt.State, Verifier: kept.Verifier}
	ok := url.Values{"code": {"code-1"}, "state": {attempt.State.Reveal()}}
	if _, _, err := c.Finish(context.Background(), ok, half); !errors.Is(err, ErrLoginState) {
		t.Errorf("Finish accepted a redacted verifier: %v", err)
	}
	if len(idp.forms) != 0 {
		t.Errorf("%d token requests", len(idp.forms))
	}
}

// A replay sent at the very end of the window, when the verifier's clock
// reads exactly timestamp+window: the timestamp was still in the window
// (not older than it), while the nonce store had already forgotten the
// nonce (it kept it until, not through, that instant), so the replay was
// fresh again. On a clock coarser than a millisecond (Windows, virtual
// machines) that instant lasts long enough to aim at. Every instant in
// which the timestamp is accepted, its nonce is remembered.
func TestReplayAtTheEndOfTheWindowIsRefused(t *testing.T) {
	for name, skew := range map[string]time.Duration{"now": 0, "future": 30 * time.Second} {
		t.Run(name, func(t *testing.T) {
			f := setup(t)
			body := `{"activity":"releaseInstance","instanceId":"i-1","testFlag":"0"}`
			f.clock.Advance(skew)
			sig, _ := f.signer.Sign([]byte(body))
			f.clock.Advance(-skew)
			if _, r := f.post(body, sig.Query().Encode()); r.ResultCode != ResultSuccess {
				t.Fatal(r.ResultCode, r.ResultMsg)
			}
			f.clock.Advance(skew + DefaultWindow)
			if _, r := f.post(body, sig.Query().Encode()); r.ResultCode == ResultSuccess {
				t.Errorf("replay at timestamp+window accepted")
			}
			if n := len(f.vendor.Calls()); n != 1 {
				t.Errorf("%d vendor calls", n)
			}
		})
	}
}
