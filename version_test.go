package marketplace_test

import (
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	marketplace "github.com/truewatch-labs/marketplace-go"
)

func TestVersionIsSemverAndInTheChangelog(t *testing.T) {
	assert.Regexp(t, `^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(-dev)?$`, marketplace.Version)
	assert.Equal(t, "marketplace-go/"+marketplace.Version, marketplace.UserAgent)
	log, err := os.ReadFile("CHANGELOG.md")
	require.NoError(t, err)
	release := strings.TrimSuffix(marketplace.Version, "-dev")
	if release != marketplace.Version {
		assert.Contains(t, string(log), "## [Unreleased]", "a -dev version has unreleased changes")
		return
	}
	assert.Regexp(t, regexp.MustCompile(`(?m)^## \[`+regexp.QuoteMeta(release)+`\] - \d{4}-\d{2}-\d{2}$`), string(log),
		"a released version has its section")
}
