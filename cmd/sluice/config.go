package main

import (
	"errors"
	"fmt"
	"io"

	"github.com/sluicehq/sluice/internal/config"
	"github.com/sluicehq/sluice/internal/version"
)

func cmdConfig(args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "check" {
		fmt.Fprintln(stderr, "Usage: sluice config check [--print] FILE")
		return errors.New("config: expected the subcommand \"check\"")
	}
	fs := newFlags("config check", "sluice config check [--print] FILE", stderr)
	print := fs.Bool("print", false, "print the effective config (defaults applied, secrets redacted)")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return errors.New("config check: expected exactly one FILE")
	}
	cfg, err := config.Load(fs.Arg(0))
	if err != nil {
		return err
	}
	if *print {
		out, err := cfg.Redacted()
		if err != nil {
			return err
		}
		stdout.Write(out) //nolint:errcheck
		return nil
	}
	fmt.Fprintf(stdout, "%s: ok (%d providers, %d models)\n", fs.Arg(0), len(cfg.Providers), len(cfg.Models))
	return nil
}

func cmdVersion(stdout io.Writer) error {
	fmt.Fprintln(stdout, "sluice", version.Version)
	return nil
}
