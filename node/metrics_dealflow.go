package node

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"innonet/node/pipeline"
	"innonet/node/reports"
	innonetpb "innonet/proto/innonet/v1"
)

// The deal flow's gauges, computed at scrape time from this site's copy:
// the year's funnel (in HQ's time zone) by site and by division, the
// leads over or near their stage limit by who must act, and the age of
// the oldest lead waiting for review.
var (
	descFunnelSite = prometheus.NewDesc("innonet_funnel_site_leads",
		"Leads that reached each funnel step this year (Asia/Shanghai), by submitting site.", []string{"step", "site"}, nil)
	descFunnelDivision = prometheus.NewDesc("innonet_funnel_division_leads",
		"Leads that reached each funnel step this year (Asia/Shanghai), by the division holding them then (\"\" before a claim).", []string{"step", "division"}, nil)
	descSLA = prometheus.NewDesc("innonet_sla_leads",
		"Leads over or near their stage's limit, by state (OVER, NEAR) and who must act.", []string{"state", "must_act"}, nil)
	descOldestReview = prometheus.NewDesc("innonet_oldest_unreviewed_seconds",
		"How long the oldest SUBMITTED lead has waited for HQ's review (0 when none waits).", nil, nil)
)

type dealFlowCollector struct{ n *Node }

func (dealFlowCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- descFunnelSite
	ch <- descFunnelDivision
	ch <- descSLA
	ch <- descOldestReview
}

func (c dealFlowCollector) Collect(ch chan<- prometheus.Metric) {
	loc, _, err := reportZone("")
	if err != nil {
		return
	}
	now := time.Now()
	year := time.Date(now.In(loc).Year(), 1, 1, 0, 0, 0, 0, loc)
	for _, by := range []struct {
		d    reports.Dimension
		desc *prometheus.Desc
	}{{reports.BySite, descFunnelSite}, {reports.ByDivision, descFunnelDivision}} {
		f, err := c.n.reports.Funnel(reports.FunnelQuery{From: year, To: year.AddDate(1, 0, 0), GroupBy: []reports.Dimension{by.d}, Location: loc})
		if err != nil {
			continue
		}
		for _, g := range f.Groups {
			for _, st := range reports.Steps {
				ch <- prometheus.MustNewConstMetric(by.desc, prometheus.GaugeValue, float64(g.Counts[st]), st.String(), g.Key[0])
			}
		}
	}
	leads, _, err := c.n.state.Leads(pipeline.Filter{Stages: append([]pipeline.Stage(nil), pipeline.SLAStages...)})
	if err != nil {
		return
	}
	view := c.n.slas.view()
	counts := map[[2]string]int{}
	var oldest time.Duration
	for _, l := range leads {
		if l.Stage == pipeline.Submitted && !l.StageTime.IsZero() {
			oldest = max(oldest, now.Sub(l.StageTime))
		}
		if st := view.status(l, now); st != nil && st.State != innonetpb.SlaStatus_ON_TIME {
			counts[[2]string{st.State.String(), st.MustAct}]++
		}
	}
	for k, v := range counts {
		ch <- prometheus.MustNewConstMetric(descSLA, prometheus.GaugeValue, float64(v), k[0], k[1])
	}
	ch <- prometheus.MustNewConstMetric(descOldestReview, prometheus.GaugeValue, oldest.Seconds())
}
