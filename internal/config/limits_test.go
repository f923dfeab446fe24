package config

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestLimitsDefaults(t *testing.T) {
	c := mustParse(t, "limits: {}\n")
	want := Limits{Backend: "memory", RedisPrefix: "sluice:", OnRedisError: "local", Replicas: 1,
		BurstPercent: 2, TokenBurstPercent: 25, Window: Duration(time.Minute)}
	if diff := cmp.Diff(want, c.Limits); diff != "" {
		t.Errorf("limits (-want +got):\n%s", diff)
	}
	// An explicit empty prefix is kept: keys then start at the root.
	if c := mustParse(t, "limits: {redis_prefix: \"\"}\n"); c.Limits.RedisPrefix != "" {
		t.Errorf("explicit empty redis_prefix became %q", c.Limits.RedisPrefix)
	}
}

func TestLimitsValidation(t *testing.T) {
	for _, tc := range []struct {
		name string
		src  string
		env  map[string]string
		want []string
	}{
		{
			name: "redis with its URL from the environment",
			src:  "limits:\n  backend: redis\n  redis_url: ${SLUICE_REDIS_URL}\n  replicas: 3\n  per_ip: {rpm: 600, tpm: 100000}\n",
			env:  map[string]string{"SLUICE_REDIS_URL": "redis://:pw@127.0.0.1:6379/0"},
		},
		{
			name: "redis sentinel URL with its primary's name",
			src:  "limits:\n  backend: redis\n  redis_url: \"redis+sentinel://:pw@10.0.0.1:26379/0?master_name=mymaster&addr=10.0.0.2:26379\"\n",
		},
		{
			name: "redis cluster URL with extra seed nodes",
			src:  "limits:\n  backend: redis\n  redis_url: \"rediss+cluster://:pw@10.0.0.1:6379?addr=10.0.0.2:6379\"\n",
		},
		{
			name: "a sentinel URL without master_name is rejected without printing it",
			src:  "limits:\n  backend: redis\n  redis_url: \"redis+sentinel://:hunter2@10.0.0.1:26379\"\n",
			want: []string{"sluice.yaml:3: limits.redis_url: " + badRedisURL},
		},
		{
			name: "redis without a URL",
			src:  "limits:\n  backend: redis\n",
			want: []string{`sluice.yaml:1: limits.redis_url: required for the redis backend: a URL such as "${SLUICE_REDIS_URL}"`},
		},
		{
			name: "a URL that is not redis is rejected without printing it",
			src:  "limits:\n  backend: redis\n  redis_url: \"http://user:hunter2@cache:6379\"\n",
			want: []string{"sluice.yaml:3: limits.redis_url: " + badRedisURL},
		},
		{
			name: "an empty URL from the environment names the variable",
			src:  "limits:\n  backend: redis\n  redis_url: ${EMPTY}\n",
			want: []string{`sluice.yaml:3: limits.redis_url: required for the redis backend: a URL such as "${SLUICE_REDIS_URL}" (environment variable EMPTY is empty)`},
		},
		{
			name: "unknown backend and policy",
			src:  "limits:\n  backend: etcd\n  on_redis_error: open\n",
			want: []string{
				`sluice.yaml:2: limits.backend: must be memory or redis, got "etcd"`,
				`sluice.yaml:3: limits.on_redis_error: must be local or closed, got "open"`,
			},
		},
		{
			name: "numbers out of range",
			src:  "limits:\n  replicas: 0\n  burst_percent: 120\n  window: 10ms\n  per_ip: {rpm: -1, tpm: -5}\n",
			want: []string{
				"sluice.yaml:2: limits.replicas: must be greater than 0",
				"sluice.yaml:3: limits.burst_percent: must be more than 0 and at most 100",
				"sluice.yaml:4: limits.window: must be at least 100ms",
				"sluice.yaml:5: limits.per_ip.rpm: must not be negative (0 means no limit)",
				"sluice.yaml:5: limits.per_ip.tpm: must not be negative (0 means no limit)",
			},
		},
		{
			name: "explicit zero burst",
			src:  "limits:\n  burst_percent: 0\n",
			want: []string{"sluice.yaml:2: limits.burst_percent: must be more than 0 and at most 100"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := parse([]byte(tc.src), "sluice.yaml", lookupIn(with(tc.env)))
			if diff := cmp.Diff(tc.want, errLines(err)); diff != "" {
				t.Errorf("errors (-want +got):\n%s", diff)
			}
			if err != nil && strings.Contains(err.Error(), "hunter2") {
				t.Errorf("the error prints the URL's password: %v", err)
			}
		})
	}
}
