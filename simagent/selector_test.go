package simagent

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Issue 15, finding 2: a selector that says "nothing" must not select
// every agent (the zero Selector).
func TestFinding2ParseSelectorRefusesNothing(t *testing.T) {
	for text, want := range map[string]string{
		"percent=0":    "percent 0: want a share in (0, 100]",
		"percent=NaN":  "percent NaN: want a share in (0, 100]",
		"percent=nan":  "percent NaN",
		"percent=-0":   "percent -0",
		"percent=+Inf": "percent +Inf",
		"percent=101":  "percent 101",
		"count=0":      "count 0 selects no agent",
		"count=-3":     "count -3 selects no agent",
		"label=":       `label "": want KEY=VALUE`,
		"label==x":     `label "=x": want KEY=VALUE`,
		"label=site":   `label "site": want KEY=VALUE`,
		"range=5-3":    "range 5-3: want 0 <= from <= to",
		"index=-1":     "index: want a whole number >= 0",
		"none":         "there is no selector for no agent",
	} {
		_, err := ParseSelector(text)
		require.Error(t, err, text)
		assert.ErrorContains(t, err, `selector "`+text+`": `, text)
		assert.ErrorContains(t, err, want, text)
	}
	for _, text := range []string{"", "all", "percent=0.5", "count=1", "label=site=", "label=site=a", "range=0-0", "index=0"} {
		_, err := ParseSelector(text)
		assert.NoError(t, err, text)
	}
}

func TestFinding2SelectorJSONRefusesNothing(t *testing.T) {
	for js, want := range map[string]string{
		`{}`:                       "selector {} names no agent",
		`{"all": false}`:           "all: false selects no agent",
		`{"percent": 0}`:           "percent 0: want a share in (0, 100]",
		`{"count": 0}`:             "count 0 selects no agent",
		`{"label": ""}`:            `label "": want KEY=VALUE`,
		`{"count": 2, "index": 1}`: "selector sets 2 kinds (count, index); set one",
		`{"percnt": 5}`:            `unknown field "percnt"`,
		`{"range": null}`:          "range: want {from: A, to: B}",
		`{"index": null}`:          "index: want a whole number >= 0",
		`[1]`:                      "want a mapping with one of all, count, index, label, percent, range",
		`null`:                     "want a mapping",
		`{"count": "3"}`:           "count: json: cannot unmarshal string",
	} {
		var s Selector
		err := json.Unmarshal([]byte(js), &s)
		require.Error(t, err, js)
		assert.ErrorContains(t, err, want, js)
	}
	for _, s := range []Selector{{}, {All: true}, {Count: 3}, {Percent: 2.5}, {Label: "a=b"}, {Index: new(int)}, {Range: &IndexRange{From: 1, To: 2}}} {
		b, err := json.Marshal(s)
		require.NoError(t, err)
		var back Selector
		require.NoError(t, json.Unmarshal(b, &back), string(b))
		if s.set() == 0 {
			s = Selector{All: true} // the zero Selector is written as all
		}
		assert.Equal(t, s, back, string(b))
	}
}
