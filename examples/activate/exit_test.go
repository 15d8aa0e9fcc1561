package main

import (
	"testing"

	"github.com/truewatch-labs/marketplace-go/examples/internal/clitest"
)

func TestMain(m *testing.M) { clitest.Main(m, main) }

// TestExitStatus: -h exits 0 with the usage; a bad command line exits 2.
func TestExitStatus(t *testing.T) { clitest.CheckExitStatus(t, "Usage: go run ./examples/activate") }
