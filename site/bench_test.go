// Benchmarks of endpoint resolution, done on every client construction and
// by callers building login links. Run them with:
//
//	go test -run '^$' -bench . -benchmem ./site/ ./internal/httpcore/
package site_test

import (
	"testing"

	"github.com/truewatch-labs/marketplace-go/site"
)

func BenchmarkEndpointsURL(b *testing.B) {
	under, err := site.UnderBase("http://127.0.0.1:8080")
	if err != nil {
		b.Fatal(err)
	}
	over, err := under.With(site.ZA1, site.ConsoleAPI, "https://za.private.test")
	if err != nil {
		b.Fatal(err)
	}
	for _, bc := range []struct {
		name string
		e    site.Endpoints
	}{{"default", site.Endpoints{}}, {"under base", under}, {"override", over}} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := bc.e.URL(site.ZA1, site.ConsoleAPI); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
