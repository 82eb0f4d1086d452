package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// etcdCluster is three etcd members on 127.0.0.1, plaintext, with etcd's
// default fsync and snapshot settings, each on a data dir of its own.
type etcdCluster struct {
	members []*etcdMember
	http    *http.Client
}

type etcdMember struct {
	name         string
	client, peer string // host:port
	proc         *process
}

// startEtcd starts the members under dir and waits until they have
// elected a leader.
func startEtcd(ctx context.Context, ps *procs, pp *ports, bin, dir string) (*etcdCluster, error) {
	c := &etcdCluster{http: &http.Client{Timeout: 5 * time.Second}}
	var initial []string
	for i := range 3 {
		client, err := pp.addr()
		if err != nil {
			return nil, err
		}
		peer, err := pp.addr()
		if err != nil {
			return nil, err
		}
		m := &etcdMember{name: fmt.Sprintf("etcd%d", i+1), client: client, peer: peer}
		c.members = append(c.members, m)
		initial = append(initial, m.name+"=http://"+peer)
	}
	token := fmt.Sprintf("innonet-bench-%d", time.Now().UnixNano())
	for _, m := range c.members {
		data := filepath.Join(dir, m.name)
		if err := os.MkdirAll(data, 0o700); err != nil {
			return nil, fmt.Errorf("data dir of %s: %w", m.name, err)
		}
		p, err := ps.start(m.name, filepath.Join(dir, m.name+".log"), nil, []string{"ETCD_"}, bin,
			"--name", m.name, "--data-dir", data,
			"--listen-client-urls", "http://"+m.client, "--advertise-client-urls", "http://"+m.client,
			"--listen-peer-urls", "http://"+m.peer, "--initial-advertise-peer-urls", "http://"+m.peer,
			"--initial-cluster", strings.Join(initial, ","), "--initial-cluster-token", token,
			"--initial-cluster-state", "new", "--logger", "zap", "--log-level", "warn")
		if err != nil {
			return nil, err
		}
		m.proc = p
	}
	err := poll(ctx, time.Minute, 100*time.Millisecond, func(ctx context.Context) error {
		_, _, _, err := c.roles(ctx)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("etcd did not elect a leader: %w", err)
	}
	return c, nil
}

// etcdStatus is what the benchmark reads of the answer of etcd's
// Maintenance.Status through etcd's JSON gateway (uint64s come as strings).
type etcdStatus struct {
	Header struct {
		MemberID string `json:"member_id"`
		RaftTerm string `json:"raft_term"`
	} `json:"header"`
	Leader string `json:"leader"`
}

// roles returns the client address of the leader and of a follower, once
// every member names the same leader, and the leader's Raft term.
func (c *etcdCluster) roles(ctx context.Context) (leader, follower string, term uint64, err error) {
	var lead string
	ids := make([]string, len(c.members))
	for i, m := range c.members {
		if done, err := m.proc.exited(); done {
			return "", "", 0, fmt.Errorf("%s: %w:\n%s", m.name, err, m.proc.tail(10))
		}
		var st etcdStatus
		if err := c.post(ctx, m.client, "/v3/maintenance/status", struct{}{}, &st); err != nil {
			return "", "", 0, fmt.Errorf("%s: %w", m.name, err)
		}
		if st.Leader == "" || st.Leader == "0" || (lead != "" && st.Leader != lead) {
			return "", "", 0, fmt.Errorf("%s: no leader yet", m.name)
		}
		lead = st.Leader
		ids[i] = st.Header.MemberID
		if t, err := strconv.ParseUint(st.Header.RaftTerm, 10, 64); err == nil {
			term = max(term, t)
		}
	}
	for i, m := range c.members {
		if ids[i] == lead {
			leader = m.client
		} else if follower == "" {
			follower = m.client
		}
	}
	if leader == "" || follower == "" {
		return "", "", 0, fmt.Errorf("leader %s is not one of the members", lead)
	}
	return leader, follower, term, nil
}

// put stores key with value, so that the read cells read something.
func (c *etcdCluster) put(ctx context.Context, addr, key string, value []byte) error {
	req := map[string]string{"key": base64.StdEncoding.EncodeToString([]byte(key)),
		"value": base64.StdEncoding.EncodeToString(value)}
	return c.post(ctx, addr, "/v3/kv/put", req, &struct{}{})
}

// post sends a request to etcd's JSON gateway (/v3/..., etcd 3.4 on).
func (c *etcdCluster) post(ctx context.Context, addr, path string, body, out any) error {
	b, err := json.Marshal(body)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://"+addr+path, bytes.NewReader(b))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	rb, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return fmt.Errorf("read %s: %w", path, err)
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: %s: %s", path, resp.Status, bytes.TrimSpace(rb))
	}
	if err := json.Unmarshal(rb, out); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}

// cpu is the CPU time the members have used so far.
func (c *etcdCluster) cpu() time.Duration {
	var sum time.Duration
	for _, m := range c.members {
		sum += m.proc.cpuTime()
	}
	return sum
}

// rss is the resident memory of each member, by name.
func (c *etcdCluster) rss() map[string]int64 {
	out := map[string]int64{}
	for _, m := range c.members {
		out[m.name] = m.proc.rssBytes()
	}
	return out
}

// poll calls cond every so often until it returns nil or timeout passes,
// and then returns cond's last error.
func poll(ctx context.Context, timeout, every time.Duration, cond func(ctx context.Context) error) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	for {
		err := cond(ctx)
		if err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("after %v: %w", timeout, err)
		case <-time.After(every):
		}
	}
}
