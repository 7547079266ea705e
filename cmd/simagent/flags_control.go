package main

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"strings"
)

// tokenEnv is the environment variable that can carry the control API's
// bearer token (an alternative to --control-token-file).
const tokenEnv = "SIMAGENT_CONTROL_TOKEN"

// minTokenLen is the shortest token accepted.
const minTokenLen = 16

// maxTokenFile bounds the token file read.
const maxTokenFile = 4096

// controlFlags are the control API's flags, read before checking.
type controlFlags struct {
	addr      string
	any       bool
	tokenFile string
	readOnly  bool
}

// controlToken reads the token from --control-token-file or $tokenEnv
// ("" for none). The token itself never appears in an error.
func controlToken(file string, getenv func(string) string) (string, error) {
	env := getenv(tokenEnv)
	if file != "" && env != "" {
		return "", fmt.Errorf("--control-token-file and $%s both given: give one", tokenEnv)
	}
	src, tok := "$"+tokenEnv, env
	if file != "" {
		src = "--control-token-file " + file
		f, err := os.Open(file)
		if err != nil {
			return "", fmt.Errorf("--control-token-file: %w", err)
		}
		defer f.Close()
		b := make([]byte, maxTokenFile+1)
		n, err := f.Read(b)
		if err != nil && n == 0 {
			return "", fmt.Errorf("--control-token-file %s: %w", file, err)
		}
		if n > maxTokenFile {
			return "", fmt.Errorf("--control-token-file %s: larger than %d bytes", file, maxTokenFile)
		}
		tok = string(b[:n])
	}
	tok = strings.TrimRight(tok, "\r\n")
	if tok == "" {
		if file != "" {
			return "", fmt.Errorf("%s: empty", src)
		}
		return "", nil
	}
	if len(tok) < minTokenLen {
		return "", fmt.Errorf("%s: token of %d characters, want at least %d", src, len(tok), minTokenLen)
	}
	for _, c := range tok {
		if c <= ' ' || c > '~' {
			return "", fmt.Errorf("%s: token holds a space or a character outside printable ASCII", src)
		}
	}
	return tok, nil
}

// checkControl refuses a control address beyond loopback without a
// token: the API changes faults, and anyone who reaches it could.
func checkControl(addr string, allowAny, hasToken bool) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("--control %q: want IP:PORT: %w", addr, err)
	}
	loopback := host == "localhost"
	if !loopback {
		ip, err := netip.ParseAddr(host)
		switch {
		case host == "":
			// ":8080" listens on every interface.
		case err != nil:
			return fmt.Errorf("--control %q: %q is not an IP address (or localhost)", addr, host)
		default:
			loopback = ip.IsLoopback()
		}
	}
	switch {
	case loopback:
		return nil
	case !hasToken && allowAny:
		return fmt.Errorf("--control %s with --control-any: beyond loopback the API needs a token: --control-token-file FILE or $%s", addr, tokenEnv)
	case !hasToken:
		return fmt.Errorf("--control %s: not a loopback address; the control API changes faults, so beyond this host it needs a token: --control-token-file FILE or $%s", addr, tokenEnv)
	}
	return nil
}

var errNoControl = errors.New("needs --control")
