package server

import (
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

// RegisterEngine adds the engine's and the rate budget's metrics. Each is
// read from memory on a scrape — nothing scans the journal — or counted as
// it happens (EngineObservers).
func RegisterEngine(reg *prometheus.Registry, eng *pos.Engine, budget *centrapay.Budget) error {
	gauges := []prometheus.Collector{
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "centrapos_centrapay_key_refused",
			Help: "1 while Centrapay refuses the API key (401): no sale can be taken until it is replaced."},
			func() float64 {
				if eng.Health().KeyRefused {
					return 1
				}
				return 0
			}),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "centrapos_sales_live",
			Help: "Open sales the engine drives (polls, voids, resolves)."},
			func() float64 { return float64(eng.Load().LiveSales) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "centrapos_poll_calls_needed_per_minute",
			Help: "Calls a minute the live sales need to be polled every poll interval."},
			func() float64 { return float64(eng.Load().CallsNeeded) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "centrapos_rate_budget_per_minute",
			Help: "Centrapay calls a minute the rate budget allows this API key."},
			func() float64 { return float64(budget.PerMinute()) }),
	}
	for _, p := range []centrapay.Priority{centrapay.PriorityOperator, centrapay.PriorityLive, centrapay.PriorityBackground} {
		gauges = append(gauges, prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "centrapos_rate_budget_waiting",
			Help: "Calls waiting for the Centrapay rate budget.", ConstLabels: prometheus.Labels{"priority": p.String()}},
			func() float64 { return float64(budget.Waiting(p)) }))
	}
	for _, g := range gauges {
		if err := reg.Register(g); err != nil {
			return err
		}
	}
	return nil
}

// EngineObservers are the engine's metrics counted as things happen, for
// pos.Config: how late work starts, the real interval between two polls of
// a sale, and the sales that end, by status.
type EngineObservers struct {
	Lag          func(time.Duration)
	PollInterval func(time.Duration)
	Ended        func(pos.Status)
}

// NewEngineObservers registers the metrics EngineObservers count.
func NewEngineObservers(reg *prometheus.Registry) (EngineObservers, error) {
	lag := prometheus.NewHistogram(prometheus.HistogramOpts{Name: "centrapos_poll_lag_seconds",
		Help: "How late polls and retries start after they fall due.", Buckets: []float64{.01, .05, .1, .25, .5, 1, 2, 5}})
	interval := prometheus.NewHistogram(prometheus.HistogramOpts{Name: "centrapos_poll_interval_seconds",
		Help:    "Time between two answered polls of the same sale: the poll interval each sale really gets.",
		Buckets: []float64{.5, .9, 1, 1.05, 1.1, 1.2, 1.5, 2, 3, 5, 10, 30, 60}})
	ended := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "centrapos_sales_ended_total",
		Help: "Sales that reached a final status, by status, since the server started."}, []string{"status"})
	for _, c := range []prometheus.Collector{lag, interval, ended} {
		if err := reg.Register(c); err != nil {
			return EngineObservers{}, err
		}
	}
	for _, st := range pos.Statuses() {
		if st.Final() {
			ended.WithLabelValues(string(st)) // every status shows, at 0
		}
	}
	return EngineObservers{
		Lag:          func(d time.Duration) { lag.Observe(d.Seconds()) },
		PollInterval: func(d time.Duration) { interval.Observe(d.Seconds()) },
		Ended:        func(st pos.Status) { ended.WithLabelValues(string(st)).Inc() },
	}, nil
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
