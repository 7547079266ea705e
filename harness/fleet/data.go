package fleet

import (
	"github.com/snmpchaos/snmpchaos/scenarios"
	"github.com/snmpchaos/snmpchaos/simagent/mib"
)

// OpenStore opens the data a scenario's agents serve (its profile, or its
// data file relative to the scenario file): what a remote or spawned
// fleet's data digest must match.
func OpenStore(sc *scenarios.Scenario) (*mib.Store, error) { return openStore(sc) }

// DataPath resolves a data file a scenario names, relative to the
// scenario file when it is there.
func DataPath(source, data string) string { return dataPath(source, data) }
