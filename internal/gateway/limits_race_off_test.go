//go:build !race

package gateway_test

// raceDetector reports whether the race detector is on: timing tests that
// need the gateway to keep up with its clients skip under its slowdown.
const raceDetector = false
