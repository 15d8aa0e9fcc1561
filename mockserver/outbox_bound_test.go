package mockserver

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/truewatch-labs/marketplace-go/billing"
)

// TestOutboxStaysBounded: 100,000 codes sent, a tenth of them to one
// address, keep at most the default limits of emails (the standalone mock
// used to keep every one, about 1.1 KB each), and the bookkeeping behind
// them is bounded too.
func TestOutboxStaysBounded(t *testing.T) {
	clock := NewManualClock(testStart)
	srv := Start(t, WithoutListener(), WithClock(clock), WithoutDemoFixture())
	lim := DefaultOutboxLimits()
	const n = 100_000
	var hotCode, lastCode string
	for i := range n {
		email := fmt.Sprintf("user%d@example.com", i)
		if i%10 == 0 {
			email = "Hot@Example.com"
			clock.Advance(codeResendInterval)
		}
		srv.mu.Lock()
		_, e := srv.opSendCode(nil, &billing.SendCodeRequest{Email: email, Purpose: billing.PurposeRegister})
		srv.mu.Unlock()
		require.Nil(t, e)
		code, ok := srv.LatestCode(email, billing.PurposeRegister)
		require.True(t, ok)
		if i%10 == 0 {
			hotCode = code
		}
		lastCode = code
	}

	all := srv.Outbox()
	assert.Len(t, all, lim.Total)
	assert.Len(t, srv.OutboxFor("hot@example.com"), lim.PerAddress)
	got, ok := srv.LatestCode("hot@example.com", billing.PurposeRegister)
	assert.True(t, ok)
	assert.Equal(t, hotCode, got, "the newest code of an address is kept")
	assert.Equal(t, lastCode, all[len(all)-1].Code.Reveal(), "the newest email of all is kept")
	assert.Empty(t, srv.OutboxFor("user1@example.com"), "the oldest went first")
	for i := 1; i < len(all); i++ {
		require.False(t, all[i].SentAt.Before(all[i-1].SentAt), "oldest first")
	}

	srv.mu.Lock()
	o := srv.st.tw.outbox
	assert.LessOrEqual(t, len(o.order)-o.head, 2*o.live+16, "dropped entries are compacted away")
	assert.LessOrEqual(t, cap(o.order), 4*lim.Total+64)
	assert.LessOrEqual(t, len(o.byAddr), lim.Total)
	assert.Equal(t, lim.Total, o.live)
	srv.mu.Unlock()
}

// TestOutboxLimitsDropOldestFirst: the exact order of dropping, with tiny
// limits.
func TestOutboxLimitsDropOldestFirst(t *testing.T) {
	o := newOutboxStore(OutboxLimits{PerAddress: 2, Total: 4})
	to := func() []string {
		var out []string
		for _, m := range o.all() {
			out = append(out, m.To+"/"+m.Subject)
		}
		return out
	}
	for i, a := range []string{"a", "b", "a", "a", "c", "b", "d", "A"} {
		o.add(Email{To: a + "@x.example", Subject: fmt.Sprint(i)})
	}
	// Per address (2): a keeps 3 and 7 of 0, 2, 3, 7. In all (4): the
	// oldest of what is left (1 b, 3 a) went as 5, 6 and 7 came.
	assert.Equal(t, []string{"c@x.example/4", "b@x.example/5", "d@x.example/6", "A@x.example/7"}, to())
	assert.Len(t, o.to("a@X.example"), 1)
	assert.Empty(t, o.to("nobody@x.example"))
	_, ok := o.latest("b@x.example", billing.PurposeRegister)
	assert.False(t, ok, "another purpose")
}
