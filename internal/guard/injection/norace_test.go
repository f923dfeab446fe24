//go:build !race

package injection

// raceEnabled is set when the race detector is on: it slows training
// tenfold and makes sync.Pool drop items at random.
const raceEnabled = false
