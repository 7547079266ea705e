package simagent

import (
	"encoding/json"
	"errors"
	"go/ast"
	"go/parser"
	"go/token"
	"regexp"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func ms(n int) Duration { return Duration(time.Duration(n) * time.Millisecond) }

func TestParseFaultSpec(t *testing.T) {
	tests := []struct {
		name string
		spec string
		want Faults
	}{
		{"empty", "", Faults{}},
		{"none", " none ", Faults{}},
		{"delay", "delay=20ms,jitter=10ms", Faults{Delay: &Delay{Fixed: ms(20), Jitter: ms(10)}}},
		{"delay zero keeps the fault", "delay=0s", Faults{Delay: &Delay{}}},
		{"delay all", "delay=1ms,jitter=2ms,dist=pareto,maxdelay=1s,slow=1.3.6.1.2.1.2.2:500ms,slow=.1.3.6.1.2.1.31:1s",
			Faults{Delay: &Delay{Fixed: ms(1), Jitter: ms(2), Dist: "pareto", Max: ms(1000), Prefixes: []PrefixDelay{
				{OID: "1.3.6.1.2.1.2.2", Delay: ms(500)}, {OID: ".1.3.6.1.2.1.31", Delay: ms(1000)}}}}},
		{"spaces", " drop = 0.05 , delay=20ms ", Faults{Delay: &Delay{Fixed: ms(20)}, Drop: &Drop{Prob: 0.05}}},
		{"drop", "drop=0.05,drop-every=10,burst=0.01/0.2/0.9", Faults{Drop: &Drop{Prob: 0.05, EveryNth: 10,
			Burst: &Burst{GoodToBad: 0.01, BadToGood: 0.2, LossBad: 0.9}}}},
		{"burst loss good", "burst=0.01/0.2/0.9/0.001", Faults{Drop: &Drop{Burst: &Burst{GoodToBad: 0.01, BadToGood: 0.2, LossBad: 0.9, LossGood: 0.001}}}},
		{"blackhole", "blackhole", Faults{Blackhole: &Blackhole{}}},
		{"blackhole for", "blackhole=30s", Faults{Blackhole: &Blackhole{For: ms(30000)}}},
		{"truncate", "bulk-cut=5,maxmsg=484,cut-bytes=40", Faults{Truncate: &Truncate{BulkVarbinds: 5, MaxMsgSize: 484, CutBytes: 40}}},
		{"dup", "dup", Faults{Duplicate: &Duplicate{}}},
		{"dup copies prob", "dup=2,dup-prob=0.5", Faults{Duplicate: &Duplicate{Copies: 2, Prob: 0.5}}},
		{"chances", "wrong-id=0.1,garbage=1", Faults{WrongID: &Chance{Prob: 0.1}, Garbage: &Chance{Prob: 1}}},
		{"loop", "loop=1.3.6.1.2.1.2.2.1.2,loop-rewind=1.3.6.1.2.1.2.2.1.1", Faults{Loop: &Loop{After: "1.3.6.1.2.1.2.2.1.2", Rewind: "1.3.6.1.2.1.2.2.1.1"}}},
		{"eom", "eom=1.3.6.1.2.1.2", Faults{EndOfMib: &EndOfMib{After: "1.3.6.1.2.1.2"}}},
		{"error", "error=genErr,error-prob=0.2", Faults{ErrorStatus: &ErrorStatus{Status: "genErr", Prob: 0.2}}},
		{"error number", "error=5", Faults{ErrorStatus: &ErrorStatus{Status: "5"}}},
		{"restart", "restart", Faults{Restart: &Restart{}}},
		{"restart downtime", "restart=5s", Faults{Restart: &Restart{Downtime: ms(5000)}}},
		{"order free", "error-prob=0.2,error=tooBig", Faults{ErrorStatus: &ErrorStatus{Status: "tooBig", Prob: 0.2}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseFaultSpec(tt.spec)
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
			require.NoError(t, got.Validate())
		})
	}
}

func TestFaultSpecRoundTrip(t *testing.T) {
	tests := []struct {
		spec string
		want string // canonical form; "" means the spec itself
	}{
		{"", "none"},
		{"none", ""},
		{"delay=20ms", ""},
		{"delay=0s", ""},
		{"jitter=10ms", ""},
		{"dist=normal", ""},
		{"maxdelay=1s", ""},
		{"slow=1.3.6.1.2.1.2.2:500ms", ""},
		{"jitter=10ms,delay=20ms,slow=1.3.6.1:1s,slow=1.3.6.2:2s,dist=uniform,maxdelay=1m0s",
			"delay=20ms,jitter=10ms,dist=uniform,maxdelay=1m0s,slow=1.3.6.1:1s,slow=1.3.6.2:2s"},
		{"drop=0.05", ""},
		{"drop=0", ""},
		{"drop-every=10", ""},
		{"burst=0.01/0.2/0.9", ""},
		{"burst=0.01/0.2/0.9/0.001", ""},
		{"drop=0.1,drop-every=3,burst=0.5/0.5/1", ""},
		{"blackhole", ""},
		{"blackhole=30s", ""},
		{"blackhole=0s", "blackhole"},
		{"bulk-cut=5", ""},
		{"bulk-cut=0", ""},
		{"maxmsg=484", ""},
		{"cut-bytes=40", ""},
		{"dup", ""},
		{"dup=1", ""},
		{"dup=3,dup-prob=0.25", ""},
		{"dup-prob=0.5,dup", "dup,dup-prob=0.5"},
		{"wrong-id=0.1", ""},
		{"garbage=0.1", ""},
		{"loop=1.3.6.1.2.1.2", ""},
		{"loop=1.3.6.1.2.1.2,loop-rewind=.1.3.6.1", ""},
		{"eom=1.3.6.1.2.1.2", ""},
		{"error=genErr", ""},
		{"error=noSuchName,error-prob=0.2", ""},
		{"restart", ""},
		{"restart=5s", ""},
		{"restart=1.000000001s", ""},
		{"drop=0.05,delay=20ms,jitter=10ms", "delay=20ms,jitter=10ms,drop=0.05"},
		{"restart,error=1,eom=1.3.6.1,loop=1.3.6.1,garbage=0.3,wrong-id=0.2,dup=2,cut-bytes=9,blackhole=1h0m0s,burst=0.1/0.2/0.3,delay=1ms",
			"delay=1ms,burst=0.1/0.2/0.3,blackhole=1h0m0s,cut-bytes=9,dup=2,wrong-id=0.2,garbage=0.3,loop=1.3.6.1,eom=1.3.6.1,error=1,restart"},
		{"drop=0.1000000000000001", ""},
	}
	for _, tt := range tests {
		t.Run(tt.spec, func(t *testing.T) {
			f, err := ParseFaultSpec(tt.spec)
			require.NoError(t, err)
			s := FormatFaultSpec(f)
			want := tt.want
			if want == "" {
				want = tt.spec
			}
			assert.Equal(t, want, s)
			g, err := ParseFaultSpec(s)
			require.NoError(t, err)
			assert.Equal(t, f, g, "parse(format(parse(spec))) = parse(spec)")
			// The JSON form carries the same faults.
			b, err := json.Marshal(f)
			require.NoError(t, err)
			var j Faults
			require.NoError(t, json.Unmarshal(b, &j))
			assert.Equal(t, s, FormatFaultSpec(j))
		})
	}
}

// TestFormatFaultSpecCoversEveryField formats structs built directly (not
// through the parser), including fields other fields default around.
func TestFormatFaultSpecCoversEveryField(t *testing.T) {
	for _, f := range []Faults{
		{Delay: &Delay{Max: ms(5)}},
		{Delay: &Delay{Dist: "pareto"}},
		{Delay: &Delay{Prefixes: []PrefixDelay{{OID: "1.3.6", Delay: 0}}}},
		{Drop: &Drop{}},
		{Drop: &Drop{Burst: &Burst{}}},
		{Truncate: &Truncate{}},
		{Truncate: &Truncate{MaxMsgSize: 100}},
		{Duplicate: &Duplicate{Prob: 0.5}},
		{WrongID: &Chance{}},
		{ErrorStatus: &ErrorStatus{Status: "resourceUnavailable", Prob: 1}},
	} {
		s := FormatFaultSpec(f)
		g, err := ParseFaultSpec(s)
		require.NoError(t, err, s)
		assert.Equal(t, f, g, s)
	}
}

func TestParseFaultSpecErrors(t *testing.T) {
	tests := []struct {
		spec string
		want []string // substrings of the error
	}{
		{"drop=1.5", []string{"term 1", `"drop=1.5"`, "drop", "probability"}},
		{"delay=20ms,drop=x", []string{"term 2", `"drop=x"`, `"x"`}},
		{"delay=fast", []string{"term 1", "delay", `"fast"`, "duration"}},
		{"delay=-1s", []string{"delay", "negative"}},
		{"dorp=0.1", []string{"term 1", "dorp", "unknown key", "drop"}},
		{"drop", []string{"drop", "missing =VALUE"}},
		{"drop=", []string{"drop", "empty value"}},
		{"drop=0.1,,delay=1s", []string{"term 2", "empty term"}},
		{"drop=0.1,none", []string{"term 2", "none"}},
		{"drop=0.1,drop=0.2", []string{"term 2", "given twice", "term 1"}},
		{"dist=gauss", []string{"dist", `"gauss"`}},
		{"slow=1.3.6.1", []string{"slow", "OID:DURATION"}},
		{"slow=1.3.x:1s", []string{"slow", "bad OID"}},
		{"slow=1.3.6:soon", []string{"slow", `"soon"`}},
		{"drop-every=-2", []string{"drop-every", `"-2"`}},
		{"burst=0.1/0.2", []string{"burst", "GOODTOBAD/BADTOGOOD/LOSSBAD"}},
		{"burst=0.1/2/0.5", []string{"burst", "part 2", `"2"`}},
		{"blackhole=", []string{"blackhole", "empty value"}},
		{"blackhole=forever", []string{"blackhole", `"forever"`}},
		{"maxmsg=10", []string{"maxmsg", "10 not in [64, 65507]"}},
		{"bulk-cut=many", []string{"bulk-cut", `"many"`}},
		{"dup=-1", []string{"dup", `"-1"`}},
		{"dup-prob=0.5", []string{"dup-prob", "needs dup"}},
		{"wrong-id=NaN", []string{"wrong-id", "probability"}},
		{"garbage=2", []string{"garbage"}},
		{"loop=1.3.6.1.2.1.2.2.1.2.a", []string{"loop", "bad OID"}},
		{"loop-rewind=1.3.6.1", []string{"loop-rewind", "needs loop"}},
		{"eom=", []string{"eom", "empty value"}},
		{"error=oops", []string{"error", `"oops"`, "genErr"}},
		{"error-prob=0.2", []string{"error-prob", "needs error"}},
		{"restart=later", []string{"restart", `"later"`}},
		{"dup=101", []string{"duplicate.copies", "101"}},
	}
	for _, tt := range tests {
		t.Run(tt.spec, func(t *testing.T) {
			_, err := ParseFaultSpec(tt.spec)
			require.Error(t, err)
			assert.ErrorIs(t, err, ErrBadFault)
			var se *SpecError
			require.True(t, errors.As(err, &se), "%T", err)
			for _, w := range tt.want {
				assert.Contains(t, err.Error(), w)
			}
		})
	}
}

// TestFaultSpecGrammarListsEveryKey keeps FaultSpecGrammar and the doc
// comment of ParseFaultSpec in step with the parser.
func TestFaultSpecGrammarListsEveryKey(t *testing.T) {
	file, err := parser.ParseFile(token.NewFileSet(), "spec.go", nil, parser.ParseComments)
	require.NoError(t, err)
	var doc string
	for _, d := range file.Decls {
		if fn, ok := d.(*ast.FuncDecl); ok && fn.Name.Name == "ParseFaultSpec" {
			doc = fn.Doc.Text()
		}
	}
	require.NotEmpty(t, doc)
	for _, k := range specKeys {
		for name, text := range map[string]string{"FaultSpecGrammar": FaultSpecGrammar, "ParseFaultSpec's doc": doc} {
			assert.Regexp(t, `(?m)^\s+`+regexp.QuoteMeta(k)+`[=\[]`, text, "%s does not document %q", name, k)
		}
	}
}
