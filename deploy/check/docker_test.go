package check

import (
	"debug/elf"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/linter"
	"github.com/moby/buildkit/frontend/dockerfile/parser"
)

// dockerStages parses the Dockerfile with BuildKit's own parser and, with
// lint, its linter (the checks of `docker build --check` that need no
// build); a syntax error or a lint warning fails the test. It returns the
// stages and the ARGs before the first FROM.
func dockerStages(t *testing.T, lint bool) ([]instructions.Stage, []instructions.ArgCommand) {
	t.Helper()
	f, err := os.Open(dockerfile)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	res, err := parser.Parse(f)
	if err != nil {
		t.Fatalf("Dockerfile: %v", err)
	}
	for _, w := range res.Warnings {
		if lint {
			t.Errorf("Dockerfile: %s", w.Short)
		}
	}
	cfg := &linter.Config{SkipAll: !lint, Warn: func(rule, _, _, msg string, loc []parser.Range) {
		line := 0
		if len(loc) > 0 {
			line = loc[0].Start.Line
		}
		t.Errorf("Dockerfile:%d: %s: %s", line, rule, msg)
	}}
	stages, metaArgs, err := instructions.Parse(res.AST, linter.New(cfg))
	if err != nil {
		t.Fatalf("Dockerfile: %v", err)
	}
	if len(stages) == 0 {
		t.Fatal("Dockerfile: no stage")
	}
	return stages, metaArgs
}

// entrypoint is the final stage's ENTRYPOINT, which must be the exec form.
func entrypoint(t *testing.T) []string {
	t.Helper()
	stages, _ := dockerStages(t, false)
	var ep *instructions.EntrypointCommand
	for _, c := range stages[len(stages)-1].Commands {
		if e, ok := c.(*instructions.EntrypointCommand); ok {
			ep = e
		}
	}
	if ep == nil || ep.PrependShell {
		t.Fatalf("final stage: no ENTRYPOINT in exec form: %v", ep)
	}
	return ep.CmdLine
}

// imageConfigPath is the config file the image's entrypoint reads.
func imageConfigPath(t *testing.T) string {
	t.Helper()
	ep := entrypoint(t)
	for i, a := range ep {
		if a == "--config" && i+1 < len(ep) {
			return ep[i+1]
		}
	}
	t.Fatalf("ENTRYPOINT %q has no --config", ep)
	return ""
}

// goDirective is the root module's go line.
var goDirective = regexp.MustCompile(`(?m)^go (\S+)$`)

// TestDockerfile checks the image's build and final stage against the rest
// of the repository: the Go version of go.mod, a static non-root image,
// the port and config path the deployment relies on.
func TestDockerfile(t *testing.T) {
	m := goDirective.FindSubmatch([]byte(readFile(t, rootGoMod)))
	if m == nil {
		t.Fatal("no go line in go.mod")
	}
	stages, metaArgs := dockerStages(t, true)
	goVersion := ""
	for _, a := range metaArgs {
		for _, kv := range a.Args {
			if kv.Key == "GO_VERSION" && kv.Value != nil {
				goVersion = *kv.Value
			}
		}
	}
	if goVersion != string(m[1]) {
		t.Errorf("ARG GO_VERSION=%s, but go.mod says go %s", goVersion, m[1])
	}
	build, final := stages[0], stages[len(stages)-1]
	if len(stages) != 2 || build.BaseName != "golang:${GO_VERSION}" || build.Name != "build" {
		t.Errorf("stages %d, first FROM %s AS %s: want a golang:${GO_VERSION} build stage and a final stage", len(stages), build.BaseName, build.Name)
	}
	if final.BaseName != "gcr.io/distroless/static-debian12:nonroot" {
		t.Errorf("final stage FROM %s, want distroless static nonroot", final.BaseName)
	}
	var goBuild string
	for _, c := range build.Commands {
		if r, ok := c.(*instructions.RunCommand); ok && strings.Contains(strings.Join(r.CmdLine, " "), "go build") {
			goBuild = strings.Join(r.CmdLine, " ")
		}
	}
	for _, want := range []string{"CGO_ENABLED=0", "-trimpath", versionVarPkg + ".Version=${VERSION}", "./cmd/sluice"} {
		if !strings.Contains(goBuild, want) {
			t.Errorf("go build step lacks %q: %s", want, goBuild)
		}
	}
	cfg := checkConfig(t, readFile(t, imageConfig), nil)
	var users, ports []string
	var copies []*instructions.CopyCommand
	for _, c := range final.Commands {
		switch c := c.(type) {
		case *instructions.UserCommand:
			users = append(users, c.User)
		case *instructions.ExposeCommand:
			ports = append(ports, c.Ports...)
		case *instructions.CopyCommand:
			copies = append(copies, c)
		}
	}
	if len(users) != 1 || users[0] != "65532:65532" {
		t.Errorf("USER %q, want 65532:65532 (numeric, so runAsNonRoot can verify it)", users)
	}
	if want := strconv.Itoa(int(cfg.port(t))); len(ports) != 1 || ports[0] != want {
		t.Errorf("EXPOSE %q, want the baked config's port %s", ports, want)
	}
	want := []string{"/sluice", "serve", "--config", "/etc/sluice/sluice.yaml"}
	if ep := entrypoint(t); strings.Join(ep, " ") != strings.Join(want, " ") {
		t.Errorf("ENTRYPOINT %q, want %q", ep, want)
	}
	baked, dataDir := false, false
	for _, c := range copies {
		if c.From == "" && c.DestPath == "/etc/sluice/sluice.yaml" && len(c.SourcePaths) == 1 && c.SourcePaths[0] == "deploy/docker/sluice.yaml" {
			baked = true
		}
		if c.From == "build" && c.DestPath == cfg.Server.DataDir && c.Chown == "65532:65532" {
			dataDir = true
		}
	}
	if !baked {
		t.Error("deploy/docker/sluice.yaml is not copied to /etc/sluice/sluice.yaml")
	}
	if !dataDir {
		t.Errorf("data_dir %s is not created owned by the non-root user", cfg.Server.DataDir)
	}
	var fromContext []string
	for _, st := range stages {
		for _, c := range st.Commands {
			if cp, ok := c.(*instructions.CopyCommand); ok && cp.From == "" {
				fromContext = append(fromContext, cp.SourcePaths...)
			}
		}
	}
	checkDockerignore(t, fromContext)
}

// checkDockerignore checks that every path copied from the build context
// is let through .dockerignore, which excludes everything else.
func checkDockerignore(t *testing.T, sources []string) {
	t.Helper()
	lines := strings.Split(readFile(t, dockerignore), "\n")
	if !contains(lines, "*") {
		t.Error(".dockerignore does not start from excluding everything")
	}
	for _, src := range sources {
		src = strings.TrimSuffix(src, "/")
		if !contains(lines, "!"+src) && !contains(lines, "!"+src+"/") && !contains(lines, "!"+filepath.Dir(src)+"/") {
			t.Errorf("COPY %s: .dockerignore does not let it through", src)
		}
	}
}

// TestBinaryIsStatic checks that the binary built as the Dockerfile builds
// it needs no libc: the final image has none.
func TestBinaryIsStatic(t *testing.T) {
	f, err := elf.Open(sluiceBin)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			t.Error("the binary has a dynamic loader (PT_INTERP): CGO crept in")
		}
	}
	if libs, err := f.ImportedLibraries(); err != nil || len(libs) != 0 {
		t.Errorf("the binary links %q (%v)", libs, err)
	}
}

// TestImageConfigServes starts the binary with the image's baked config
// (data_dir moved to a temporary directory) and drives it as a first user
// would: health, readiness, metrics, a key from the admin API, a chat
// answer from the mock; then SIGTERM. Nothing may be written outside
// data_dir, since the image's root filesystem may be read-only.
func TestImageConfigServes(t *testing.T) {
	text := readFile(t, imageConfig)
	dataDir := t.TempDir()
	if strings.Count(text, "/var/lib/sluice") != 1 {
		t.Fatalf("the baked config should name /var/lib/sluice once, as data_dir")
	}
	text = strings.Replace(text, "/var/lib/sluice", dataDir, 1)
	cfgPath := filepath.Join(t.TempDir(), "sluice.yaml")
	if err := os.WriteFile(cfgPath, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	workDir := t.TempDir()
	const admin = "deploy-check-admin-key-0123456789"
	g := startGateway(t, cfgPath, workDir, map[string]string{"SLUICE_ADMIN_KEY": admin})

	for _, c := range []struct{ path, want string }{
		{"/healthz", `"ok"`}, {"/readyz", `"ready"`}, {"/metrics", "go_goroutines"},
	} {
		if code, body := g.do(t, "GET", c.path, "", ""); code != 200 || !strings.Contains(body, c.want) {
			t.Errorf("GET %s = %d %.200q, want 200 with %s", c.path, code, body, c.want)
		}
	}
	chat := `{"model":"chat-default","messages":[{"role":"user","content":"hello from the image"}]}`
	if code, _ := g.do(t, "POST", "/v1/chat/completions", "", chat); code != 401 {
		t.Errorf("chat without a key = %d, want 401 (keys required)", code)
	}
	code, body := g.do(t, "POST", "/admin/v1/keys", admin, `{"name":"deploy-check"}`)
	var key struct {
		Key string `json:"key"`
	}
	if code != 201 || json.Unmarshal([]byte(body), &key) != nil || key.Key == "" {
		t.Fatalf("POST /admin/v1/keys = %d %s", code, body)
	}
	if code, body := g.do(t, "POST", "/v1/chat/completions", key.Key, chat); code != 200 || !strings.Contains(body, "hello from the image") {
		t.Errorf("chat with a key = %d %.300s, want 200 echoing the message", code, body)
	}
	g.stop(t)

	if _, err := os.Stat(filepath.Join(dataDir, "sluice.db")); err != nil {
		t.Errorf("no SQLite database in data_dir: %v", err)
	}
	if ents, _ := os.ReadDir(workDir); len(ents) != 0 {
		t.Errorf("the gateway wrote %d entries to its working directory (read-only in the image): %v", len(ents), ents)
	}
}

// readFile returns a file's text.
func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// contains reports whether list holds s.
func contains(list []string, s string) bool {
	for _, x := range list {
		if strings.TrimSpace(x) == s {
			return true
		}
	}
	return false
}
