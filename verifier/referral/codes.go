package referral

import "slices"

// State is where a referral stands at the receiving organisation.
type State string

// The states. A received referral is accepted or declined; an accepted
// one is closed with an outcome. Declined and closed are final.
const (
	StateReceived State = "received"
	StateAccepted State = "accepted"
	StateDeclined State = "declined"
	StateClosed   State = "closed"
)

// States lists the states in their order.
func States() []State { return []State{StateReceived, StateAccepted, StateDeclined, StateClosed} }

// Valid reports whether s is one of the states.
func (s State) Valid() bool { return slices.Contains(States(), s) }

// rank orders states for the referring organisation: a state of a lower
// rank never overrides one of a higher. Declined and closed are both
// final, of the same rank.
func (s State) rank() int {
	switch s {
	case StateReceived:
		return 0
	case StateAccepted:
		return 1
	case StateDeclined, StateClosed:
		return 2
	}
	return -1
}

// Final reports whether nothing follows s.
func (s State) Final() bool { return s == StateDeclined || s == StateClosed }

// next reports whether a referral in state s may move to to.
func (s State) next(to State) bool {
	switch s {
	case StateReceived:
		return to == StateAccepted || to == StateDeclined
	case StateAccepted:
		return to == StateClosed
	}
	return false
}

// DeclineReasons are the codes a decline gives: never free text, which
// could carry personal data.
func DeclineReasons() []string {
	return []string{"no-capacity", "not-eligible", "service-not-offered", "person-withdrew", "person-unreachable"}
}

// Outcomes are the codes of a closed referral's outcome.
func Outcomes() []string {
	return []string{"served", "not-served", "referred-on"}
}

// codeFits reports whether code is the right kind of code for state:
// a decline reason for declined, an outcome for closed, none otherwise.
func codeFits(state State, code string) bool {
	switch state {
	case StateDeclined:
		return slices.Contains(DeclineReasons(), code)
	case StateClosed:
		return slices.Contains(Outcomes(), code)
	}
	return code == ""
}
