package host

import (
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/tollgate-dev/tollgate/abi"
)

// Metrics are what a node reports to Prometheus. Labels carry only values
// the node itself vouches for (a published agent's name@version, an error
// code from the closed set, a datanet that exists), never raw request
// input, and at most MaxLabelValues of each: anyone may publish agents and
// create datanets, so past that they are counted as "other".
type Metrics struct {
	mu   sync.Mutex
	seen map[string]map[string]bool // label -> values in use

	registry    *prometheus.Registry
	invocations *prometheus.CounterVec   // agent, code ("ok" for success)
	latency     *prometheus.HistogramVec // agent
	reads       *prometheus.CounterVec   // datanet
	modules     *prometheus.CounterVec   // result: hit, compile
	epochs      prometheus.Counter
	deposits    prometheus.Counter
	inFlight    prometheus.Gauge
	gas         *prometheus.CounterVec // op
}

// NewMetrics returns a node's metrics, with Go runtime and process metrics.
func NewMetrics() *Metrics {
	m := &Metrics{
		seen:     map[string]map[string]bool{},
		registry: prometheus.NewRegistry(),
		invocations: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "tollgate_invocations_total",
			Help: "Invocations answered, by agent and outcome (ok, or the error code)."}, []string{"agent", "code"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "tollgate_invocation_seconds",
			Help: "Time to a durable receipt, by agent.", Buckets: prometheus.ExponentialBuckets(0.0005, 2, 16)}, []string{"agent"}),
		reads: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "tollgate_metered_reads_total",
			Help: "Records read by agents and paid for, by datanet."}, []string{"datanet"}),
		modules: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "tollgate_agent_modules_total",
			Help: "Agent module lookups: hit (compiled already) or compile."}, []string{"result"}),
		epochs:   prometheus.NewCounter(prometheus.CounterOpts{Name: "tollgate_epochs_closed_total", Help: "Epochs closed and posted."}),
		deposits: prometheus.NewCounter(prometheus.CounterOpts{Name: "tollgate_deposits_credited_total", Help: "On-chain deposits credited."}),
		inFlight: prometheus.NewGauge(prometheus.GaugeOpts{Name: "tollgate_invocations_in_flight", Help: "Invocations running now."}),
		gas: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "tollgate_gas_used_total",
			Help: "Gas the operator's transactions used, by operation."}, []string{"op"}),
	}
	m.registry.MustRegister(m.invocations, m.latency, m.reads, m.modules, m.epochs, m.deposits, m.inFlight, m.gas,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// MaxLabelValues bounds the distinct agents (and datanets) metrics name.
const MaxLabelValues = 256

// label returns v, or "other" once MaxLabelValues others are in use.
func (m *Metrics) label(name, v string) string {
	m.mu.Lock()
	defer m.mu.Unlock()
	vs := m.seen[name]
	if vs == nil {
		vs = map[string]bool{}
		m.seen[name] = vs
	}
	if vs[v] {
		return v
	}
	if len(vs) >= MaxLabelValues {
		return "other"
	}
	vs[v] = true
	return v
}

// Handler serves the metrics in Prometheus's text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{})
}

// invoked records one invocation's outcome.
func (m *Metrics) invoked(start time.Time, res *InvokeResult, err error) {
	if m == nil {
		return
	}
	if err != nil {
		// The agent may not exist: its name is not a label.
		m.invocations.WithLabelValues("", string(abi.CodeOf(err))).Inc()
		return
	}
	agent := m.label("agent", res.Receipt.Agent)
	m.invocations.WithLabelValues(agent, "ok").Inc()
	m.latency.WithLabelValues(agent).Observe(time.Since(start).Seconds())
	if !res.Replayed {
		for _, a := range res.Receipt.Accesses {
			m.reads.WithLabelValues(m.label("datanet", a.Datanet)).Inc()
		}
	}
}

func (m *Metrics) module(hit bool) {
	if m == nil {
		return
	}
	if hit {
		m.modules.WithLabelValues("hit").Inc()
	} else {
		m.modules.WithLabelValues("compile").Inc()
	}
}

func (m *Metrics) epochClosed() {
	if m != nil {
		m.epochs.Inc()
	}
}

func (m *Metrics) depositsCredited(n int) {
	if m != nil && n > 0 {
		m.deposits.Add(float64(n))
	}
}

func (m *Metrics) running(delta float64) {
	if m != nil {
		m.inFlight.Add(delta)
	}
}
