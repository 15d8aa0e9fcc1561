package main

import (
	"debug/elf"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// image is what the Dockerfile's final stage runs, read from it.
type image struct {
	bin         string   // the binary, built as the build stage builds it
	binPath     string   // its path in the image
	argv        []string // ENTRYPOINT and CMD
	env         [][2]string
	workdir     string
	uid, gid    int
	port        string // EXPOSE
	healthcheck []string
	healthFlags map[string]string
}

// readImage parses the Dockerfile and checks what an image needs that the
// run below cannot show: a scratch or distroless final stage without RUN
// (it has no shell), exec forms, a non-root numeric user, COPY --from
// naming an earlier stage, a go build with CGO_ENABLED=0. It then runs the
// build stage's RUN lines in a copy of the build context (what
// .dockerignore leaves), with the stage's ENV and /out, the only absolute
// path they write, moved to a temporary directory, and checks the binary
// is statically linked.
func readImage(t *testing.T) image {
	t.Helper()
	root, err := filepath.Abs("../..")
	require.NoError(t, err)
	src, err := os.ReadFile(filepath.Join(root, "Dockerfile"))
	require.NoError(t, err)
	df, err := parseDockerfile(string(src))
	require.NoError(t, err)
	assert.Equal(t, "docker/dockerfile:1", df.syntax)
	require.Len(t, df.stages, 2, "a build stage and the final one")
	build, final := df.stages[0], df.stages[1]
	assert.True(t, strings.HasPrefix(build.image, "golang:"), build.image)
	assert.True(t, final.image == "scratch" || strings.HasPrefix(final.image, "gcr.io/distroless/static"), final.image)
	assert.Empty(t, final.all("RUN"), "the final stage has no shell to RUN with")

	var buildEnv []string
	for _, in := range build.all("ENV") {
		pairs, err := envPairs(in.args)
		require.NoError(t, err)
		for _, p := range pairs {
			buildEnv = append(buildEnv, p[0]+"="+p[1])
		}
	}
	assert.Contains(t, buildEnv, "CGO_ENABLED=0")
	out := worldReadableDir(t)
	ctx := t.TempDir()
	ignore, err := readDockerignore(filepath.Join(root, ".dockerignore"))
	require.NoError(t, err)
	copyContext(t, root, ctx, ignore)
	_, err = os.Stat(filepath.Join(ctx, "pg"))
	assert.True(t, os.IsNotExist(err), "nested modules stay out of the context")
	var goBuild string
	for _, in := range build.all("RUN") {
		run := strings.ReplaceAll(in.args, "/out", out)
		require.NotContains(t, strings.ReplaceAll(in.args, " /out/", " "), " /", "line %d names an absolute path the test does not move", in.line)
		if strings.Contains(run, "go build") {
			goBuild = in.args
		}
		cmd := exec.Command("sh", "-c", run)
		cmd.Dir = ctx
		cmd.Env = append(os.Environ(), buildEnv...)
		outb, err := cmd.CombinedOutput()
		require.NoError(t, err, "line %d: %s\n%s", in.line, in.args, outb)
	}
	require.NotEmpty(t, goBuild, "a RUN with go build")
	img := image{healthFlags: map[string]string{}}
	f := strings.Fields(goBuild)
	for i := range f[:len(f)-1] {
		if f[i] == "-o" {
			img.bin = strings.ReplaceAll(f[i+1], "/out", out)
		}
	}
	require.NotEmpty(t, img.bin, "go build -o")
	assertStatic(t, img.bin)

	for _, in := range final.all("COPY") {
		flags, rest := flagsOf(in.args)
		if from, ok := flags["from"]; ok {
			assert.Equal(t, build.name, from, "line %d copies from the build stage", in.line)
		}
		if paths := strings.Fields(rest); len(paths) == 2 && strings.ReplaceAll(paths[0], "/out", out) == img.bin {
			img.binPath = paths[1]
		}
	}
	require.NotEmpty(t, img.binPath, "the final stage copies the built binary")

	entry, err := execForm(final.only(t, "ENTRYPOINT").args)
	require.NoError(t, err)
	require.Equal(t, img.binPath, entry[0])
	img.argv = entry[1:]
	if cmds := final.all("CMD"); len(cmds) > 0 {
		cmd, err := execForm(cmds[len(cmds)-1].args)
		require.NoError(t, err)
		img.argv = append(img.argv, cmd...)
	}
	for _, in := range final.all("ENV") {
		pairs, err := envPairs(in.args)
		require.NoError(t, err)
		img.env = append(img.env, pairs...)
	}
	img.workdir = final.only(t, "WORKDIR").args
	user := final.only(t, "USER").args
	u, g, ok := strings.Cut(user, ":")
	require.True(t, ok, "USER uid:gid, numeric so that runAsNonRoot can check it")
	img.uid, err = strconv.Atoi(u)
	require.NoError(t, err)
	img.gid, err = strconv.Atoi(g)
	require.NoError(t, err)
	assert.NotZero(t, img.uid, "not root")
	assert.NotZero(t, img.gid)
	img.port = strings.TrimSuffix(final.only(t, "EXPOSE").args, "/tcp")

	flags, rest := flagsOf(final.only(t, "HEALTHCHECK").args)
	img.healthFlags = flags
	require.True(t, strings.HasPrefix(rest, "CMD "), rest)
	img.healthcheck, err = execForm(strings.TrimPrefix(rest, "CMD "))
	require.NoError(t, err)
	assert.Equal(t, img.binPath, img.healthcheck[0])
	for _, k := range []string{"interval", "timeout", "start-period"} {
		d, err := time.ParseDuration(flags[k])
		require.NoError(t, err, "--%s", k)
		assert.Positive(t, d)
	}
	timeout, _ := time.ParseDuration(flags["timeout"])
	assert.GreaterOrEqual(t, timeout, healthTimeout, "Docker does not cut the check short of its own timeout")
	_, err = strconv.Atoi(flags["retries"])
	require.NoError(t, err, "--retries")
	return img
}

// worldReadableDir is a temporary directory others may enter (mode
// 0755), as the image's / and /data are, unlike t.TempDir's parents, so
// that the image's user reaches the binary and its working directory.
func worldReadableDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "truewatch-image-")
	require.NoError(t, err)
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	require.NoError(t, os.Chmod(dir, 0o755))
	return dir
}

// assertStatic: an ELF with no interpreter and no shared library, as a
// scratch image needs.
func assertStatic(t *testing.T, bin string) {
	t.Helper()
	f, err := elf.Open(bin)
	require.NoError(t, err)
	defer f.Close()
	for _, p := range f.Progs {
		assert.NotEqual(t, elf.PT_INTERP, p.Type, "no dynamic loader")
	}
	libs, err := f.ImportedLibraries()
	require.NoError(t, err)
	assert.Empty(t, libs)
}

// imageCmd is the process the image runs for argv (its entry point's or
// its health check's), with the image's environment and nothing else but
// overrides, in dir for WORKDIR, as the image's user when the test runs
// as root (so that the user's rights are tested too).
func (img image) imageCmd(t *testing.T, argv []string, dir string, overrides map[string]string) *exec.Cmd {
	t.Helper()
	require.Equal(t, img.binPath, argv[0])
	cmd := exec.Command(img.bin, argv[1:]...)
	cmd.Dir = dir
	cmd.Env = []string{"HOME=/"}
	for _, kv := range img.env {
		v, ok := overrides[kv[0]]
		if !ok {
			v = kv[1]
		}
		cmd.Env = append(cmd.Env, kv[0]+"="+v)
	}
	for k, v := range overrides {
		if !strings.Contains(strings.Join(cmd.Env, "\n"), k+"=") {
			cmd.Env = append(cmd.Env, k+"="+v)
		}
	}
	if os.Geteuid() == 0 {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uint32(img.uid), Gid: uint32(img.gid)}}
	}
	return cmd
}

// freePort is a port free on 127.0.0.1 a moment ago: the health check
// needs the port before the mock starts, as in the image.
func freePort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	_, port, err := net.SplitHostPort(l.Addr().String())
	require.NoError(t, err)
	require.NoError(t, l.Close())
	return port
}

// TestImageRunsAsTheDockerfileSays builds the binary as the Dockerfile's
// build stage does and runs it as its final stage does: the same entry
// point and arguments, only the image's environment, its user, a working
// directory standing for WORKDIR. One thing differs, as tests listen on
// 127.0.0.1 only: TRUEWATCH_MOCK_ADDR's 0.0.0.0 becomes 127.0.0.1, on a
// free port instead of EXPOSE's (whose equality with the address's port
// is checked). The health check, run as HEALTHCHECK says, passes while the
// mock serves and fails (exit 1) once it stopped on SIGTERM (docker stop).
// Then the same with TLS as docs/container.md says to turn it on.
func TestImageRunsAsTheDockerfileSays(t *testing.T) {
	img := readImage(t)
	env := map[string]string{}
	for _, kv := range img.env {
		env[kv[0]] = kv[1]
	}
	addr := env["TRUEWATCH_MOCK_ADDR"]
	host, port, err := net.SplitHostPort(addr)
	require.NoError(t, err)
	assert.Equal(t, "0.0.0.0", host, "every interface in the container")
	assert.Equal(t, img.port, port, "EXPOSE is the port the mock listens on")
	assert.Equal(t, "http://localhost:"+port, env["TRUEWATCH_MOCK_PUBLIC_URL"])

	run := func(t *testing.T, extra map[string]string) (*binProc, map[string]string, string) {
		dir := worldReadableDir(t)
		if os.Geteuid() == 0 {
			require.NoError(t, os.Chown(dir, img.uid, img.gid))
		}
		over := map[string]string{"TRUEWATCH_MOCK_ADDR": "127.0.0.1:" + freePort(t)}
		for k, v := range extra {
			over[k] = strings.ReplaceAll(v, img.workdir, dir)
		}
		return startCmd(t, img.imageCmd(t, append([]string{img.binPath}, img.argv...), dir, over)), over, dir
	}
	health := func(t *testing.T, over map[string]string, dir string) (string, error) {
		out, err := img.imageCmd(t, img.healthcheck, dir, over).CombinedOutput()
		return string(out), err
	}

	t.Run("http", func(t *testing.T) {
		p, over, dir := run(t, nil)
		resp, err := http.Get(p.base + "/_mock/health")
		require.NoError(t, err)
		resp.Body.Close()
		assert.Equal(t, http.StatusOK, resp.StatusCode)
		out, err := health(t, over, dir)
		require.NoError(t, err, out)
		rest := p.stop(t)
		assert.Contains(t, rest, "Billing Center:   http://localhost:"+port+"/billing-center", "the URLs it prints use the public URL")
		out, err = health(t, over, dir)
		var ee *exec.ExitError
		require.ErrorAs(t, err, &ee, out)
		assert.Equal(t, 1, ee.ExitCode(), "unhealthy")
	})

	t.Run("tls and state in WORKDIR", func(t *testing.T) {
		p, over, dir := run(t, map[string]string{"TRUEWATCH_MOCK_TLS": "1", "TRUEWATCH_MOCK_TLS_CA_OUT": img.workdir + "/ca.pem",
			"TRUEWATCH_MOCK_PUBLIC_URL": "https://localhost:" + port, "TRUEWATCH_MOCK_STATE": img.workdir + "/state.json"})
		require.True(t, strings.HasPrefix(p.base, "https://"), p.base)
		out, err := health(t, over, dir)
		require.NoError(t, err, out)
		client := &http.Client{Transport: trustOnly(t, filepath.Join(dir, "ca.pem")), Timeout: 10 * time.Second}
		resp, err := client.Get(p.base + "/_mock/health")
		require.NoError(t, err)
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		assert.Equal(t, http.StatusOK, resp.StatusCode)
		p.stop(t)
		fi, err := os.Stat(filepath.Join(dir, "state.json"))
		require.NoError(t, err, "the image's user writes its state in WORKDIR")
		if os.Geteuid() == 0 {
			assert.Equal(t, uint32(img.uid), fi.Sys().(*syscall.Stat_t).Uid)
		}
	})
}
