package pollerlib

import (
	"errors"
	"fmt"
	"strconv"
)

// Sentinel errors callers branch on with errors.Is. Errors returned by the
// Poller wrap one of these (or a context error) with the operation and the
// target's session key.
var (
	// ErrClosed: the poller is closed (or closing).
	ErrClosed = errors.New("pollerlib: poller closed")
	// ErrTimeout: no valid response after every retry, or the context
	// deadline came first (then context.DeadlineExceeded matches too).
	ErrTimeout = errors.New("pollerlib: request timed out")
	// ErrTooBig: the agent answered tooBig even for the smallest request.
	ErrTooBig = errors.New("pollerlib: response too big")
	// ErrOIDNotIncreasing: a walk got an OID not after the previous one.
	ErrOIDNotIncreasing = errors.New("pollerlib: OID not increasing")
	// ErrCircuitOpen: the target's circuit breaker is open; failing fast.
	ErrCircuitOpen = errors.New("pollerlib: circuit open")
	// ErrDecode: the only responses received could not be decoded.
	ErrDecode = errors.New("pollerlib: cannot decode response")
	// ErrBadResponse: a response decoded but does not answer its request
	// (wrong varbind count or names, an empty GetBulk response).
	ErrBadResponse = errors.New("pollerlib: response does not match request")
	// ErrStatus: the agent answered with a non-zero error-status; the error
	// is a *StatusError.
	ErrStatus = errors.New("pollerlib: agent error-status")
	// ErrBadTarget: the target cannot be used (bad address, version).
	ErrBadTarget = errors.New("pollerlib: bad target")
	// ErrSkipped: a scheduled poll found the previous poll of its target
	// still running.
	ErrSkipped = errors.New("pollerlib: poll skipped, previous poll still running")
	// ErrOverloaded: the poller already has its maximum of operations in
	// flight (WithMaxInFlight) and refused this one at once, without
	// sending anything. The error is an *OverloadError.
	ErrOverloaded = errors.New("pollerlib: overloaded")
)

// OverloadError is an operation refused because InFlight operations were
// already running, the poller's Limit. It matches ErrOverloaded.
type OverloadError struct {
	InFlight, Limit int
}

// Error names the bound.
func (e *OverloadError) Error() string {
	return fmt.Sprintf("pollerlib: overloaded: %d operations in flight, limit %d", e.InFlight, e.Limit)
}

// Is matches ErrOverloaded.
func (e *OverloadError) Is(target error) bool { return target == ErrOverloaded }

// Error-status values (RFC 3416) callers may meet in a StatusError.
const (
	StatusTooBig     = 1
	StatusNoSuchName = 2
	StatusGenErr     = 5
)

var statusNames = []string{
	"noError", "tooBig", "noSuchName", "badValue", "readOnly", "genErr",
	"noAccess", "wrongType", "wrongLength", "wrongEncoding", "wrongValue",
	"noCreation", "inconsistentValue", "resourceUnavailable", "commitFailed",
	"undoFailed", "authorizationError", "notWritable", "inconsistentName",
}

// StatusError is a response with a non-zero error-status. It matches
// ErrStatus, and ErrTooBig when Status is tooBig.
type StatusError struct {
	Status int
	Index  int
}

// Error names the status and index.
func (e *StatusError) Error() string {
	n := "status " + strconv.Itoa(e.Status)
	if e.Status >= 0 && e.Status < len(statusNames) {
		n = statusNames[e.Status] + "(" + strconv.Itoa(e.Status) + ")"
	}
	return fmt.Sprintf("pollerlib: agent error-status %s at index %d", n, e.Index)
}

// Is matches ErrStatus, and ErrTooBig for tooBig.
func (e *StatusError) Is(target error) bool {
	return target == ErrStatus || (target == ErrTooBig && e.Status == StatusTooBig)
}

// NotIncreasingError is a walk that got an OID not after the previous one.
// It matches ErrOIDNotIncreasing.
type NotIncreasingError struct {
	Prev, Got OID
}

// Error shows both OIDs.
func (e *NotIncreasingError) Error() string {
	return fmt.Sprintf("pollerlib: OID not increasing: %s after %s", e.Got, e.Prev)
}

// Is matches ErrOIDNotIncreasing.
func (e *NotIncreasingError) Is(target error) bool { return target == ErrOIDNotIncreasing }

// OpError is the error of one operation on one target. Target is the
// session key (no secrets); Err is the cause.
type OpError struct {
	Op     string
	Target string
	Err    error
}

// Error reads "pollerlib: get 127.0.0.1:161/v2c/ab12cd34: cause".
func (e *OpError) Error() string { return e.Op + " " + e.Target + ": " + e.Err.Error() }

// Unwrap returns the cause.
func (e *OpError) Unwrap() error { return e.Err }
