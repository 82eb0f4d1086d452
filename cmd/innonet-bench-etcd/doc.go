// Command innonet-bench-etcd measures innonet against etcd, side by side,
// on this machine (issue 18). It is a tool for people comparing the two;
// it is not part of CI, and its figures are only as quiet as the machine.
//
// It starts two clusters of three members each on 127.0.0.1, plaintext:
// innonet as three real `innonet serve` processes (CGO bootstraps, BOS and
// CBG join; built from this repository unless -innonet names a binary),
// and etcd as three `etcd` processes with their default fsync, each on a
// data dir of its own. Then it runs every cell of the comparison, innonet
// then etcd, round after round (A B A B):
//
//	write-leader-1    SubmitLead to the leader, 1 client  | put to the leader, 1 client
//	write-leader-64   the same with 64 clients            | put, 64 clients
//	write-follower-64 SubmitLead to a follower, 64        | put to a follower, 64
//	read-stale-64     GetLead STALE at the leader, 64     | serializable range, 64
//	read-linear-64    GetLead LINEARIZABLE, 64            | linearizable range, 64
//
// innonet's write is a SubmitLead of a new lead with a 457-byte protobuf
// body; etcd's is etcd's own benchmark tool (`benchmark put --key-size 16
// --val-size 450 --sequential-keys`, and `benchmark range` for reads),
// whose report this tool reads. innonet's load is generated here, in Go,
// the way etcd's tool does it: N clients sharing M gRPC connections, a
// fixed number of requests, latencies of the successful ones.
//
// After each run it waits until the cluster is quiet (its three
// processes under 0.1 s of CPU in a second, at most two minutes): an
// innonet site keeps its search and duplicate indexes after it answers,
// and that work is counted in the CPU per request instead of running
// into the other system's turn.
//
// For each cell it prints both systems' median over the rounds (requests
// per second, p50, p99) and the median of the per-round ratios
// innonet/etcd with their min–max; -json writes the same figures, with
// every round's, for a program.
//
// It installs nothing. It needs etcd and etcd's benchmark tool, found on
// PATH or named by -etcd and -etcd-benchmark:
//
//	apt-get install -y etcd-server
//	mkdir /tmp/etcd-benchmark && cd /tmp/etcd-benchmark && go mod init etcd-benchmark &&
//	  go get go.etcd.io/etcd/v3@v3.5.11 &&
//	  go build -o "$(go env GOPATH)/bin/etcd-benchmark" go.etcd.io/etcd/v3/tools/benchmark
//
// (`go install ...@v3.5.11` refuses that module: its go.mod has replace
// directives.)
//
// Usage, from the repository's root:
//
//	go run ./cmd/innonet-bench-etcd                     # 3 rounds
//	go run ./cmd/innonet-bench-etcd -rounds 1 -short    # a quick check
//	go run ./cmd/innonet-bench-etcd -json results.json
//
// Everything it starts runs under a temporary directory, which it
// removes at the end (-keep leaves it, with every process's log); it
// stops every process it started, by PID, at the end, on an error and on
// Ctrl-C. Each run of a cell is bounded by -run-timeout and the whole
// benchmark by -timeout.
package main
