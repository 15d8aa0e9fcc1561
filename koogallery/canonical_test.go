package koogallery

import (
	"encoding/json"
	"math"
	"strings"
	"testing"
)

// The documented request examples (huawei.md B1; the inline-order shape of
// zh-cn_topic_0070649476) and their canonical form, byte for byte.
func TestCanonicalDocumentedExamples(t *testing.T) {
	cases := []struct{ name, body, want string }{
		{"newInstance (already in key order)",
			`{"activity":"newInstance","businessId":"87b94795-0603-4e24-8ae5-69420d60e3c8","orderId":"CS2211181819B4LVS","orderLineId":"CS2211181819B4LVS-000001","testFlag":"1"}`,
			`{"activity":"newInstance","businessId":"87b94795-0603-4e24-8ae5-69420d60e3c8","orderId":"CS2211181819B4LVS","orderLineId":"CS2211181819B4LVS-000001","testFlag":"1"}`},
		{"refreshInstance",
			`{"activity":"refreshInstance","scene":"RENEWAL","orderId":"CS2211181819B4LVS","orderLineId":"CS2211181819B4LVS-000001","instanceId":"10e758d0-31ad-4c4b-8f1b-81d03469a10e","productId":"OFFI788963615933718528","expireTime":"20240101000000","testFlag":"0"}`,
			`{"activity":"refreshInstance","expireTime":"20240101000000","instanceId":"10e758d0-31ad-4c4b-8f1b-81d03469a10e","orderId":"CS2211181819B4LVS","orderLineId":"CS2211181819B4LVS-000001","productId":"OFFI788963615933718528","scene":"RENEWAL","testFlag":"0"}`},
		{"updateInstanceStatus",
			`{"activity":"updateInstanceStatus","instanceId":"10e758d0-31ad-4c4b-8f1b-81d03469a10e","status":"FREEZE","testFlag":"1"}`,
			`{"activity":"updateInstanceStatus","instanceId":"10e758d0-31ad-4c4b-8f1b-81d03469a10e","status":"FREEZE","testFlag":"1"}`},
		{"inline order: top level sorted, nested objects as received, numbers kept",
			`{"activity":"newInstance","buyerInfo":{"customerId":"688055390f3049f283fe9f1aa90f1858","customerName":"CBC_marketplace_test","userId":"1e86","userName":"buyer","mobilePhone":"18600000000","email":"buyer@huawei.com"},"orderInfo":[{"businessId":"8a2c4e6f-0000","orderId":"CS2210101920BWXLK","trialFlag":"0","orderAmount":12.78,"chargingMode":"PERIOD","periodType":"month","periodNumber":5,"provisionType":1,"productInfo":[{"skuCode":"a63ee5c9-0000","productId":"OFFI788963615933718528","linearValue":20}],"createTime":"20221024194509","expireTime":"20221224194509","extendParams":[{"name":"emailDomainName","value":"test.xxxx.com"}]}],"testFlag":"1"}`,
			`{"activity":"newInstance","buyerInfo":{"customerId":"688055390f3049f283fe9f1aa90f1858","customerName":"CBC_marketplace_test","userId":"1e86","userName":"buyer","mobilePhone":"18600000000","email":"buyer@huawei.com"},"orderInfo":[{"businessId":"8a2c4e6f-0000","orderId":"CS2210101920BWXLK","trialFlag":"0","orderAmount":12.78,"chargingMode":"PERIOD","periodType":"month","periodNumber":5,"provisionType":1,"productInfo":[{"skuCode":"a63ee5c9-0000","productId":"OFFI788963615933718528","linearValue":20}],"createTime":"20221024194509","expireTime":"20221224194509","extendParams":[{"name":"emailDomainName","value":"test.xxxx.com"}]}],"testFlag":"1"}`},
		{"kit tenantSync example",
			`{"instanceId":"10e758d0","orderId":"CS1","tenantId":"t1","tenantCode":"abc","name":"Analytical Engines","domainName":"abc.example.com","flag":1,"testFlag":0,"timeStamp":"20220413093539534"}`,
			`{"domainName":"abc.example.com","flag":1,"instanceId":"10e758d0","name":"Analytical Engines","orderId":"CS1","tenantCode":"abc","tenantId":"t1","testFlag":0,"timeStamp":"20220413093539534"}`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := Canonical([]byte(c.body))
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != c.want {
				t.Errorf("Canonical:\n got %s\nwant %s", got, c.want)
			}
		})
	}
}

// What Jackson's ObjectMapper writes for a Map<String,Object> parsed from
// the same text (default features), which Go's encoding/json would not:
// no HTML escaping, no sorting of nested keys, Jackson's control-character
// escapes, Double.toString for non-integers, Java's String order for the
// top-level keys.
func TestCanonicalMatchesJackson(t *testing.T) {
	cases := []struct{ name, body, want string }{
		{"no HTML escaping", `{"u":"a<b>&c"}`, `{"u":"a<b>&c"}`},
		{"escaped HTML chars come back raw", `{"u":"\u003cb\u003e\u0026"}`, `{"u":"<b>&"}`},
		{"solidus unescaped", `{"u":"http:\/\/x\/y"}`, `{"u":"http://x/y"}`},
		{"non-ASCII as UTF-8", `{"n":"\u534e\u4e3a 云商店 é"}`, `{"n":"华为 云商店 é"}`},
		{"U+2028 and U+2029 not escaped", `{"s":"a\u2028b\u2029c"}`, "{\"s\":\"a\u2028b\u2029c\"}"},
		{"short escapes", `{"s":"\b\t\n\f\r\"\\"}`, `{"s":"\b\t\n\f\r\"\\"}`},
		{"other controls as upper-case \\u00XX", `{"s":"\u0001\u001f\u000B"}`, `{"s":"\u0001\u001F\u000B"}`},
		{"DEL not escaped", `{"s":"\u007f"}`, "{\"s\":\"\x7f\"}"},
		{"surrogate pair", `{"s":"\ud83d\ude00"}`, `{"s":"😀"}`},
		{"nested keys keep their order", `{"b":{"z":1,"a":2},"a":[{"y":1,"x":2}]}`, `{"a":[{"y":1,"x":2}],"b":{"z":1,"a":2}}`},
		{"top-level null dropped, nested null kept", `{"b":null,"a":{"x":null},"c":[null]}`, `{"a":{"x":null},"c":[null]}`},
		{"whitespace removed", "{ \"b\" : [ 1 , 2 ] ,\n\t\"a\" : { } }", `{"a":{},"b":[1,2]}`},
		{"integers as given", `{"i":100,"n":-7,"big":123456789012345678901234567890}`, `{"big":123456789012345678901234567890,"i":100,"n":-7}`},
		{"-0 is Integer 0", `{"z":-0}`, `{"z":0}`},
		{"doubles through Double.toString", `{"a":1.50,"b":1e2,"c":12.78,"d":0.001,"e":0.0001,"f":1E-5,"g":1e7,"h":9999999.0,"i":123456789.0,"j":-0.0,"k":0.0,"l":2.5e-3}`,
			`{"a":1.5,"b":100.0,"c":12.78,"d":0.001,"e":1.0E-4,"f":1.0E-5,"g":1.0E7,"h":9999999.0,"i":1.23456789E8,"j":-0.0,"k":0.0,"l":0.0025}`},
		{"double extremes", `{"max":1.7976931348623157e308,"min":4.9e-324,"min5":5e-324,"sub":1e-310}`,
			`{"max":1.7976931348623157E308,"min":4.9E-324,"min5":4.9E-324,"sub":1.0E-310}`},
		{"overflow is quoted Infinity", `{"p":1e400,"n":-1e400}`, `{"n":"-Infinity","p":"Infinity"}`},
		{"Java String order (UTF-16 units)", "{\"\uff61\":1,\"\U0001F600\":2,\"a\":3}", "{\"a\":3,\"\U0001F600\":2,\"\uff61\":1}"},
		{"upper case sorts before lower", `{"b":1,"B":2,"_":3,"0":4}`, `{"0":4,"B":2,"_":3,"b":1}`},
		{"empty object", `{}`, `{}`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := Canonical([]byte(c.body))
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != c.want {
				t.Errorf("Canonical(%s):\n got %s\nwant %s", c.body, got, c.want)
			}
			if !json.Valid(got) {
				t.Errorf("canonical form is not valid JSON: %s", got)
			}
		})
	}
}

func TestCanonicalStringsForm(t *testing.T) {
	v, err := parseObject([]byte(`{"testFlag":1,"b":true,"a":"x","n":null,"f":1.50}`))
	if err != nil {
		t.Fatal(err)
	}
	got, ok := canonicalStrings(&v)
	if want := `{"a":"x","b":"true","f":"1.50","testFlag":"1"}`; !ok || string(got) != want {
		t.Errorf("got %s %v, want %s", got, ok, want)
	}
	v, _ = parseObject([]byte(`{"a":{"x":1}}`))
	if _, ok := canonicalStrings(&v); ok {
		t.Error("a top-level object has no Map<String,String> form")
	}
}

func TestCanonicalRefusesMalformed(t *testing.T) {
	for _, body := range []string{
		``, ` `, `null`, `[]`, `"s"`, `1`, `{`, `{"a":1`, `{"a":1,}`, `{"a" 1}`, `{a:1}`, `{"a":01}`,
		`{"a":1.}`, `{"a":.5}`, `{"a":1e}`, `{"a":+1}`, `{"a":NaN}`, `{"a":tru}`, `{"a":1}x`, `{"a":1}{}`,
		`{"a":"\x"}`, `{"a":"\u12"}`, `{"a":"\ud800"}`, `{"a":"\udc00\ud800"}`, `{"a":"\ud800\u0041"}`,
		"{\"a\":\"\x01\"}", "{\"a\":\"\xff\"}", "\xef\xbb\xbf{}", `{"a":1,"a":2}`, `{"o":{"x":1,"x":1}}`,
		`{"l":[{"k":1,"k":2}]}`, `/*c*/{}`, `{"a":'x'}`, "{\"n\":1" + strings.Repeat("0", 200) + "}",
		strings.Repeat(`{"a":`, 40) + "1" + strings.Repeat("}", 40),
	} {
		if got, err := Canonical([]byte(body)); err == nil {
			t.Errorf("Canonical(%q) = %s, want an error", body, got)
		}
	}
}

func TestJavaDoubleStringRoundTrips(t *testing.T) {
	for _, f := range []float64{1, 0.1, 1.0 / 3, 2.0 / 3, 1e21, 1e22, 1e23, 123.456, 6.02214076e23, math.SmallestNonzeroFloat64,
		math.MaxFloat64, 9.999999999999999e6, 1e-3, 9.99e-4, 5e-324 * 3} {
		s := javaDoubleString(f)
		g, err := parseJSON([]byte(strings.Replace(s, "E", "e", 1)))
		if err != nil {
			t.Fatalf("%v rendered %q, not a JSON number: %v", f, s, err)
		}
		if got := appendJacksonNumber(nil, g.s); string(got) != s {
			t.Errorf("%v: %q is not stable: %q", f, s, got)
		}
	}
}

func TestCompareJavaStrings(t *testing.T) {
	if compareJavaStrings("\U0001F600", "\uff61") >= 0 {
		t.Error("a supplementary character sorts before U+FF61 in UTF-16 order")
	}
	if compareJavaStrings("ab", "abc") >= 0 || compareJavaStrings("abc", "ab") <= 0 || compareJavaStrings("x", "x") != 0 {
		t.Error("prefix order")
	}
	if compareJavaStrings("\u00e9", "z") <= 0 {
		t.Error("é sorts after z")
	}
}
