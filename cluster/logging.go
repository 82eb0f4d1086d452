package cluster

import (
	"context"
	"io"
	"log/slog"

	"github.com/hashicorp/go-hclog"
)

// raftLogger returns an hclog.Logger for the Raft library (and autopilot)
// whose records go to log, the site's slog logger, at level and above, so
// a site writes one stream of structured logs.
func raftLogger(log *slog.Logger, level string) hclog.Logger {
	if level == "off" {
		return hclog.NewNullLogger()
	}
	lvl := hclog.LevelFromString(level)
	if lvl == hclog.NoLevel {
		lvl = hclog.Warn
	}
	il := hclog.NewInterceptLogger(&hclog.LoggerOptions{Name: "raft", Output: io.Discard, Level: lvl})
	il.RegisterSink(&slogSink{log: log.With("component", "raft"), min: lvl})
	return il
}

// slogSink forwards hclog records to slog. hclog hands every record to its
// sinks whatever the logger's level, so the sink filters.
type slogSink struct {
	log *slog.Logger
	min hclog.Level
}

func (s *slogSink) Accept(name string, level hclog.Level, msg string, args ...any) {
	if level < s.min || level == hclog.Off {
		return
	}
	var l slog.Level
	switch {
	case level <= hclog.Debug:
		l = slog.LevelDebug
	case level == hclog.Info:
		l = slog.LevelInfo
	case level == hclog.Warn:
		l = slog.LevelWarn
	default:
		l = slog.LevelError
	}
	if name != "" && name != "raft" {
		args = append([]any{"logger", name}, args...)
	}
	s.log.Log(context.Background(), l, msg, args...)
}
