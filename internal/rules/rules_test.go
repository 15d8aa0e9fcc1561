package rules_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/truewatch-labs/marketplace-go/apierror"
	"github.com/truewatch-labs/marketplace-go/internal/rules"
)

type check func(p *apierror.Problems, field, v string)

type tcase struct {
	in   string
	want string // expected message; "" means valid
}

func run(t *testing.T, name string, fn check, cases []tcase) {
	t.Helper()
	for _, tc := range cases {
		label := tc.in
		if len(label) > 20 {
			label = label[:20] + "…"
		}
		t.Run(name+"/"+label, func(t *testing.T) {
			var p apierror.Problems
			fn(&p, "f", tc.in)
			if tc.want == "" {
				assert.Empty(t, p)
				return
			}
			if assert.Len(t, p, 1) {
				assert.Equal(t, "f", p[0].Field)
				assert.Equal(t, tc.want, p[0].Message)
			}
		})
	}
}

func TestUsername(t *testing.T) {
	const length = "must be 3 to 32 characters"
	const start = "must start with an ASCII letter"
	const chars = "may contain only ASCII letters, digits, '_', '-' and '.'"
	run(t, "username", rules.Username, []tcase{
		{"", "is required"}, {"ab", length}, {"abc", ""}, {strings.Repeat("a", 32), ""}, {strings.Repeat("a", 33), length},
		{"a_b-c.d9", ""}, {"1abc", start}, {"_abc", start}, {"ábc", start}, {"ab c", chars}, {"abé", chars}, {"ab@c", chars},
	})
}

func TestPassword(t *testing.T) {
	const length = "must be 8 to 64 characters"
	const classes = "must use at least 3 of: lower case, upper case, digits, symbols"
	const space = "must not contain spaces or control characters"
	run(t, "password", rules.Password, []tcase{
		{"", "is required"},
		{"Ab1!xyz", length},                       // 7
		{"Ab1xyzwv", ""},                          // 8, lower+upper+digit
		{"ab1!xyzw", ""},                          // lower+digit+symbol
		{"AB1!XYZW", ""},                          // upper+digit+symbol
		{"Abc!defg", ""},                          // lower+upper+symbol
		{"abcdefgh", classes},                     // 1 class
		{"abcd1234", classes},                     // 2 classes
		{"ABCD!!!!", classes},                     // 2 classes
		{"Ab1" + strings.Repeat("x", 61), ""},     // 64
		{"Ab1" + strings.Repeat("x", 62), length}, // 65
		{"Ab1 xyzw", space},
		{"Ab1\txyzw", space},
		{"Ab1\x00xyzw", space},
		{"Pässwort1", ""},      // non-ASCII lower case counts
		{"passwort€1", ""},     // € is a symbol
		{"日本語日本語日本語", classes}, // letters of no case count as symbols only
	})
	// Messages never echo the password.
	var p apierror.Problems
	rules.Password(&p, "password", "secretpw")
	assert.NotContains(t, p[0].Message, "secretpw")
}

func TestEmail(t *testing.T) {
	const bad = "must be a valid email address"
	run(t, "email", rules.Email, []tcase{
		{"", "is required"}, {"ops@acme.example", ""}, {"a.b+tag@sub.acme.co", ""},
		{"Ops <ops@acme.example>", bad}, {"ops@acme", bad}, {"ops@@acme.example", bad}, {"opsacme.example", bad},
		{" ops@acme.example", bad}, {strings.Repeat("a", 64) + "@" + strings.Repeat("b", 186) + ".com", bad},
		{strings.Repeat("a", 64) + "@" + strings.Repeat("b", 185) + ".com", ""},
	})
	assert.Equal(t, "ops@acme.example", rules.NormalizeEmail("  Ops@ACME.example "))
}

func TestPhone(t *testing.T) {
	const bad = "must be 6 to 20 digits, optionally starting with '+'"
	run(t, "phone", rules.Phone, []tcase{
		{"", ""}, {"123456", ""}, {"+123456", ""}, {"12345", bad}, {"+12345", bad},
		{strings.Repeat("1", 20), ""}, {strings.Repeat("1", 21), bad}, {"+" + strings.Repeat("1", 19), ""},
		{"+" + strings.Repeat("1", 20), bad}, {"12-34567", bad}, {"++123456", bad}, {"１２３４５６", bad},
	})
}

func TestCode(t *testing.T) {
	const bad = "must be 6 digits"
	run(t, "code", rules.Code, []tcase{
		{"", "is required"}, {"123456", ""}, {"000000", ""}, {"12345", bad}, {"1234567", bad}, {"12a456", bad},
		{" 12345", bad}, {"١٢٣٤٥٦", bad},
	})
}

func TestHuaweiAccountID(t *testing.T) {
	const bad = "must be 32 lower-case hexadecimal characters (Huawei Cloud: My Credentials > Account ID)"
	id := "0123456789abcdef0123456789abcdef"
	run(t, "huaweiAccountId", rules.HuaweiAccountID, []tcase{
		{"", "is required"}, {id, ""}, {strings.ToUpper(id), bad}, {id[:31], bad}, {id + "0", bad},
		{id[:31] + "g", bad}, {"0123456789abcdef-0123456789abcde", bad},
	})
	assert.True(t, rules.IsHuaweiAccountID(id))
	assert.False(t, rules.IsHuaweiAccountID(""))
}

func TestInstanceID(t *testing.T) {
	const bad = "must be 1 to 64 printable ASCII characters without spaces"
	run(t, "instanceId", rules.InstanceID, []tcase{
		{"", "is required"}, {"a", ""}, {"ins-0f3a_9~!", ""}, {strings.Repeat("i", 64), ""}, {strings.Repeat("i", 65), bad},
		{"ins 1", bad}, {"ins\t1", bad}, {"insé", bad}, {"ins\x7f", bad},
	})
	assert.False(t, rules.IsInstanceID(""))
}

func TestWorkspaceName(t *testing.T) {
	const bad = "must be 1 to 256 characters"
	run(t, "name", rules.WorkspaceName, []tcase{
		{"", "is required"}, {"   ", "is required"}, {"p", ""}, {"Production EU", ""},
		{strings.Repeat("日", 256), ""}, {strings.Repeat("日", 257), bad}, {strings.Repeat("n", 257), bad}, {"bad\xff", bad},
	})
}

func TestCompanyName(t *testing.T) {
	run(t, "company", rules.CompanyName, []tcase{
		{"", "is required"}, {" ", "is required"}, {"Acme", ""}, {strings.Repeat("c", 128), ""},
		{strings.Repeat("c", 129), "must be at most 128 characters"},
	})
}

func TestRequired(t *testing.T) {
	run(t, "required", rules.Required, []tcase{{"", "is required"}, {" \t", "is required"}, {"x", ""}})
}

func TestTerms(t *testing.T) {
	var p apierror.Problems
	rules.Terms(&p, "termsAccepted", true)
	assert.Empty(t, p)
	rules.Terms(&p, "termsAccepted", false)
	assert.Equal(t, apierror.Problems{{Field: "termsAccepted", Message: "the terms of service must be accepted"}}, p)
}

func TestPage(t *testing.T) {
	tests := []struct {
		index, size int
		fields      []string
	}{
		{0, 0, nil}, {1, 1, nil}, {7, 100, nil}, {-1, 20, []string{"pageIndex"}},
		{1, 101, []string{"pageSize"}}, {1, -1, []string{"pageSize"}}, {-2, 500, []string{"pageIndex", "pageSize"}},
	}
	for _, tt := range tests {
		var p apierror.Problems
		rules.Page(&p, tt.index, tt.size)
		var fields []string
		for _, pr := range p {
			fields = append(fields, pr.Field)
		}
		assert.Equal(t, tt.fields, fields, "index %d size %d", tt.index, tt.size)
	}
}

func TestPathID(t *testing.T) {
	const length = "must be 1 to 64 characters"
	const rel = "must not be a relative path segment"
	run(t, "path id", rules.PathID, []tcase{
		{"", "is required"}, {" ", "is required"}, {"wksp_1", ""}, {strings.Repeat("a", 64), ""},
		{strings.Repeat("é", 64), ""}, {strings.Repeat("a", 65), length}, {".", rel}, {"..", rel},
	})
}
