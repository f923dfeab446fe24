package harness

import (
	"os"
	"strings"
	"testing"
)

func TestWriteNginxConfig(t *testing.T) {
	dir := t.TempDir()
	path, err := WriteNginxConfig(NginxConfig{Dir: dir, Listen: "127.0.0.1:4242", Upstream: "127.0.0.1:4343"})
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"listen 127.0.0.1:4242 backlog=4096;",
		"server 127.0.0.1:4343;",
		"keepalive 1024;",         // the upstream pool, sized like Sluice's transport
		"proxy_http_version 1.1;", // needed for upstream keep-alive
		`proxy_set_header Connection "";`,
		"proxy_buffering off;", // streams pass through as they arrive
		"master_process off;",  // one process to measure
		"pid " + dir + "/nginx.pid;",
	} {
		if !strings.Contains(string(b), want) {
			t.Errorf("nginx.conf lacks %q:\n%s", want, b)
		}
	}
}
