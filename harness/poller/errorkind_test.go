package poller

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/snmpchaos/snmpchaos/pollerlib"
)

func TestErrorKind(t *testing.T) {
	tests := []struct {
		err  error
		want string
	}{
		{nil, "ok"},
		{fmt.Errorf("x: %w", pollerlib.ErrTimeout), "timeout"},
		{&pollerlib.StatusError{Status: 1}, "tooBig"},
		{context.Canceled, "canceled"},
		{errors.New("request timeout (after 2 retries)"), "timeout"},
		{fmt.Errorf("dial: %w", errors.Join(errors.New("socket"), errTooManyFiles)), "emfile"},
		{ErrClosed, "closed"},
		{&kindError{kind: "status", err: errors.New("x")}, "status"},
		{errors.New("boom"), "error"},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, ErrorKind(tt.err), "%v", tt.err)
	}
}
