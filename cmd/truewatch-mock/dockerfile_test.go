package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// This file reads the repository's Dockerfile and .dockerignore the way
// Docker does, as far as the instructions and patterns they use go, so
// that TestImageRunsAsTheDockerfileSays runs what the image runs. It
// refuses what it does not know instead of guessing.

// instruction is one Dockerfile instruction, continuation lines joined.
type instruction struct {
	line int
	cmd  string // upper case
	args string
}

// stage is one FROM and the instructions after it.
type stage struct {
	image, name string
	ins         []instruction
}

// dockerfile is the parsed file: its syntax directive, global ARGs and stages.
type dockerfile struct {
	syntax string
	args   map[string]string
	stages []stage
}

var knownInstructions = map[string]bool{"FROM": true, "ARG": true, "WORKDIR": true, "COPY": true, "RUN": true,
	"ENV": true, "USER": true, "EXPOSE": true, "HEALTHCHECK": true, "ENTRYPOINT": true, "CMD": true, "LABEL": true}

func parseDockerfile(src string) (*dockerfile, error) {
	df := &dockerfile{args: map[string]string{}}
	lines := strings.Split(src, "\n")
	first := true
	for i := 0; i < len(lines); i++ {
		raw := strings.TrimSpace(lines[i])
		if first && strings.HasPrefix(raw, "#") {
			if k, v, ok := strings.Cut(strings.TrimSpace(strings.TrimPrefix(raw, "#")), "="); ok && strings.EqualFold(strings.TrimSpace(k), "syntax") {
				df.syntax = strings.TrimSpace(v)
				continue
			}
		}
		if raw == "" || strings.HasPrefix(raw, "#") {
			continue
		}
		first = false
		start := i + 1
		for strings.HasSuffix(raw, `\`) {
			raw = strings.TrimSuffix(raw, `\`)
			i++
			for i < len(lines) && strings.HasPrefix(strings.TrimSpace(lines[i]), "#") {
				i++ // comment lines inside a continuation are dropped
			}
			if i >= len(lines) {
				return nil, fmt.Errorf("line %d: a continuation at the end of the file", start)
			}
			raw += " " + strings.TrimSpace(lines[i])
		}
		cmd, args, _ := strings.Cut(raw, " ")
		in := instruction{line: start, cmd: strings.ToUpper(cmd), args: strings.TrimSpace(args)}
		if !knownInstructions[in.cmd] {
			return nil, fmt.Errorf("line %d: instruction %q is not one this test knows", start, cmd)
		}
		if in.args == "" {
			return nil, fmt.Errorf("line %d: %s without arguments", start, in.cmd)
		}
		switch {
		case in.cmd == "FROM":
			f := strings.Fields(in.args)
			st := stage{image: df.expand(f[0])}
			switch {
			case len(f) == 3 && strings.EqualFold(f[1], "AS"):
				st.name = f[2]
			case len(f) != 1:
				return nil, fmt.Errorf("line %d: FROM %q", start, in.args)
			}
			df.stages = append(df.stages, st)
		case len(df.stages) == 0 && in.cmd == "ARG":
			k, v, _ := strings.Cut(in.args, "=")
			df.args[k] = v
		case len(df.stages) == 0:
			return nil, fmt.Errorf("line %d: %s before FROM", start, in.cmd)
		default:
			last := &df.stages[len(df.stages)-1]
			last.ins = append(last.ins, in)
		}
	}
	if len(df.stages) == 0 {
		return nil, fmt.Errorf("no FROM")
	}
	return df, nil
}

// expand replaces ${NAME} of global ARGs by their defaults.
func (df *dockerfile) expand(s string) string {
	for k, v := range df.args {
		s = strings.ReplaceAll(s, "${"+k+"}", v)
	}
	return s
}

func (st stage) all(cmd string) []instruction {
	var out []instruction
	for _, in := range st.ins {
		if in.cmd == cmd {
			out = append(out, in)
		}
	}
	return out
}

// only is the stage's one instruction cmd (the last counts, as in Docker;
// the test wants one).
func (st stage) only(t *testing.T, cmd string) instruction {
	t.Helper()
	all := st.all(cmd)
	require.Len(t, all, 1, "one %s in the stage FROM %s", cmd, st.image)
	return all[0]
}

// execForm reads a JSON array of strings: the exec form, which needs no
// shell (scratch has none) and lets the binary be PID 1 and get SIGTERM.
// Docker runs anything else, even a malformed array, with /bin/sh -c.
func execForm(s string) ([]string, error) {
	var argv []string
	if err := json.Unmarshal([]byte(s), &argv); err != nil || len(argv) == 0 {
		return nil, fmt.Errorf("%q is not the exec form (a JSON array of strings)", s)
	}
	return argv, nil
}

// envPairs reads ENV's key=value pairs (double quotes and backslash
// escapes as Docker reads them).
func envPairs(s string) ([][2]string, error) {
	var out [][2]string
	for s = strings.TrimSpace(s); s != ""; s = strings.TrimSpace(s) {
		k, rest, ok := strings.Cut(s, "=")
		if !ok || k == "" || strings.ContainsAny(k, " \t\"") {
			return nil, fmt.Errorf("ENV %q: only key=value pairs are read", s)
		}
		var v strings.Builder
		quoted := false
		i := 0
		for ; i < len(rest); i++ {
			c := rest[i]
			switch {
			case c == '\\' && i+1 < len(rest):
				i++
				v.WriteByte(rest[i])
			case c == '"':
				quoted = !quoted
			case !quoted && (c == ' ' || c == '\t'):
				goto done
			default:
				v.WriteByte(c)
			}
		}
	done:
		if quoted {
			return nil, fmt.Errorf("ENV %q: an unclosed quote", s)
		}
		out = append(out, [2]string{k, v.String()})
		s = rest[i:]
	}
	return out, nil
}

// flagsOf splits an instruction's leading --name=value flags from the rest.
func flagsOf(args string) (map[string]string, string) {
	flags := map[string]string{}
	for strings.HasPrefix(args, "--") {
		f, rest, _ := strings.Cut(args, " ")
		k, v, _ := strings.Cut(strings.TrimPrefix(f, "--"), "=")
		flags[k] = v
		args = strings.TrimSpace(rest)
	}
	return flags, args
}

// dockerignore is .dockerignore's patterns, read as Docker reads the kinds
// this repository uses: a path relative to the context (a directory's
// contents go with it), path.Match wildcards, and a leading **/ for any
// depth. Exceptions (!) are refused: the test would need to know them.
type dockerignore []string

func readDockerignore(file string) (dockerignore, error) {
	raw, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	var out dockerignore
	for _, l := range strings.Split(string(raw), "\n") {
		l = strings.TrimSpace(l)
		if l == "" || strings.HasPrefix(l, "#") {
			continue
		}
		if strings.HasPrefix(l, "!") || strings.Contains(strings.TrimPrefix(l, "**/"), "**") {
			return nil, fmt.Errorf(".dockerignore: %q: a pattern this test does not read", l)
		}
		if _, err := path.Match(l, ""); err != nil {
			return nil, fmt.Errorf(".dockerignore: %q: %w", l, err)
		}
		out = append(out, path.Clean(strings.TrimPrefix(l, "/")))
	}
	return out, nil
}

// excludes says whether rel (slash-separated, relative to the context) is
// left out of the build context.
func (d dockerignore) excludes(rel string) bool {
	for _, p := range d {
		anyDepth := strings.HasPrefix(p, "**/")
		p = strings.TrimPrefix(p, "**/")
		parts := strings.Split(rel, "/")
		for i := range parts {
			for j := i + 1; j <= len(parts); j++ {
				if i > 0 && !anyDepth {
					break
				}
				if ok, _ := path.Match(p, strings.Join(parts[i:j], "/")); ok {
					return true
				}
			}
		}
	}
	return false
}

// copyContext copies the build context, what .dockerignore leaves of dir,
// to dst.
func copyContext(t *testing.T, dir, dst string, ignore dockerignore) {
	t.Helper()
	require.NoError(t, filepath.WalkDir(dir, func(p string, e os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil || rel == "." {
			return err
		}
		if ignore.excludes(filepath.ToSlash(rel)) {
			if e.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		target := filepath.Join(dst, rel)
		if e.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		if !e.Type().IsRegular() {
			return nil
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(target, data, 0o644)
	}))
}

// TestDockerfileReader holds the reader to Docker's rules on the forms it
// accepts, and to refusing the rest.
func TestDockerfileReader(t *testing.T) {
	df, err := parseDockerfile("# syntax=docker/dockerfile:1\nARG V=1.2\n# c\nFROM golang:${V} AS b\nRUN a \\\n  # dropped\n  b\nFROM scratch\nENV A=1 \\\n  B=\"x y\" C=a\\ b\nCMD [\"/x\"]\n")
	require.NoError(t, err)
	assert.Equal(t, "docker/dockerfile:1", df.syntax)
	require.Len(t, df.stages, 2)
	assert.Equal(t, stage{image: "golang:1.2", name: "b", ins: []instruction{{5, "RUN", "a  b"}}}, df.stages[0])
	env, err := envPairs(df.stages[1].ins[0].args)
	require.NoError(t, err)
	assert.Equal(t, [][2]string{{"A", "1"}, {"B", "x y"}, {"C", "a b"}}, env)
	for _, bad := range []string{"RUN x\n", "FROM a\nFOO b\n", "FROM a\nRUN\n", "FROM a b c d\n"} {
		_, err := parseDockerfile(bad)
		assert.Error(t, err, bad)
	}
	_, err = envPairs(`A="x`)
	assert.Error(t, err)
	_, err = envPairs(`A 1`)
	assert.Error(t, err, "the legacy form is not read")
	_, err = execForm(`/truewatch-mock healthcheck`)
	assert.Error(t, err, "the shell form")
	_, err = execForm(`["/truewatch-mock", healthcheck]`)
	assert.Error(t, err, "a malformed array, which Docker would run with a shell")
	flags, rest := flagsOf("--interval=10s --retries=3 CMD [\"x\"]")
	assert.Equal(t, map[string]string{"interval": "10s", "retries": "3"}, flags)
	assert.Equal(t, `CMD ["x"]`, rest)
	_, err = time.ParseDuration(flags["interval"])
	assert.NoError(t, err)

	ig := dockerignore{".git", "pg", "examples/otel", "**/*_test.go", "*.md"}
	for rel, want := range map[string]bool{".git/HEAD": true, "pg/go.mod": true, "pgx/a.go": false, "examples/otel/main.go": true,
		"examples/activate/main.go": false, "mockserver/tls_test.go": true, "tls_test.go": true, "mockserver/tls.go": false,
		"README.md": true, "docs/x.md": false} {
		assert.Equal(t, want, ig.excludes(rel), rel)
	}
}
