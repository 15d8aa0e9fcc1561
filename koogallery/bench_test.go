package koogallery

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// Run: go test -run '^$' -bench . -benchmem ./koogallery/
//
// BenchmarkHandler/floor is the least any verifier must do per call (the
// two HMAC-SHA256 over the body and the canonical request); the other
// cases show what the canonical form, decoding, the nonce store and the
// HTTP plumbing add to it.
func BenchmarkHandler(b *testing.B) {
	body := []byte(newInstanceBody)
	key := []byte(testKey.Reveal())
	b.Run("floor", func(b *testing.B) {
		b.ReportAllocs()
		for range b.N {
			_ = Signature(key, exampleNonce, exampleTS, HMACBodyHash(key, body))
		}
	})
	b.Run("canonical", func(b *testing.B) {
		b.ReportAllocs()
		for range b.N {
			if _, err := Canonical(body); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("newInstance-repeat", func(b *testing.B) {
		// A signed newInstance answered from the instance store: the
		// full path of KooGallery's most frequent call.
		c := newClock()
		h, _ := NewHandler(testKey, &recVendor{}, WithClock(c.Now), WithNonceStore(NewMemoryNonceStore(1<<30, c.Now)))
		s, _ := NewSigner(testKey, WithSignerClock(c.Now))
		sigs := make([]string, b.N)
		for i := range sigs {
			sig, _ := s.Sign(body)
			sigs[i] = sig.Query().Encode()
		}
		b.ReportAllocs()
		b.ResetTimer()
		for i := range b.N {
			req := httptest.NewRequest(http.MethodPost, "/p?"+sigs[i], strings.NewReader(newInstanceBody))
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != 200 || !strings.Contains(rec.Body.String(), `"000000"`) {
				b.Fatal(rec.Body.String())
			}
		}
	})
}
