// Package e2e tests the real centrapos binary end to end: it builds
// cmd/centrapos once, starts `centrapos sandbox` and `centrapos serve` as
// separate processes on a temporary journal, drives them over HTTP as tills
// do, kills the server with SIGKILL while tills retry, and checks the
// journal against the sandbox's ledger (the truth at "Centrapay").
//
// The package has only tests; `go test -short` skips them.
package e2e
