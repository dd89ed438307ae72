//go:build race

package scan

// raceEvery thins the synthetic test set under the race detector, which
// makes image code ten times slower: every eleventh frame is enough to catch
// a data race, and the full set runs without -race.
const raceEvery = 11
