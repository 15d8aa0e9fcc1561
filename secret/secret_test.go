package secret_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/truewatch-labs/marketplace-go/secret"
)

const value = "hunter2-DO-NOT-LEAK"

type creds struct {
	User     string
	Password secret.String `json:"password"`
	Ptr      *secret.String
}

func TestRedactedInFmt(t *testing.T) {
	s := secret.String(value)
	c := creds{User: "u", Password: s, Ptr: &s}
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d", "%10s", "%-8v"} {
		for _, v := range []any{s, &s, c, &c, []secret.String{s}, map[string]secret.String{"k": s}} {
			out := fmt.Sprintf(verb, v)
			assert.NotContains(t, out, value, "%s of %T", verb, v)
			assert.NotContains(t, out, "68756e746572", "%s of %T leaked hex", verb, v)
		}
	}
	assert.Equal(t, secret.Redacted, s.String())
	assert.Equal(t, `"[REDACTED]"`, fmt.Sprintf("%q", s))
	assert.Equal(t, `secret.String("[REDACTED]")`, fmt.Sprintf("%#v", s))
	assert.Equal(t, "u "+secret.Redacted, fmt.Sprint(c.User, " ", c.Password))
}

func TestEmptyShowsEmpty(t *testing.T) {
	var s secret.String
	assert.True(t, s.IsZero())
	assert.Equal(t, "", s.String())
	assert.Equal(t, "", fmt.Sprint(s))
	assert.False(t, secret.String("x").IsZero())
}

func TestRedactedInErrorsAndLogs(t *testing.T) {
	s := secret.String(value)
	err := fmt.Errorf("login with %v failed: %w", s, errors.New("denied"))
	assert.NotContains(t, err.Error(), value)

	var buf bytes.Buffer
	for _, h := range []slog.Handler{slog.NewJSONHandler(&buf, nil), slog.NewTextHandler(&buf, nil)} {
		l := slog.New(h)
		l.Info("login", "password", s, slog.Group("g", "token", s), slog.Any("ptr", &s))
	}
	// The text handler prints structs through fmt, which redacts. (The JSON
	// handler encodes structs as JSON, and String redacts there too.)
	buf2 := bytes.Buffer{}
	slog.New(slog.NewTextHandler(&buf2, nil)).Info("login", slog.Any("creds", c2(s)))
	slog.New(slog.NewJSONHandler(&buf2, nil)).Info("login", slog.Any("creds", c2(s)))
	assert.NotContains(t, buf2.String(), value)
	assert.NotContains(t, buf.String(), value)
	assert.Contains(t, buf.String(), secret.Redacted)
}

func c2(s secret.String) creds { return creds{User: "u", Password: s} }

func TestJSONRedactsAndStillDecodes(t *testing.T) {
	s := secret.String(value)
	b, err := json.Marshal(creds{User: "u", Password: s})
	require.NoError(t, err)
	assert.NotContains(t, string(b), value)
	assert.Contains(t, string(b), `"password":"`+secret.Redacted+`"`)

	empty, err := json.Marshal(creds{User: "u"})
	require.NoError(t, err)
	assert.Contains(t, string(empty), `"password":""`, "an empty secret stays visibly empty")

	var back creds
	require.NoError(t, json.Unmarshal([]byte(`{"user":"u","password":"`+value+`"}`), &back))
	assert.Equal(t, value, back.Password.Reveal(), "decoding reads the value in clear")

	var bad secret.String
	assert.Error(t, json.Unmarshal([]byte(`123`), &bad))
}
