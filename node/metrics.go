package node

import (
	"context"
	"net/http"
	"sync"
	"time"

	gometrics "github.com/armon/go-metrics"
	gometricsprom "github.com/armon/go-metrics/prometheus"
	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"innonet/node/guard"
	"innonet/node/pipeline"
)

// siteMetrics are one site's Prometheus metrics, on a registry of its own
// (several sites can share a process in tests and the demo).
type siteMetrics struct {
	reg      *prometheus.Registry
	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
	// prechecks counts the duplicate checks a submit made while it
	// committed, by whether their answer was kept (api_duplicates.go).
	prechecks *prometheus.CounterVec
}

// raftSink receives the Raft library's own metrics (commit time, FSM
// apply time, replication RPCs per peer...), which it reports through the
// process-wide go-metrics; it is set up once per process.
var raftSink = sync.OnceValue(func() prometheus.Collector {
	sink, err := gometricsprom.NewPrometheusSinkFrom(gometricsprom.PrometheusOpts{
		Expiration: 10 * time.Minute, Registerer: prometheus.NewRegistry(),
	})
	if err != nil {
		return nil
	}
	cfg := gometrics.DefaultConfig("innonet")
	cfg.EnableHostname, cfg.EnableRuntimeMetrics, cfg.EnableServiceLabel = false, false, false
	if _, err := gometrics.NewGlobal(cfg, sink); err != nil {
		return nil
	}
	return sink
})

func newSiteMetrics(n *Node) *siteMetrics {
	m := &siteMetrics{
		reg: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "innonet_api_requests_total",
			Help: "API requests answered by this site, by gRPC method and status code (REST calls count under their gRPC method).",
		}, []string{"method", "code"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "innonet_api_request_duration_seconds",
			Help:    "API request latency at this site, by gRPC method (includes forwarding to the leader).",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 16),
		}, []string{"method"}),
		prechecks: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "innonet_submit_duplicate_prechecks_total",
			Help: "Duplicate checks of a submitted lead made while it committed (when no other write was being proposed here), by outcome: kept, or checked_again after the commit because the duplicate index changed meanwhile.",
		}, []string{"outcome"}),
	}
	m.reg.MustRegister(m.requests, m.latency, m.prechecks, n.cluster.Collector(), pipelineCollector{n.state}, dealFlowCollector{n},
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	if s := raftSink(); s != nil {
		m.reg.MustRegister(s)
	}
	return m
}

func (m *siteMetrics) handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
}

// metricsHTTP serves the metrics to an admin or another site (a
// connection with a site certificate), or to anyone with
// Config.MetricsPublic: they tell who the users are and how much each
// site holds, and where the leader sits.
func (n *Node) metricsHTTP(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if n.cfg.MetricsPublic || n.httpPeerSite(r) != "" {
			h.ServeHTTP(w, r)
			return
		}
		ctx := metadata.NewIncomingContext(r.Context(), metadata.Pairs("authorization", r.Header.Get("Authorization")))
		if _, err := n.require(ctx, pipeline.Admin); err != nil {
			st := status.Convert(err)
			if st.Code() == codes.Unauthenticated {
				st = status.New(codes.Unauthenticated, "metrics need an ADMIN token or a site certificate: "+st.Message())
			}
			guard.WriteError(w, runtime.HTTPStatusFromCode(st.Code()), st, 0)
			return
		}
		h.ServeHTTP(w, r)
	})
}

func (m *siteMetrics) observe(method string, start time.Time, err error) {
	m.requests.WithLabelValues(method, status.Code(err).String()).Inc()
	m.latency.WithLabelValues(method).Observe(time.Since(start).Seconds())
}

func (m *siteMetrics) unary(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
	start := time.Now()
	resp, err := handler(ctx, req)
	m.observe(info.FullMethod, start, err)
	return resp, err
}

func (m *siteMetrics) stream(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
	start := time.Now()
	err := handler(srv, ss)
	m.observe(info.FullMethod, start, err)
	return err
}

var descLeads = prometheus.NewDesc("innonet_pipeline_leads", "Leads in this site's copy of the pipeline, by stage and submitting site.", []string{"stage", "site"}, nil)
var descUsers = prometheus.NewDesc("innonet_pipeline_users", "Users in this site's copy of the pipeline.", nil, nil)

// pipelineCollector reports the pipeline's contents at scrape time.
type pipelineCollector struct{ st *pipeline.State }

func (pipelineCollector) Describe(ch chan<- *prometheus.Desc) { ch <- descLeads; ch <- descUsers }

func (c pipelineCollector) Collect(ch chan<- prometheus.Metric) {
	for k, v := range c.st.CountsBySite() {
		ch <- prometheus.MustNewConstMetric(descLeads, prometheus.GaugeValue, float64(v), k.Stage.String(), k.Site)
	}
	if users, err := c.st.Users(); err == nil {
		ch <- prometheus.MustNewConstMetric(descUsers, prometheus.GaugeValue, float64(len(users)))
	}
}
