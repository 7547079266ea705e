package harness

import (
	"github.com/snmpchaos/snmpchaos/scenarios"
)

// withProtocol sets t's version, and for v3 its user and context, from the
// scenario's load.
func withProtocol(t Target, sc *scenarios.Scenario) Target {
	switch sc.Load.Version {
	case scenarios.SNMPv1:
		t.Version = VersionV1
	case scenarios.SNMPv3:
		t.Version = VersionV3
		t.User, _ = sc.User()
		t.Context = sc.Load.Context
	default:
		t.Version = VersionV2c
	}
	return t
}

// SettingsFor returns the poller settings a scenario asks for.
func SettingsFor(sc *scenarios.Scenario) Settings {
	return Settings{
		Timeout:        sc.Poller.Timeout.D(),
		MinTimeout:     sc.Poller.MinTimeout.D(),
		Retries:        sc.Poller.Retries,
		MaxRepetitions: sc.Poller.MaxRepetitions,
		Sockets:        sc.Poller.Sockets,
		MaxInFlight:    sc.Load.Concurrency,
		Seed:           sc.Seed,
	}
}
