package cluster

import (
	"bytes"
	"log/slog"
	"strings"
	"sync"
	"testing"
)

// syncBuffer is a bytes.Buffer safe for the concurrent writes of a logger.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestRaftLogsGoToSlog checks that the Raft library's own log records
// arrive in the site's slog logger, structured, at the chosen level only.
func TestRaftLogsGoToSlog(t *testing.T) {
	var buf syncBuffer
	cfg := DefaultConfig()
	if err := cfg.UseProfile("test"); err != nil {
		t.Fatal(err)
	}
	cfg.ID, cfg.RaftAddr, cfg.DataDir, cfg.Bootstrap = "CGO", "127.0.0.1:0", t.TempDir(), true
	cfg.RaftLogLevel = "info"
	cfg.Logger = slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	c, err := New(cfg, &counterFSM{})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	eventually(t, "leadership", c.IsLeader)
	eventually(t, "raft's 'entering leader state' in the slog output", func() bool {
		return strings.Contains(buf.String(), `"msg":"entering leader state"`)
	})
	for _, line := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
		if !strings.Contains(line, `"component":"raft"`) {
			continue
		}
		if !strings.Contains(line, `"site":"CGO"`) {
			t.Errorf("raft record without the site: %s", line)
		}
		if strings.Contains(line, `"level":"DEBUG"`) {
			t.Errorf("raft debug record logged at raft log level info: %s", line)
		}
	}
}
