package pipeline

import "time"

// From log format 2 the times Apply gives commands never run backwards.
// The leader stamps every command with its own clock; when leadership
// moves to a site whose clock is behind, its commands carry times before
// those already applied, and a lead's history, its stage times and the
// expiry of tokens made then would run backwards. So the state keeps the
// latest time it applied, and Apply gives each command the later of its
// own time and that one. A site whose clock runs ahead still pulls the
// times forward for everyone; bounding that is the proposer's job (it
// knows the other sites' clocks), not Apply's.
//
// At format 1 Apply uses the command's own time, as every site of format
// 1 does.

// clockCounter is where the state keeps the latest command time applied
// (Unix nanoseconds), in the counters table. Only format 2 writes it.
const clockCounter = "clock"

// followClock gives the command no earlier a time than the last applied.
func (a *applier) followClock() *Error {
	c := counterIn(a.txn, clockCounter)
	if c != nil {
		if last := time.Unix(0, c.Value).UTC(); last.After(a.now) {
			a.now = last
		}
	}
	return nil
}

// advanceClock records the command's time as the latest applied.
func (a *applier) advanceClock() *Error {
	return a.insert(tableCounters, &counter{Name: clockCounter, Value: a.now.UnixNano()})
}
