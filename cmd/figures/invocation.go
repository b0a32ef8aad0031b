package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/figures-analytics/figures/internal/database"
)

// invocation is how the user can run this program again from their shell,
// for the commands figures prints for them to copy: "go run ./cmd/figures"
// when it was started by go run (its binary lives in a temporary build
// folder and is gone when it exits), "figures" when that name on the PATH
// is this program, otherwise the path it was started by.
func invocation() string {
	exe := os.Args[0]
	if strings.Contains(filepath.ToSlash(exe), "/go-build") {
		return "go run ./cmd/figures"
	}
	if onPath, err := exec.LookPath("figures"); err == nil {
		a, errA := os.Stat(onPath)
		b, errB := os.Stat(exe)
		if errA == nil && errB == nil && os.SameFile(a, b) {
			return "figures"
		}
	}
	return exe
}

// printableURL is a database URL to print in a command for the user to
// copy: as given, unless it holds a password, which is masked (the command
// then needs the real one put back).
func printableURL(raw string) string {
	loc, err := database.ParseURL(raw)
	if err != nil || loc.Password == "" {
		return raw
	}
	return loc.String()
}
