package main

import (
	"fmt"
	"os"
)

// logsCommand implements `ossd logs flush|status|tail`.
func logsCommand(args []string) int {
	fmt.Fprintln(os.Stderr, "ossd logs: not available yet in this build")
	return 2
}
