package oid

import (
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestParse(t *testing.T) {
	tests := []struct {
		name, in string
		want     []uint32
		wantErr  string
	}{
		{name: "leading dot", in: ".1.3.6.1", want: []uint32{1, 3, 6, 1}},
		{name: "no dot", in: "1.3.6.1.2.1.1.1.0", want: []uint32{1, 3, 6, 1, 2, 1, 1, 1, 0}},
		{name: "one arc", in: "1", want: []uint32{1}},
		{name: "max arc", in: ".1.4294967295", want: []uint32{1, 4294967295}},
		{name: "empty", in: "", wantErr: `bad OID "": empty`},
		{name: "dot only", in: ".", wantErr: `bad OID ".": empty`},
		{name: "empty arc", in: "1..3", wantErr: `bad OID "1..3": empty arc 2`},
		{name: "trailing dot", in: "1.3.", wantErr: "empty arc 3"},
		{name: "letter", in: "1.x", wantErr: `bad OID "1.x": arc 2 is not a number`},
		{name: "too big", in: "1.4294967296", wantErr: "arc 2 is not below 2^32"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse(nil, []byte(tt.in))
			if tt.wantErr != "" {
				require.ErrorContains(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestAppendRoundTrips(t *testing.T) {
	for _, o := range [][]uint32{{1, 3, 6, 1}, {2, 999, 4294967295}, {0, 0}} {
		got, err := Parse(nil, Append(nil, o))
		require.NoError(t, err)
		assert.Equal(t, o, got)
	}
	assert.Equal(t, ".1.3.6", string(Append(nil, []uint32{1, 3, 6})))
}

func TestHasPrefixAndOrder(t *testing.T) {
	a, b := []uint32{1, 3, 6, 1, 2}, []uint32{1, 3, 6}
	assert.True(t, HasPrefix(a, b))
	assert.True(t, HasPrefix(b, b))
	assert.False(t, HasPrefix(b, a))
	assert.False(t, HasPrefix([]uint32{1, 3, 7}, b))
	// Arc by arc, a prefix before its subtree: the same order as slices.Compare.
	for _, p := range [][2][]uint32{{b, a}, {{1, 10}, {1, 9, 5}}, {a, slices.Clone(a)}, {{2}, {1, 99}}} {
		assert.Equal(t, slices.Compare(p[0], p[1]), Compare(p[0], p[1]), "%v %v", p[0], p[1])
	}
	assert.Equal(t, -1, Compare(b, a))
	assert.Equal(t, 1, Compare([]uint32{1, 10}, []uint32{1, 9, 5}))
	assert.Equal(t, 0, Compare(a, slices.Clone(a)))
}
