// Package bench measures a running centrapos: the real `centrapos sandbox`
// and `centrapos serve` processes on loopback, driven over HTTP the way
// tills and patrons drive them, and observed from outside (/proc, the
// server's Prometheus metrics). `centrapos bench` wires it; this package
// holds the measurement and its pieces: percentiles, /proc parsing, the
// Prometheus text format, histogram quantiles and the report's table.
//
// Everything runs on 127.0.0.1, every child process is killed and every
// temporary file removed when Run returns, whatever the outcome.
package bench
