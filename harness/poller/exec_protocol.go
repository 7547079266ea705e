package poller

import (
	"encoding/json"

	"github.com/snmpchaos/snmpchaos/harness/pollapi"
)

// ExecProtocol is the version of the exec protocol this package speaks
// (docs/exec-protocol.md).
const ExecProtocol = 1

// ExecMaxLine is the longest line either side may write, newline excluded.
const ExecMaxLine = 1 << 20

// maxOutstandingLimit bounds what a child may ask for in its hello.
const maxOutstandingLimit = 1 << 16

// Messages from the harness to the child.

type helloRequest struct {
	Type     string       `json:"type"`
	Protocol int          `json:"protocol"`
	Settings wireSettings `json:"settings"`
}

type wireSettings struct {
	TimeoutMs      int64  `json:"timeoutMs"`
	MinTimeoutMs   int64  `json:"minTimeoutMs"`
	Retries        int    `json:"retries"`
	MaxRepetitions int    `json:"maxRepetitions"`
	Sockets        int    `json:"sockets"`
	MaxInFlight    int    `json:"maxInFlight"`
	Seed           uint64 `json:"seed"`
}

type pollRequest struct {
	Type       string     `json:"type"`
	ID         uint64     `json:"id"`
	Target     wireTarget `json:"target"`
	Op         pollapi.Op `json:"op"`
	OIDs       []string   `json:"oids,omitempty"`
	Root       string     `json:"root,omitempty"`
	DeadlineMs int64      `json:"deadlineMs"`
}

// wireTarget carries the credentials in clear: the child needs them. It is
// only ever marshalled onto the child's stdin, never logged.
type wireTarget struct {
	Index     int       `json:"index"`
	Addr      string    `json:"addr"`
	Version   string    `json:"version"`
	Community string    `json:"community,omitempty"`
	User      *wireUser `json:"user,omitempty"`
	Context   string    `json:"context,omitempty"`
}

type wireUser struct {
	Name     string `json:"name"`
	Auth     string `json:"auth"`
	AuthPass string `json:"authPass,omitempty"`
	Priv     string `json:"priv"`
	PrivPass string `json:"privPass,omitempty"`
}

type idMessage struct {
	Type string `json:"type"`
	ID   uint64 `json:"id,omitempty"`
}

// reply is any line from the child; Type says which fields are set.
type reply struct {
	Type string `json:"type"`
	// hello
	Protocol       int    `json:"protocol"`
	Name           string `json:"name"`
	MaxOutstanding int    `json:"maxOutstanding"`
	PID            int    `json:"pid"`
	// result
	ID       uint64            `json:"id"`
	Varbinds []pollapi.Varbind `json:"varbinds"`
	Error    *wireError        `json:"error"`
	// stats
	OpenSockets *int `json:"openSockets"`
	InFlight    *int `json:"inFlight"`
}

type wireError struct {
	Kind    string `json:"kind"`
	Message string `json:"message"`
}

// ExecError is a poll's failure as the child reported it (or as the
// adapter decided when the child could not answer). Kind is what reports
// count it under.
type ExecError struct {
	ErrKind string
	Message string
}

func (e *ExecError) Error() string { return "exec: " + e.ErrKind + ": " + e.Message }

// Kind is the error's kind for harness.ErrorKind.
func (e *ExecError) Kind() string { return e.ErrKind }

func toWireTarget(t pollapi.Target) wireTarget {
	w := wireTarget{Index: t.Index, Addr: t.Addr.String(), Version: t.Version, Context: t.Context}
	if t.Version == "3" {
		w.User = &wireUser{Name: t.User.Name, Auth: t.User.Auth.String(), AuthPass: string(t.User.AuthPass),
			Priv: t.User.Priv.String(), PrivPass: string(t.User.PrivPass)}
	} else {
		w.Community = t.Community
	}
	return w
}

func marshalLine(v any) ([]byte, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}
