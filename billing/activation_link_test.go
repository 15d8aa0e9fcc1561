package billing_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/truewatch-labs/marketplace-go/apierror"
	"github.com/truewatch-labs/marketplace-go/billing"
)

const (
	linkToken = "atk_0123456789abcdef0123456789abcdef"
	linkURL   = "https://billing.example.com/activate?huaweiAccountId=0a1b2c3d4e5f40718293a4b5c6d7e8f9&instanceId=inst-1&token=" + linkToken
)

func TestParseActivationLink(t *testing.T) {
	l, err := billing.ParseActivationLink(linkURL)
	require.NoError(t, err)
	assert.Equal(t, "0a1b2c3d4e5f40718293a4b5c6d7e8f9", l.HuaweiAccountID)
	assert.Equal(t, "inst-1", l.InstanceID)
	assert.Equal(t, linkToken, l.Token.Reveal())
	p, err := l.OwnershipProof(context.Background(), "https://billing.example.com")
	require.NoError(t, err)
	assert.Equal(t, "ActivationLink "+linkToken, p)

	for name, tc := range map[string]struct{ link, field string }{
		"not a URL":       {"::", "activationLink"},
		"relative":        {"/activate?token=" + linkToken, "activationLink"},
		"ftp":             {"ftp://billing.example.com/activate?token=" + linkToken, "activationLink"},
		"no token":        {"https://b.example/activate?huaweiAccountId=0a1b2c3d4e5f40718293a4b5c6d7e8f9&instanceId=i", "activationLink.token"},
		"bad token":       {"https://b.example/activate?huaweiAccountId=0a1b2c3d4e5f40718293a4b5c6d7e8f9&instanceId=i&token=atk_XYZ", "activationLink.token"},
		"two tokens":      {linkURL + "&token=" + linkToken, "activationLink.token"},
		"bad account":     {"https://b.example/activate?huaweiAccountId=ADA&instanceId=i&token=" + linkToken, "activationLink.huaweiAccountId"},
		"no instance":     {"https://b.example/activate?huaweiAccountId=0a1b2c3d4e5f40718293a4b5c6d7e8f9&token=" + linkToken, "activationLink.instanceId"},
		"bad query":       {"https://b.example/activate?token=%zz", "activationLink"},
		"spaced instance": {"https://b.example/activate?huaweiAccountId=0a1b2c3d4e5f40718293a4b5c6d7e8f9&instanceId=a+b&token=" + linkToken, "activationLink.instanceId"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := billing.ParseActivationLink(tc.link)
			var ve *apierror.ValidationError
			require.ErrorAs(t, err, &ve)
			var fields []string
			for _, p := range ve.Problems {
				fields = append(fields, p.Field)
			}
			assert.Contains(t, fields, tc.field)
			assert.NotContains(t, err.Error(), "0123456789abcdef", "errors never repeat the token")
		})
	}
	var nilLink *billing.ActivationLink
	_, err = nilLink.OwnershipProof(context.Background(), "")
	assert.Error(t, err)
}

// TestActivationLinkRedacts: the token never shows in fmt, JSON or logs.
func TestActivationLinkRedacts(t *testing.T) {
	l, err := billing.ParseActivationLink(linkURL)
	require.NoError(t, err)
	var logs bytes.Buffer
	slog.New(slog.NewJSONHandler(&logs, nil)).Info("link", "link", l, "value", *l)
	js, err := json.Marshal(l)
	require.NoError(t, err)
	for _, out := range []string{fmt.Sprint(l), fmt.Sprintf("%v %+v %#v %s", l, *l, l, l), fmt.Sprintf("%+v", *l), string(js), logs.String()} {
		assert.NotContains(t, out, "0123456789abcdef", out)
	}
	assert.Contains(t, l.String(), "inst-1")
}
