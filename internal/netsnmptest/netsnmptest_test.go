package netsnmptest

import (
	"testing"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestRequireFindsTools(t *testing.T) {
	for _, tool := range []string{"snmpget", "snmpwalk", "snmpbulkwalk", "snmpd"} {
		p := Require(t, tool)
		require.NotEmpty(t, p, tool)
	}
}

func TestRunReportsFailure(t *testing.T) {
	_, err := Run(t, "snmpget", "-v2c", "-c", "public", "-t", "0.2", "-r", "0", "127.0.0.1:9", ".1.3.6.1.2.1.1.1.0")
	require.Error(t, err)
	var te *ToolError
	require.ErrorAs(t, err, &te)
	require.Contains(t, te.Error(), "snmpget")
}
