package node

import (
	"context"
	"fmt"

	"innonet/cluster"
	innonetpb "innonet/proto/innonet/v1"
)

// fetchStats asks member m, over its API, for its Raft progress: the
// leader's health checks (cluster.Config.FetchStats) call it every round.
func (n *Node) fetchStats(ctx context.Context, m cluster.Member) (cluster.Stats, error) {
	if m.APIAddr == "" {
		return cluster.Stats{}, fmt.Errorf("site %s has not published its API address", m.ID)
	}
	conn, err := n.peers.conn(m.ID, m.APIAddr)
	if err != nil {
		return cluster.Stats{}, err
	}
	st, err := innonetpb.NewClusterServiceClient(conn).GetSiteStats(ctx, &innonetpb.GetSiteStatsRequest{})
	if err != nil {
		return cluster.Stats{}, err
	}
	if st.Site != m.ID {
		return cluster.Stats{}, fmt.Errorf("address %s of site %s is served by site %s", m.APIAddr, m.ID, st.Site)
	}
	out := cluster.Stats{
		ID: st.Site, State: st.State, Term: st.Term, LastIndex: st.LastIndex, LastTerm: st.LastTerm,
		AppliedIndex: st.AppliedIndex, CommitIndex: st.CommitIndex, LastContact: st.LastContact.AsDuration(),
		Format: int(st.LogFormat), CheckpointIndex: st.CheckpointIndex, CheckpointDigest: st.CheckpointDigest,
		RTT: rttFromPB(st.Rtt),
	}
	if st.Time != nil {
		out.Time = st.Time.AsTime()
	}
	for _, a := range st.Alarms {
		out.Alarms = append(out.Alarms, cluster.Alarm{Kind: a.Kind, Detail: a.Detail, Since: a.Since.AsTime()})
	}
	return out, nil
}
