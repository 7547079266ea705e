package simagent

import (
	"encoding/json"
	"fmt"
	"time"
)

// Duration is a time.Duration that reads and writes as "20ms" in JSON and
// YAML (sigs.k8s.io/yaml goes through JSON).
type Duration time.Duration

// D converts to time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

// String formats like time.Duration.
func (d Duration) String() string { return time.Duration(d).String() }

// MarshalJSON writes "1.5s".
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(d.String()) }

// UnmarshalJSON reads "1.5s". A bare number is refused (except 0): 12 is
// not 12ns by accident; write "12s", "12ms" or "12ns".
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		v, err := time.ParseDuration(s)
		if err != nil {
			return fmt.Errorf("duration %q: want a number with a unit like \"20ms\" or \"1.5s\"", s)
		}
		*d = Duration(v)
		return nil
	}
	var n float64
	if err := json.Unmarshal(b, &n); err != nil {
		return fmt.Errorf("duration: want a string like \"20ms\", got %.40s", b)
	}
	if n != 0 {
		return fmt.Errorf("duration %s has no unit: write \"%ss\", \"%sms\" or \"%sns\"", b, b, b, b)
	}
	*d = 0
	return nil
}
