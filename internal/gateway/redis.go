package gateway

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// redisOptions are the parsed options of one Redis URL: exactly one of the
// three is set, by the URL's scheme.
//
//   - redis://, rediss://, unix://: one server (redis.ParseURL).
//   - redis+sentinel://[user:password@]host:port[/db]?master_name=NAME
//     [&addr=host:port…]: a primary found through Sentinel; host:port is a
//     sentinel, each addr another one; master_name is required. The
//     URL's user and password authenticate to the sentinels, the username
//     and password parameters to the primary (go-redis's
//     redis.ParseFailoverURL).
//   - redis+cluster://[user:password@]host:port[?addr=host:port…]: a Redis
//     Cluster; host:port and each addr are seed nodes
//     (redis.ParseClusterURL).
//
// rediss+sentinel and rediss+cluster use TLS. The query may also set the
// client's options (dial_timeout, read_timeout, max_retries, …) for all
// three kinds.
type redisOptions struct {
	single   *redis.Options
	failover *redis.FailoverOptions
	cluster  *redis.ClusterOptions
	// query is the URL's query, to tell the options it set from defaults.
	query url.Values
}

// errRedisURL is the error of every URL that does not parse; it never
// quotes the URL, which may hold a password.
var errRedisURL = errors.New("not a valid Redis URL")

// parseRedisURL parses raw by its scheme (see redisOptions). Errors never
// quote the URL.
func parseRedisURL(raw string) (*redisOptions, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, errRedisURL
	}
	o := &redisOptions{query: u.Query()}
	base, kind, _ := strings.Cut(u.Scheme, "+")
	switch {
	case kind == "" && (base == "redis" || base == "rediss" || base == "unix"):
		o.single, err = redis.ParseURL(raw)
	case kind == "sentinel" && (base == "redis" || base == "rediss"):
		if o.query.Get("master_name") == "" {
			return nil, errors.New("a Redis Sentinel URL needs a master_name parameter")
		}
		u.Scheme = base
		o.failover, err = redis.ParseFailoverURL(u.String())
	case kind == "cluster" && (base == "redis" || base == "rediss"):
		u.Scheme = base
		o.cluster, err = redis.ParseClusterURL(u.String())
	default:
		return nil, errRedisURL
	}
	if err != nil {
		// The parser's message may quote the URL, password included.
		return nil, errRedisURL
	}
	if k := o.knobs(); *k.dialerRetries == 0 {
		// A refused connection fails at once instead of after five
		// dials: the callers' fallbacks take over sooner.
		*k.dialerRetries = 1
	}
	return o, nil
}

// redisKnobs points at the options of any kind that callers tune.
type redisKnobs struct {
	dialTimeout, readTimeout, writeTimeout *time.Duration
	maxRetries, dialerRetries              *int
}

// knobs returns pointers to the tunable options of whichever kind o is.
func (o *redisOptions) knobs() redisKnobs {
	switch {
	case o.failover != nil:
		f := o.failover
		return redisKnobs{&f.DialTimeout, &f.ReadTimeout, &f.WriteTimeout, &f.MaxRetries, &f.DialerRetries}
	case o.cluster != nil:
		c := o.cluster
		return redisKnobs{&c.DialTimeout, &c.ReadTimeout, &c.WriteTimeout, &c.MaxRetries, &c.DialerRetries}
	}
	s := o.single
	return redisKnobs{&s.DialTimeout, &s.ReadTimeout, &s.WriteTimeout, &s.MaxRetries, &s.DialerRetries}
}

// boundTimeouts sets the dial, read and write timeouts to d and turns
// retries off, except where the URL's query set them itself.
func (o *redisOptions) boundTimeouts(d time.Duration) {
	k := o.knobs()
	if !o.query.Has("dial_timeout") {
		*k.dialTimeout = d
	}
	if !o.query.Has("read_timeout") {
		*k.readTimeout = d
	}
	if !o.query.Has("write_timeout") {
		*k.writeTimeout = d
	}
	if !o.query.Has("max_retries") {
		*k.maxRetries = -1 // no retry
	}
}

// client builds the client of o, sending go-redis's own log lines to log
// (quietRedis); it does not contact Redis.
func (o *redisOptions) client(log *slog.Logger) redis.UniversalClient {
	quietRedis(log)
	switch {
	case o.failover != nil:
		return redis.NewFailoverClient(o.failover)
	case o.cluster != nil:
		return redis.NewClusterClient(o.cluster)
	}
	return redis.NewClient(o.single)
}

// newRedisClient returns a client for raw, a URL of one of the forms
// redisOptions lists, with one dial per attempt unless the URL sets
// dialer_retries. It does not contact Redis; errors never quote the URL.
func newRedisClient(raw string, log *slog.Logger) (redis.UniversalClient, error) {
	o, err := parseRedisURL(raw)
	if err != nil {
		return nil, err
	}
	return o.client(log), nil
}

var quietRedisOnce sync.Once

// quietRedis sends the Redis client's own log lines (one per failed dial,
// many per outage) to the gateway's log at debug level instead of stderr;
// failures the gateway acts on are logged and counted where it does.
func quietRedis(log *slog.Logger) {
	quietRedisOnce.Do(func() { redis.SetLogger(redisLogger{log}) })
}

type redisLogger struct{ log *slog.Logger }

func (l redisLogger) Printf(ctx context.Context, format string, v ...any) {
	l.log.DebugContext(ctx, "redis: "+fmt.Sprintf(format, v...))
}
