// Command sluicebench is Sluice's end-to-end benchmark harness (`make
// bench`): it measures the gateway against a bare Go reverse proxy, nginx
// and the mock called directly, prints one markdown table and writes it to
// docs/benchmarks.md. "sluicebench goproxy" is the baseline proxy itself,
// run by the harness as a process of its own.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"runtime/debug"
	"strings"
	"syscall"

	"github.com/sluicehq/sluice/bench/harness"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var err error
	if len(os.Args) > 1 && os.Args[1] == "goproxy" {
		err = goproxy(ctx, os.Args[2:])
	} else {
		err = bench(ctx, os.Args[1:])
	}
	if errors.Is(err, flag.ErrHelp) {
		return
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "sluicebench:", err)
		os.Exit(1)
	}
}

func bench(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("sluicebench", flag.ContinueOnError)
	quick := fs.Bool("quick", false, "short runs (under 3 minutes); the same table, noisier")
	out := fs.String("out", "", "markdown `file` whose generated block is replaced with the results (e.g. docs/benchmarks.md); empty: print only")
	only := fs.String("only", "", "comma-separated `systems` to run (go-proxy, nginx, sluice-proxy, sluice-production); direct always runs")
	sluice := fs.String("sluice", "bin/sluice", "path of the sluice `binary` (mock and gateway)")
	command := fs.String("command", "", "the command line to print as the way to reproduce the run (default: this one)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	if err := harness.PinSelf(harness.PlanLayout()); err != nil {
		return err
	}
	// The load generators share one CPU with the mock: collect garbage less
	// often than the default, trading memory (plenty) for generator CPU.
	debug.SetGCPercent(400)
	o := harness.Options{Plan: harness.PlanFor(*quick), Sluice: *sluice, Log: os.Stderr}
	if *only != "" {
		o.Only = strings.Split(*only, ",")
	}
	rep, err := harness.Run(ctx, o)
	if err != nil {
		return err
	}
	cmd := *command
	if cmd == "" {
		cmd = strings.Join(os.Args, " ")
	}
	md := harness.Markdown(rep, cmd)
	fmt.Println(md)
	if *out != "" {
		if err := harness.UpdateDoc(*out, md); err != nil {
			return err
		}
		fmt.Fprintln(os.Stderr, "wrote", *out)
	}
	return nil
}

func goproxy(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("sluicebench goproxy", flag.ContinueOnError)
	listen := fs.String("listen", "", "loopback `address` to serve on")
	upstream := fs.String("upstream", "", "upstream base `URL`")
	if err := fs.Parse(args); err != nil {
		return err
	}
	return harness.ServeReverseProxy(ctx, *listen, *upstream)
}
