// Package metrics is what a node reports to Prometheus: invocations, reads,
// module compiles, epochs, deposits and gas.
package metrics

import (
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/tollgate-dev/tollgate/abi"
	"github.com/tollgate-dev/tollgate/ledger"
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

// New returns a node's metrics, with Go runtime and process metrics.
func New() *Metrics {
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

// Invoked records one invocation's outcome: its receipt, whether it was a
// retry answered from the books, or its error.
func (m *Metrics) Invoked(start time.Time, rc *ledger.Receipt, replayed bool, err error) {
	if m == nil {
		return
	}
	if err != nil {
		// The agent may not exist: its name is not a label.
		m.invocations.WithLabelValues("", string(abi.CodeOf(err))).Inc()
		return
	}
	agent := m.label("agent", rc.Agent)
	m.invocations.WithLabelValues(agent, "ok").Inc()
	m.latency.WithLabelValues(agent).Observe(time.Since(start).Seconds())
	if !replayed {
		for _, a := range rc.Accesses {
			m.reads.WithLabelValues(m.label("datanet", a.Datanet)).Inc()
		}
	}
}

// Module records an agent module lookup: compiled already (hit) or not.
func (m *Metrics) Module(hit bool) {
	if m == nil {
		return
	}
	if hit {
		m.modules.WithLabelValues("hit").Inc()
	} else {
		m.modules.WithLabelValues("compile").Inc()
	}
}

// EpochClosed records an epoch closed and posted.
func (m *Metrics) EpochClosed() {
	if m != nil {
		m.epochs.Inc()
	}
}

// DepositsCredited records n deposits credited.
func (m *Metrics) DepositsCredited(n int) {
	if m != nil && n > 0 {
		m.deposits.Add(float64(n))
	}
}

// Running records invocations starting (delta 1) or ending (-1).
func (m *Metrics) Running(delta float64) {
	if m != nil {
		m.inFlight.Add(delta)
	}
}

// GasUsed records gas the operator's transaction for op used.
func (m *Metrics) GasUsed(op string, gas uint64) {
	if m != nil {
		m.gas.WithLabelValues(op).Add(float64(gas))
	}
}
