package control

import (
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"time"
)

// Bounds of the control API's HTTP server (NewServer): a client that sends
// its headers slowly, keeps a connection idle or reads a reply slowly is
// cut off, so connections never pile up.
const (
	// ReadHeaderTimeout bounds reading a request's headers.
	ReadHeaderTimeout = 10 * time.Second
	// ReadTimeout bounds reading a whole request.
	ReadTimeout = 30 * time.Second
	// WriteTimeout bounds writing a reply.
	WriteTimeout = 60 * time.Second
	// IdleTimeout closes a keep-alive connection idle this long.
	IdleTimeout = 30 * time.Second
	// MaxHeaderBytes bounds a request's headers.
	MaxHeaderBytes = 64 << 10
)

// ServerConfig configures NewServer.
type ServerConfig struct {
	// Addr is the address the server listens on, for the Host check.
	Addr net.Addr
	// AnyHost accepts any Host header: for a server whose requests carry
	// a token, which a page rebinding its name to this host cannot know.
	AnyHost bool
	// Hosts are further host names accepted in the Host header.
	Hosts []string
	// IdleTimeout overrides the IdleTimeout bound (0: the default).
	IdleTimeout time.Duration
	// Logger receives the server's own errors (nil: discard).
	Logger *slog.Logger
}

// NewServer returns an http.Server for the control API handler h with
// bounded timeouts (ReadHeaderTimeout, ReadTimeout, WriteTimeout,
// IdleTimeout, MaxHeaderBytes) and h behind HostCheck.
func NewServer(h http.Handler, cfg ServerConfig) *http.Server {
	idle := cfg.IdleTimeout
	if idle <= 0 {
		idle = IdleTimeout
	}
	logger := cfg.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &http.Server{
		Handler:           HostCheck(h, cfg),
		ReadHeaderTimeout: ReadHeaderTimeout,
		ReadTimeout:       ReadTimeout,
		WriteTimeout:      WriteTimeout,
		IdleTimeout:       idle,
		MaxHeaderBytes:    MaxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
}

// HostCheck refuses, with 421 Misdirected Request, requests whose Host
// header does not name this server: a web page that rebinds its own DNS
// name to 127.0.0.1 (DNS rebinding) reaches the API from a browser, but
// with its own name as Host. Accepted: localhost, loopback addresses, the
// listen address and cfg.Hosts; with cfg.AnyHost, any.
func HostCheck(h http.Handler, cfg ServerConfig) http.Handler {
	var listen netip.Addr
	if ta, ok := cfg.Addr.(*net.TCPAddr); ok && ta != nil {
		listen = ta.AddrPort().Addr().Unmap()
	}
	ok := func(hostport string) bool {
		host := hostport
		if h, _, err := net.SplitHostPort(hostport); err == nil {
			host = h
		}
		host = strings.TrimSuffix(strings.ToLower(strings.Trim(host, "[]")), ".")
		if cfg.AnyHost {
			return true
		}
		if host == "localhost" || strings.HasSuffix(host, ".localhost") {
			return true
		}
		for _, n := range cfg.Hosts {
			if strings.EqualFold(n, host) {
				return true
			}
		}
		a, err := netip.ParseAddr(host)
		if err != nil {
			return false
		}
		a = a.Unmap()
		return a.IsLoopback() || a == listen
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !ok(r.Host) {
			writeJSON(w, http.StatusMisdirectedRequest, Error{Error: "Host " + quoteHost(r.Host) +
				" is not this control API's address (use its IP address or localhost)"})
			return
		}
		h.ServeHTTP(w, r)
	})
}

// quoteHost quotes a Host header for an error, cut to a sane length.
func quoteHost(h string) string {
	if len(h) > 64 {
		h = h[:64] + "..."
	}
	return `"` + strings.ToValidUTF8(strings.ReplaceAll(h, `"`, `\"`), "?") + `"`
}
