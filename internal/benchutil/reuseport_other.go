//go:build !linux

package benchutil

import "errors"

func reusePort(uintptr) error { return errors.New("benchutil: SO_REUSEPORT echo needs Linux") }
