package mockserver

import (
	"encoding/json"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/truewatch-labs/marketplace-go/billing"
)

func TestOutbox(t *testing.T) {
	h := newHarness(t)
	_, ok := h.srv.LatestCode("ada@example.com", billing.PurposeRegister)
	assert.False(t, ok)
	assert.Empty(t, h.srv.Outbox())

	first := h.sendCode("ada@example.com", billing.PurposeRegister)
	bind := h.sendCode("Ada@Example.com", billing.PurposeBindBillingAccount)
	h.sendCode("bob@example.com", billing.PurposeRegister)
	h.clock.Advance(time.Minute)
	latest := h.sendCode("ada@example.com", billing.PurposeRegister)

	got, ok := h.srv.LatestCode("ADA@example.com", billing.PurposeRegister)
	require.True(t, ok)
	assert.Equal(t, latest.Reveal(), got)
	assert.NotEqual(t, first, latest)
	got, _ = h.srv.LatestCode("ada@example.com", billing.PurposeBindBillingAccount)
	assert.Equal(t, bind.Reveal(), got)
	_, ok = h.srv.LatestCode("ada@example.com", billing.PurposeCreateWorkspace)
	assert.False(t, ok)

	all := h.srv.Outbox()
	require.Len(t, all, 4)
	assert.Equal(t, "bob@example.com", all[2].To)
	mine := h.srv.OutboxFor("ADA@EXAMPLE.COM")
	require.Len(t, mine, 3)
	assert.Equal(t, []billing.Purpose{billing.PurposeRegister, billing.PurposeBindBillingAccount, billing.PurposeRegister},
		[]billing.Purpose{mine[0].Purpose, mine[1].Purpose, mine[2].Purpose})
	assert.Equal(t, testStart.Add(time.Minute), mine[2].SentAt)
	assert.NotContains(t, fmt.Sprintf("%v %+v", mine[0].Code, mine[0].Code), first.Reveal(), "the code field prints redacted")

	// The outbox is a copy.
	all[0].To = "changed"
	assert.Equal(t, "ada@example.com", h.srv.Outbox()[0].To)

	require.NoError(t, h.srv.Reset())
	assert.Empty(t, h.srv.Outbox())
}

func TestControlOutbox(t *testing.T) {
	h := newHarness(t)
	code := h.sendCode("ada@example.com", billing.PurposeRegister)
	h.sendCode("bob@example.com", billing.PurposeRegister)

	var mails []map[string]any
	r := h.do(http.MethodGet, "/_mock/outbox?email=ADA@example.com", nil)
	require.Equal(t, http.StatusOK, r.status)
	require.NoError(t, json.Unmarshal(r.raw, &mails))
	require.Len(t, mails, 1)
	assert.Equal(t, "ada@example.com", mails[0]["to"])
	assert.Equal(t, "register", mails[0]["purpose"])
	assert.Equal(t, code.Reveal(), mails[0]["code"], "the control plane shows the code")
	assert.Contains(t, mails[0]["body"], code.Reveal())
	assert.Equal(t, testStart.Format(time.RFC3339), mails[0]["sentAt"])

	r = h.do(http.MethodGet, "/_mock/outbox", nil)
	require.NoError(t, json.Unmarshal(r.raw, &mails))
	assert.Len(t, mails, 2)
	r = h.do(http.MethodGet, "/_mock/outbox?email=nobody@example.com", nil)
	assert.JSONEq(t, `[]`, string(r.raw))

	// A misspelt or repeated parameter is an error, not the whole outbox.
	for _, q := range []string{"?emial=ada@example.com", "?email=ada@example.com&email=bob@example.com", "?email=%zz"} {
		r = h.do(http.MethodGet, "/_mock/outbox"+q, nil)
		assert.Equal(t, http.StatusBadRequest, r.status, "%s: %s", q, r.raw)
	}
}
