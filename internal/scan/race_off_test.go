//go:build !race

package scan

// raceEvery is 1 without the race detector: the whole test set runs.
const raceEvery = 1
