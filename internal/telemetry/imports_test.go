package telemetry_test

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestLibraryImportsTheAPIOnly: no package a user builds (the library, the
// mock and its binary) depends on the OpenTelemetry SDK or an exporter;
// the application installs those. Only test support (internal/oteltest)
// and the examples may.
func TestLibraryImportsTheAPIOnly(t *testing.T) {
	gomod, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		t.Skipf("no go command: %v", err)
	}
	root := filepath.Dir(strings.TrimSpace(string(gomod)))
	cmd := exec.Command("go", "list", "-f", `{{.ImportPath}} {{join .Deps " "}}`, "./...")
	cmd.Dir = root
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	checked := 0
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		pkg, deps, _ := strings.Cut(line, " ")
		if strings.Contains(pkg, "/internal/oteltest") || strings.Contains(pkg, "/examples/") {
			continue
		}
		checked++
		for _, d := range strings.Fields(deps) {
			if strings.HasPrefix(d, "go.opentelemetry.io/otel/sdk") || strings.HasPrefix(d, "go.opentelemetry.io/otel/exporters") ||
				strings.HasPrefix(d, "go.opentelemetry.io/contrib") || strings.HasPrefix(d, "go.opentelemetry.io/proto") {
				t.Errorf("%s depends on %s: the library must depend on the OpenTelemetry API only", pkg, d)
			}
		}
	}
	if checked < 10 {
		t.Fatalf("only %d packages checked", checked)
	}
}
