// Package wan measures innonet across continents and the China border
// (issue 17): the real binary with the wan Raft profile and TLS, every
// site's connections to every other site through a latency proxy of
// their own, and scenarios for leader placement, a border cut, a
// flapping border and throughput, each printed as a table.
//
// # The network
//
// Five voters (CGO bootstraps; BOS, CBG, MUC, TLV join) and three
// non-voters (the divisions BOHAI, YRD, PRD), each an `innonet serve`
// process on loopback, started with --dial-map so that its Raft and
// forwarding connections to each other site go through that ordered
// pair's proxy (toxiproxy as a library, in the test process; the
// Cluster and Network of tests/robustness). Each proxy delays each
// direction by half the pair's round trip ([DefaultMatrix]: CGO–BOS 230,
// CGO–CBG 200, CGO–MUC 180, CGO–TLV 200, BOS–CBG 75, BOS–MUC 95,
// BOS–TLV 140, CBG–MUC 20, CBG–TLV 70, MUC–TLV 55 ms; each division 25
// from CGO and that plus 10 to the others, 30 between divisions;
// -rtt overrides pairs). Clients dial each site directly, as a user
// would their own site. The sites run with --stabilization-time 3s,
// --dead-site-timeout 0 and the per-token rate limit lifted (the
// throughput scenario measures replication, not the limiter); with
// --leader-placement manual where the binary has that flag.
//
// # Scenarios
//
// Subtests of TestWAN, in this order (select with -run TestWAN/NAME):
//
//   - auto: a cluster of its own with --leader-placement auto, CGO
//     bootstrapping; the mix of six writes (below) for -auto-duration;
//     reports where the leader went and when, and the summed p50 of the
//     last quarter of the run against the best placement's floor sum
//     (target ≤ 1.15×). Skipped, saying so, when `innonet serve --help`
//     has no --leader-placement.
//   - placement: leadership transferred to each voter in turn (admin
//     API); per placement, the six kinds of write sequentially from
//     their natural origins — a node submit at each of BOS, CBG, MUC and
//     TLV, HQ's approval at CGO, a claim at the -claim-site division —
//     -samples each after -warmup untimed rounds; p50/p90 against the
//     physical floor (round trip from the origin to the leader plus the
//     leader's quorum round trip, the second-nearest other voter's) and
//     the ratio, and the sum of the six p50s against the best placement's
//     floor sum.
//   - throughput: leader at the best placement (MUC); -seq-samples
//     sequential submits, then -load-clients closed-loop submitters for
//     -load-duration at the leader's site (-load-origin nodes: spread
//     over the four nodes); writes/s and p50 under load against the
//     sequential p50, and the closed-loop bound clients/p50.
//   - cut: leader at -cut-leader (MUC); every link between the China
//     side (CGO and the divisions) and the overseas voters cut, both
//     ways (-cut-mode blackhole or refuse), for -cut. Meanwhile CGO
//     approves and the divisions claim every -pace, alternating
//     synchronous writes and writes with `x-innonet-allow-queued: true`
//     (queued intake: a site that queues answers with the gRPC header
//     x-innonet-queued), and the nodes submit. Then the border heals
//     (latencies kept) and every write's request ID is looked up in its
//     lead's history at the leader. Reports per site and mode what it
//     could do, how fast it was told, what was queued and what was
//     applied afterwards.
//   - flap: the border down -flap-down and up -flap-up for -flap-cycles
//     while every site writes; success rates, latencies, where leadership
//     ended, and how soon the cluster converged after the last heal.
//
// # What it asserts
//
// Only what must hold, never a speed ratio (those are measured and
// reported): every write succeeds in placement and throughput; during
// the cut every China-side write that was not queued is answered within
// -refusal-bound (default the target of twice the profile's election
// timeout, plus 2s for a loaded machine: 12s with wan; the report counts
// the answers later than the target itself); each
// queued write is applied exactly once after
// healing; the cluster is healthy after the cut and converges after the
// flapping.
//
// # Running
//
// Behind the build tag wan, so that `go test ./...` runs only the
// matrix's own tests. The short run (about 2-3 minutes on a 2-core
// machine; what CI runs):
//
//	go test -tags wan -run TestWAN -count=1 -timeout 10m -v ./tests/wan
//
// The long run (measurement: 20 samples per write and placement, a
// 2-minute cut, 6 flapping cycles, a 1-minute load and a 2-minute auto
// placement run once the binary has it; about 8 minutes, 10 with auto
// placement):
//
//	go test -tags wan -run TestWAN -count=1 -timeout 40m -v ./tests/wan -long -report wan-report.txt
//
// Other flags (after the package path): -bin PATH (default: go build
// ./cmd/innonet), -insecure, -raft-profile, -rtt, -request-timeout,
// -claim-site, -samples, -warmup, -auto-duration, -cut, -cut-mode,
// -cut-leader, -pace, -refusal-bound, -flap-cycles, -flap-down,
// -flap-up, -load-duration, -load-clients, -load-origin, -seq-samples,
// -keep (keep the work dir: data, logs/<site>.log and report.txt; always
// kept on failure).
//
// The figures are wall-clock latencies on the machine running all eight
// sites and the proxies: on a small shared machine they carry its
// noise, most under load.
package wan
