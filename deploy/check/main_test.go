package check

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// Paths from this directory to what the tests read.
const (
	repoRoot      = "../.."
	chartDir      = "../helm/sluice"
	manifestsDir  = "../kubernetes"
	imageConfig   = "../docker/sluice.yaml"
	dockerfile    = "../../Dockerfile"
	dockerignore  = "../../.dockerignore"
	rootGoMod     = "../../go.mod"
	versionVarPkg = "github.com/sluicehq/sluice/internal/version"
)

// sluiceBin is the sluice binary TestMain builds, as the Dockerfile does.
var sluiceBin string

func TestMain(m *testing.M) {
	os.Exit(runMain(m))
}

func runMain(m *testing.M) int {
	dir, err := os.MkdirTemp("", "sluice-deploy-check-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "check: temp dir:", err)
		return 1
	}
	defer os.RemoveAll(dir)
	sluiceBin = filepath.Join(dir, "sluice")
	// The Dockerfile's build: static (CGO off), -trimpath, version stamped.
	cmd := exec.Command("go", "build", "-trimpath",
		"-ldflags", "-X "+versionVarPkg+".Version=deploy-check",
		"-o", sluiceBin, "./cmd/sluice")
	cmd.Dir = repoRoot
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "check: building sluice: %v\n%s", err, out)
		return 1
	}
	return m.Run()
}
