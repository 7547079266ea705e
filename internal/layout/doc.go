// Package layout holds the repository's structure tests and nothing else:
// the import rules between the packages (the poller library does not pull
// in the simulator, nothing below the harness imports it, each harness
// sub-package imports only what its role needs), the 500-line bound on
// non-test files and a doc comment for every package. They read the
// module through `go list -json`, so they check what the go command
// builds, not a list kept by hand; docs/architecture.md explains the
// rules.
package layout
