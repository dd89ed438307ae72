// Command tally issues and verifies portable humanitarian credentials.
// See docs/cli.md, or run tally --help.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/tally-id/tally/internal/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Run(ctx, cli.OSEnv(), os.Args[1:])
	stop()
	os.Exit(code)
}
