package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestParseEtcdReport(t *testing.T) {
	read := func(name string) string {
		t.Helper()
		b, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	tests := []struct {
		name string
		out  string
		want measurement
	}{
		{
			// Captured from `etcd-benchmark --precise ... put` (v3.5.11)
			// against etcd 3.4.23, standard output only.
			name: "put, precise",
			out:  read("put-precise.txt"),
			want: measurement{Requests: 100, Elapsed: 155350135 * time.Nanosecond, PerSecond: 643.7071972933915,
				P50: 1175351 * time.Nanosecond, P99: 9020217 * time.Nanosecond},
		},
		{
			name: "range, precise",
			out:  read("range-serializable-precise.txt"),
			want: measurement{Requests: 2000, Elapsed: 171732353 * time.Nanosecond, PerSecond: 11646.029213843009,
				P50: 3352300 * time.Nanosecond, P99: 22191890 * time.Nanosecond},
		},
		{
			// Without --precise the tool prints %4.4f; the lines are
			// those of report.go's String, sprintLatencies and errors.
			name: "default precision, some errors",
			out: "Summary:\n  Total:\t2.0000 secs.\n  Slowest:\t0.0400 secs.\n  Requests/sec:\t4999.5000\n\n" +
				"Latency distribution:\n  10% in 0.0010 secs.\n  50% in 0.0086 secs.\n  99% in 0.0211 secs.\n  99.9% in 0.0399 secs.\n\n" +
				"Error distribution:\n  [2]\tetcdserver: request timed out\n",
			want: measurement{Requests: 9999, Errors: 2, FirstError: "etcdserver: request timed out",
				Elapsed: 2 * time.Second, PerSecond: 4999.5, P50: 8600 * time.Microsecond, P99: 21100 * time.Microsecond},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseEtcdReport(tt.out)
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestParseEtcdReportFailures(t *testing.T) {
	tests := []struct {
		name, out, wantErr string
	}{
		{"nothing", "", "no summary"},
		{"only errors", "\nError distribution:\n  [10]\tcontext deadline exceeded\n", "every request failed (10 errors; context deadline exceeded)"},
		{"no median", "Summary:\n  Total:\t1 secs.\n  Requests/sec:\t10\n", "no 50% latency"},
		{"bad number", "Summary:\n  Total:\tNaN secs.\n  Requests/sec:\t10\n", "total"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parseEtcdReport(tt.out)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("got error %v, want one saying %q", err, tt.wantErr)
			}
		})
	}
}

func TestEtcdRunCommand(t *testing.T) {
	r := etcdRun{endpoint: "127.0.0.1:2379", clients: 64, conns: 8, args: []string{"range", "k", "--consistency", "s"}}
	got := strings.Join(r.command(), " ")
	want := "--endpoints 127.0.0.1:2379 --clients 64 --conns 8 --precise range k --consistency s"
	if got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}
