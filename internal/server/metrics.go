package server

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/centrapos/centrapos/centrapay"
	"github.com/centrapos/centrapos/pos"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// metrics are the server's own Prometheus metrics.
type metrics struct {
	sales *prometheus.CounterVec
}

func newMetrics(reg *prometheus.Registry) (*metrics, error) {
	m := &metrics{sales: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "centrapos_sale_requests_total",
		Help: "POST /sales answered, by result (started, rejected)."}, []string{"result"})}
	if err := reg.Register(m.sales); err != nil {
		return nil, err
	}
	return m, nil
}

// NewRegistry returns a registry with the Go runtime and process
// collectors, for the server's /metrics.
func NewRegistry() *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return reg
}

// RegisterEngine adds metrics read off the journal and the rate budget:
// sales of the last 24 hours by status, and callers waiting for budget.
func RegisterEngine(reg *prometheus.Registry, eng *pos.Engine, budget *centrapay.Budget, now func() time.Time) error {
	if err := reg.Register(&salesCollector{eng: eng, now: now}); err != nil {
		return err
	}
	refused := prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "centrapos_centrapay_key_refused",
		Help: "1 while Centrapay refuses the API key (401): no sale can be taken until it is replaced."},
		func() float64 {
			if eng.Health().KeyRefused {
				return 1
			}
			return 0
		})
	if err := reg.Register(refused); err != nil {
		return err
	}
	for _, p := range []struct {
		name string
		pick func(live, bg int) int
	}{{"live", func(l, _ int) int { return l }}, {"background", func(_, b int) int { return b }}} {
		g := prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "centrapos_rate_budget_waiting",
			Help: "Calls waiting for the Centrapay rate budget.", ConstLabels: prometheus.Labels{"priority": p.name}},
			func() float64 { l, b := budget.Waiting(); return float64(p.pick(l, b)) })
		if err := reg.Register(g); err != nil {
			return err
		}
	}
	return nil
}

// PollLag returns a histogram of how late the engine's work starts, for
// pos.Config.ObserveLag.
func PollLag(reg *prometheus.Registry) (func(time.Duration), error) {
	h := prometheus.NewHistogram(prometheus.HistogramOpts{Name: "centrapos_poll_lag_seconds",
		Help: "How late polls and retries start after they fall due.", Buckets: []float64{.01, .05, .1, .25, .5, 1, 2, 5}})
	if err := reg.Register(h); err != nil {
		return nil, err
	}
	return func(d time.Duration) { h.Observe(d.Seconds()) }, nil
}

var salesDesc = prometheus.NewDesc("centrapos_sales", "Sales created in the last 24 hours, by status.", []string{"status"}, nil)

type salesCollector struct {
	eng *pos.Engine
	now func() time.Time
}

func (c *salesCollector) Describe(ch chan<- *prometheus.Desc) { ch <- salesDesc }

func (c *salesCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	sales, err := c.eng.Journal().Sales(ctx, pos.SaleFilter{From: c.now().Add(-24 * time.Hour)})
	if err != nil {
		return
	}
	counts := map[pos.Status]int{pos.StatusPending: 0, pos.StatusResolving: 0, pos.StatusPaid: 0, pos.StatusCancelled: 0, pos.StatusExpired: 0, pos.StatusFailed: 0}
	for _, s := range sales {
		counts[s.Status]++
	}
	for st, n := range counts {
		ch <- prometheus.MustNewConstMetric(salesDesc, prometheus.GaugeValue, float64(n), string(st))
	}
}

// InstrumentTransport counts Centrapay calls by endpoint (ids replaced by
// {id}) and outcome (the status code, or "error").
func InstrumentTransport(reg *prometheus.Registry, base http.RoundTripper) (http.RoundTripper, error) {
	calls := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "centrapos_centrapay_calls_total",
		Help: "Calls to Centrapay by endpoint and outcome."}, []string{"method", "endpoint", "outcome"})
	dur := prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "centrapos_centrapay_call_seconds",
		Help: "Duration of calls to Centrapay.", Buckets: prometheus.DefBuckets}, []string{"method", "endpoint"})
	if err := reg.Register(calls); err != nil {
		return nil, err
	}
	if err := reg.Register(dur); err != nil {
		return nil, err
	}
	if base == nil {
		base = http.DefaultTransport
	}
	return roundTripFunc(func(r *http.Request) (*http.Response, error) {
		ep := endpoint(r.URL.Path)
		start := time.Now()
		resp, err := base.RoundTrip(r)
		dur.WithLabelValues(r.Method, ep).Observe(time.Since(start).Seconds())
		outcome := "error"
		if err == nil {
			outcome = strconv.Itoa(resp.StatusCode)
		}
		calls.WithLabelValues(r.Method, ep, outcome).Inc()
		return resp, err
	}), nil
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// endpoint turns a request path into its route, without ids.
func endpoint(path string) string {
	rest, ok := strings.CutPrefix(path, "/api/payment-requests/")
	if !ok || rest == "" {
		return path
	}
	parts := strings.Split(rest, "/")
	switch parts[0] {
	case "short-code":
		return "/api/payment-requests/short-code/{code}"
	case "external-ref":
		return "/api/payment-requests/external-ref/{ref}"
	}
	parts[0] = "{id}"
	if len(parts) >= 3 && parts[1] == "conditions" {
		parts[2] = "{conditionId}"
	}
	return "/api/payment-requests/" + strings.Join(parts, "/")
}
