// Package version holds the build's version string, set at link time.
package version

// Version is set with -ldflags "-X .../internal/version.Version=v1.2.3".
var Version = "dev"
