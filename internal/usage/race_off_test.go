//go:build !race

package usage

// raceEnabled reports whether the race detector is on; allocation counts
// are only asserted without it, since its instrumentation may allocate.
const raceEnabled = false
