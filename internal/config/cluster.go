package config

import "os"

// Cluster configures a gateway that runs as one of several identical
// replicas: the store on PostgreSQL (store:), shared state on Redis, and
// a name for this replica. Zero value: a single gateway.
type Cluster struct {
	// NodeID names this replica in the request log (each record's node),
	// in its own log lines and in /readyz. Default: the host name (a
	// Kubernetes pod's name), taken when the gateway starts (see
	// NodeName); usually "${SLUICE_NODE_ID:-}" in a shared config.
	NodeID string `yaml:"node_id"`
	// RedisURL is the Redis every replica shares (see limits.redis_url
	// for its form), usually "${SLUICE_REDIS_URL}". When set, the rate
	// limits and the response cache default to the redis backend on it
	// (limits.backend, cache.backend and their redis_url left empty take
	// it). Redacted when printed.
	RedisURL Secret `yaml:"redis_url"`
}

// clusterDefaults fills the cluster section and lets it set the limits'
// and the cache's backends. It runs before limitsDefaults and
// cacheDefaults.
func (c *Config) clusterDefaults() {
	k := &c.Cluster
	if k.RedisURL == "" {
		return
	}
	if c.Limits.Backend == "" {
		c.Limits.Backend = LimitsRedis
	}
	if c.Limits.RedisURL == "" {
		c.Limits.RedisURL = k.RedisURL
	}
	if c.Cache.Backend == "" {
		c.Cache.Backend = CacheRedis
	}
	if c.Cache.RedisURL == "" {
		c.Cache.RedisURL = k.RedisURL
	}
}

// cluster checks the cluster section.
func (v *validator) cluster() {
	k := &v.c.Cluster
	if len(k.NodeID) > 128 {
		v.bad("cluster.node_id", "must be at most 128 bytes")
	}
	if k.RedisURL != "" && !validRedisURL(k.RedisURL.Value()) {
		v.bad("cluster.redis_url", badRedisURL)
	}
}

// NodeName is this replica's name: NodeID, else the host name, else
// "sluice".
func (k *Cluster) NodeName() string {
	if k.NodeID != "" {
		return k.NodeID
	}
	if h, err := os.Hostname(); err == nil && h != "" {
		return h
	}
	return "sluice"
}
