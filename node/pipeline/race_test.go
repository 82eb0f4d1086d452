//go:build race

package pipeline

// raceEnabled: the race detector slows Apply down several times over.
const raceEnabled = true
