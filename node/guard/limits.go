package guard

import "time"

// Limits bound what one client may ask of a site: the size of what it
// sends, how slowly it may send it, how often it may fail to
// authenticate and how fast one token may call. Zero fields take the
// values of DefaultLimits.
type Limits struct {
	// MaxRecvMsgSize bounds one gRPC request message. The largest valid
	// request, a lead with every field at its limit (a 5000-character
	// summary, 20 tags, 10 contacts), is under 100 KiB even in 4-byte
	// characters, so 1 MiB leaves ten times that while no client can make
	// the site hold more than 1 MiB per request.
	MaxRecvMsgSize int
	// MaxSendMsgSize bounds one gRPC response: a page of 500 leads at
	// their largest is under 40 MiB. Responses are bounded by page sizes
	// already; this is the backstop.
	MaxSendMsgSize int
	// MaxBodyBytes bounds a REST request body, answered with 413 beyond.
	// JSON that spells every character as an escape is at most a few
	// times the protobuf size, so it matches MaxRecvMsgSize.
	MaxBodyBytes int64
	// MaxHeaderBytes bounds the request line and headers (431 beyond).
	MaxHeaderBytes int
	// ReadHeaderTimeout is how long a client may take to send the
	// headers of a request, which cuts off slow-loris clients.
	ReadHeaderTimeout time.Duration
	// BodyReadTimeout is how long a REST client may take to send a body.
	BodyReadTimeout time.Duration
	// WriteTimeout bounds a REST request from its headers to the end of
	// the answer (a write on a WAN may take ApplyTimeout plus
	// TransportTimeout before it is answered). The backup download is
	// bounded by BackupStallTimeout instead, and gRPC streams not at all:
	// there is no server-wide write timeout, which would cut backups.
	WriteTimeout time.Duration
	// BackupStallTimeout is the longest a backup download may stall.
	BackupStallTimeout time.Duration
	// IdleTimeout closes a keep-alive connection with no request.
	IdleTimeout time.Duration

	// AuthFailures failed authentications with one token from one client
	// address within AuthWindow block that token at that address for
	// AuthCooldown (a valid token is never refused for such a block): a
	// colleague behind the same NAT is not blocked for one person's
	// typos. Failures with AuthFailures different tokens, or with any
	// tokens 3×AuthFailures times, block the address itself. Each block
	// of a token or an address that follows doubles its cool-down, up to
	// AuthMaxCooldown. A token is told apart by a short prefix (see
	// prefixKey), so a guesser who varies only the end of a token is
	// counted as one token.
	AuthFailures    int
	AuthWindow      time.Duration
	AuthCooldown    time.Duration
	AuthMaxCooldown time.Duration
	// AuthGlobalRate bounds failed authentications per second at the site
	// across all client addresses, in bursts of ten seconds' worth: past
	// it, for AuthGlobalCooldown, the site refuses every request that
	// presents a token it does not hold valid, from any address, while
	// valid tokens keep working. It stops guessing spread over many
	// addresses, each under AuthFailures. A token the site has not
	// applied yet (just created on the leader) is refused meanwhile too.
	AuthGlobalRate     float64
	AuthGlobalCooldown time.Duration
	// TokenRate is how many requests per second one token may make, in
	// bursts of up to TokenBurst. A person or a script pushing leads needs
	// a few per second; 50 leaves room for a console that loads a page of
	// leads with their histories at once.
	TokenRate  float64
	TokenBurst int
	// MaxClients bounds the tables of client addresses, of tokens at an
	// address and of tokens (about 200 bytes an entry).
	MaxClients int
}

// DefaultLimits returns the limits a site applies unless told otherwise.
func DefaultLimits() Limits {
	return Limits{
		MaxRecvMsgSize:     1 << 20,
		MaxSendMsgSize:     64 << 20,
		MaxBodyBytes:       1 << 20,
		MaxHeaderBytes:     64 << 10,
		ReadHeaderTimeout:  10 * time.Second,
		BodyReadTimeout:    30 * time.Second,
		WriteTimeout:       2 * time.Minute,
		BackupStallTimeout: time.Minute,
		IdleTimeout:        2 * time.Minute,
		AuthFailures:       10,
		AuthWindow:         time.Minute,
		AuthCooldown:       time.Minute,
		AuthMaxCooldown:    15 * time.Minute,
		AuthGlobalRate:     10,
		AuthGlobalCooldown: 30 * time.Second,
		TokenRate:          50,
		TokenBurst:         100,
		MaxClients:         10000,
	}
}

// withDefaults fills the zero fields of l from DefaultLimits.
func (l Limits) withDefaults() Limits {
	d := DefaultLimits()
	if l.MaxRecvMsgSize <= 0 {
		l.MaxRecvMsgSize = d.MaxRecvMsgSize
	}
	if l.MaxSendMsgSize <= 0 {
		l.MaxSendMsgSize = d.MaxSendMsgSize
	}
	if l.MaxBodyBytes <= 0 {
		l.MaxBodyBytes = d.MaxBodyBytes
	}
	if l.MaxHeaderBytes <= 0 {
		l.MaxHeaderBytes = d.MaxHeaderBytes
	}
	for _, p := range []struct{ v, def *time.Duration }{
		{&l.ReadHeaderTimeout, &d.ReadHeaderTimeout}, {&l.BodyReadTimeout, &d.BodyReadTimeout},
		{&l.WriteTimeout, &d.WriteTimeout}, {&l.BackupStallTimeout, &d.BackupStallTimeout},
		{&l.IdleTimeout, &d.IdleTimeout}, {&l.AuthWindow, &d.AuthWindow},
		{&l.AuthCooldown, &d.AuthCooldown}, {&l.AuthMaxCooldown, &d.AuthMaxCooldown},
		{&l.AuthGlobalCooldown, &d.AuthGlobalCooldown},
	} {
		if *p.v <= 0 {
			*p.v = *p.def
		}
	}
	if l.AuthFailures <= 0 {
		l.AuthFailures = d.AuthFailures
	}
	if l.AuthGlobalRate <= 0 {
		l.AuthGlobalRate = d.AuthGlobalRate
	}
	if l.TokenRate <= 0 {
		l.TokenRate = d.TokenRate
	}
	if l.TokenBurst <= 0 {
		l.TokenBurst = d.TokenBurst
	}
	if l.MaxClients <= 0 {
		l.MaxClients = d.MaxClients
	}
	return l
}
