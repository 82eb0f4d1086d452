package pipeline

import (
	"crypto/sha256"
	"encoding/hex"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"
)

// snapshotLeads sizes the state of BenchmarkSnapshot; the default keeps a
// plain `go test -bench .` short. The figures in the notes come from
//
//	go test -run '^$' -bench 'Snapshot$' -benchtime 1x -timeout 60m -v ./node/pipeline/ -snapshot.leads 100000
//
// (-snapshot.formats v4-zstd measures one format only).
var (
	snapshotLeads   = flag.Int("snapshot.leads", 2000, "leads in BenchmarkSnapshot's state")
	snapshotFormats = flag.String("snapshot.formats", "json,v4-none,v4-zstd", "formats BenchmarkSnapshot measures")
)

// realisticTemplate applies real commands to a state at log format 2:
// n leads in every stage, with the history a lead gathers on its way
// (reviews, claims, stage moves, comments, deal terms, translations,
// edits), and returns it with the number of its lead IDs per site.
func realisticTemplate(tb testing.TB, n int) *fixture {
	tb.Helper()
	f := newFlowFixture(tb)
	rnd := rand.New(rand.NewPCG(18, 18))
	// Words of random syllables (some 60,000 of them) and a few real
	// ones: text about as compressible as prose, where a short list of
	// words would flatter the compression.
	syllables := strings.Fields("ka ri to mu se na lo be di fa ge hu ji ko lu me ni po qu ra su te vi wo xa yu ze an el in on un " +
		"ber chen dor fel gan hol jun kes lin mor")
	known := strings.Fields("battery separator ceramic quantum sensor hydrogen Festkörper Wasserstoff מימן סוללה 电池 隔膜 氢能 传感器")
	word := func() string {
		if rnd.IntN(5) == 0 {
			return known[rnd.IntN(len(known))]
		}
		var b strings.Builder
		for range 2 + rnd.IntN(3) {
			b.WriteString(syllables[rnd.IntN(len(syllables))])
		}
		return b.String()
	}
	text := func(n int) string {
		var b strings.Builder
		for b.Len() < n {
			b.WriteString(word())
			b.WriteByte(' ')
		}
		return strings.TrimSpace(b.String())
	}
	draft := func() *Draft {
		d := validDraft()
		d.Title = text(30 + rnd.IntN(50))
		d.Summary = text(200 + rnd.IntN(600))
		d.Organization = []string{"MIT Lincoln Lab", "Technische Universität München", "Weizmann Institute", "Cambridge Enterprise"}[rnd.IntN(4)]
		d.Country = []string{"US", "DE", "IL", "GB"}[rnd.IntN(4)]
		d.Sector = Sector(1 + rnd.IntN(int(OtherSector)))
		d.TRL = 1 + rnd.IntN(9)
		d.Tags = strings.Fields(text(10 + rnd.IntN(30)))
		if len(d.Tags) > 5 {
			d.Tags = d.Tags[:5]
		}
		return d
	}
	divisions := []string{"bohai", "yrd", "prd"}
	for i := range n {
		staff := []string{"bos", "cbg"}[i%2]
		id := f.ok(staff, Command{Op: OpSubmit, Draft: draft()}).Lead.ID
		if rnd.IntN(3) == 0 {
			f.ok(staff, Command{Op: OpUpdate, LeadID: id, Patch: &Patch{Summary: strp(text(300))}})
		}
		if rnd.IntN(4) == 0 {
			f.ok("hq", Command{Op: OpTranslate, LeadID: id, Translation: &TranslationInput{Lang: "zh", Title: "固态电池隔膜", Status: TranslationDraft}})
		}
		switch r := rnd.IntN(20); {
		case r < 5: // still in review
		case r < 6:
			f.ok("hq", Command{Op: OpReview, LeadID: id, Decision: Decline, Comment: "out of scope for the zone"})
		case r < 8:
			f.ok("hq", Command{Op: OpReview, LeadID: id, Decision: Return, Comment: "please add the licensing terms"})
		case r < 9:
			f.ok(staff, Command{Op: OpWithdraw, LeadID: id, Comment: "partner went elsewhere"})
		default:
			f.ok("hq", Command{Op: OpReview, LeadID: id, Decision: Approve, Comment: "good fit"})
			if r < 12 {
				break
			}
			div := divisions[rnd.IntN(len(divisions))]
			f.ok(div, Command{Op: OpClaim, LeadID: id, Comment: "a Suzhou partner is interested"})
			f.ok(div, Command{Op: OpComment, LeadID: id, Comment: text(60 + rnd.IntN(200)), Visibility: Shared})
			f.ok(div, Command{Op: OpAdvance, LeadID: id, Stage: Negotiating, Comment: "first meeting held"})
			f.ok(div, Command{Op: OpSetDeal, LeadID: id, Deal: &DealPatch{Amount: strp("42000000"), Currency: strp("CNY"), Jobs: intp(20 + rnd.IntN(200))}})
			if r < 16 {
				break
			}
			f.ok(div, Command{Op: OpAdvance, LeadID: id, Stage: Signed, Comment: "agreement signed"})
			if r < 18 {
				break
			}
			f.ok(div, Command{Op: OpAdvance, LeadID: id, Stage: Landed, Comment: "company registered in the zone"})
		}
	}
	return f
}

// realisticState is a state of n leads: the leads of a template of real
// commands, copied under new IDs (with their events, comments and request
// records) until there are n, as fast as memdb inserts them.
func realisticState(tb testing.TB, n int) *State {
	tb.Helper()
	// A template large enough that no frame holds two copies of a row,
	// which would flatter the compression.
	const templ = 5000
	f := realisticTemplate(tb, min(n, templ))
	src := f.st.read()
	var leads []*Lead
	for raw := range mustIter(tb, src, tableLeads) {
		leads = append(leads, raw.(*Lead))
	}
	byLead := func(table string) map[string][]any {
		out := map[string][]any{}
		for raw := range mustIter(tb, src, table) {
			var id string
			switch v := raw.(type) {
			case *Event:
				id = v.LeadID
			case *Comment:
				id = v.LeadID
			case *request:
				id = v.LeadID
			}
			out[id] = append(out[id], raw)
		}
		return out
	}
	events, comments, requests := byLead(tableEvents), byLead(tableComments), byLead(tableRequests)

	st := f.st
	txn := st.write()
	next := map[string]int{}
	for _, l := range leads {
		next[l.Site] = max(next[l.Site], leadNumber(l.ID))
	}
	logIndex := f.index
	var reqs int
	for copyN := 1; len(leads)*copyN < n; copyN++ {
		for i, l := range leads {
			if len(leads)*copyN+i >= n {
				break
			}
			next[l.Site]++
			id := fmt.Sprintf("%s-%04d", l.Site, next[l.Site])
			c := l.clone()
			c.ID = id
			mustInsert(tb, txn, tableLeads, c)
			for _, raw := range events[l.ID] {
				e := *raw.(*Event)
				e.LeadID, e.Key = id, id+e.Key[len(l.ID):]
				logIndex++
				e.LogIndex = logIndex
				mustInsert(tb, txn, tableEvents, &e)
			}
			for _, raw := range comments[l.ID] {
				cm := *raw.(*Comment)
				cm.LeadID, cm.Key = id, id+cm.Key[len(l.ID):]
				mustInsert(tb, txn, tableComments, &cm)
			}
			for _, raw := range requests[l.ID] {
				r := *raw.(*request)
				reqs++
				actor, _, _ := strings.Cut(r.Key, "/")
				r.Key, r.LeadID = fmt.Sprintf("%s/%s", actor, uuid.NewSHA1(uuid.NameSpaceOID, fmt.Appendf(nil, "%d", reqs))), id
				sum := sha256.Sum256([]byte(r.Key))
				r.Fingerprint = hex.EncodeToString(sum[:])
				mustInsert(tb, txn, tableRequests, &r)
			}
		}
	}
	for site, v := range next {
		mustInsert(tb, txn, tableCounters, &counter{Name: "lead/" + site, Value: int64(v)})
	}
	st.publish(txn, logIndex)
	return st
}

func leadNumber(id string) int {
	var n int
	_, _ = fmt.Sscanf(id[strings.IndexByte(id, '-')+1:], "%d", &n)
	return n
}

func mustInsert(tb testing.TB, txn *tx, table string, obj any) {
	tb.Helper()
	if err := insertRow(txn, table, obj); err != nil {
		tb.Fatalf("insert into %s: %v", table, err)
	}
}

func mustIter(tb testing.TB, txn *tx, table string) func(func(any) bool) {
	tb.Helper()
	it, err := rowsOf(txn, table, "")
	if err != nil {
		tb.Fatal(err)
	}
	return func(yield func(any) bool) {
		for raw := it.Next(); raw != nil; raw = it.Next() {
			if !yield(raw) {
				return
			}
		}
	}
}

// cpuTime is the CPU time (user and system) the process has used: on a
// shared machine a steadier measure than the wall clock.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkSnapshot takes and restores snapshots of a realistic state in
// each format. Each write goes to a file (no fsync); the state is dropped
// before the restores, which read those files. It reports the time per
// operation (writing, or restoring, the whole state) and the CPU time it
// took (of both cores: the garbage collector's too), the snapshot's
// bytes per lead and the heap the restored state holds per lead.
func BenchmarkSnapshot(b *testing.B) {
	n := *snapshotLeads
	dir := b.TempDir()
	type writer struct {
		name  string
		write func(*Snapshot, io.Writer) (int64, error)
	}
	writers := []writer{
		{"json", (*Snapshot).WriteJSON},
		{"v4-none", func(sn *Snapshot, w io.Writer) (int64, error) { return sn.writeV4(w, codecNone) }},
		{"v4-zstd", func(sn *Snapshot, w io.Writer) (int64, error) { return sn.writeV4(w, codecZstd) }},
	}
	writers = slices.DeleteFunc(writers, func(w writer) bool { return !slices.Contains(strings.Split(*snapshotFormats, ","), w.name) })
	func() {
		start := time.Now()
		var st *State
		heap := heapOf(b, func() any { st = realisticState(b, n); return st })
		rows := allRows(b, st)
		b.Logf("%d leads (%.1f events, %.1f requests, %.2f comments each) built in %v; heap %.0f bytes per lead",
			n, float64(len(rows[tableEvents]))/float64(n), float64(len(rows[tableRequests]))/float64(n),
			float64(len(rows[tableComments]))/float64(n), time.Since(start).Round(time.Millisecond), float64(heap)/float64(n))
		sn := st.Snapshot()
		for _, w := range writers {
			b.Run(w.name+"/write", func(b *testing.B) {
				var size int64
				runtime.GC()
				cpu := cpuTime()
				for b.Loop() {
					file, err := os.Create(filepath.Join(dir, w.name))
					if err != nil {
						b.Fatal(err)
					}
					if size, err = w.write(sn, file); err != nil {
						b.Fatal(err)
					}
					if err := file.Close(); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(cpuTime()-cpu)/float64(b.N)/1e6, "cpu-ms/op")
				b.ReportMetric(float64(size)/float64(n), "B/lead")
				b.ReportMetric(float64(size)/1e6, "MB")
			})
		}
	}()
	for _, w := range writers {
		b.Run(w.name+"/restore", func(b *testing.B) {
			restore := func() any {
				file, err := os.Open(filepath.Join(dir, w.name))
				if err != nil {
					b.Fatal(err)
				}
				defer file.Close()
				got := New()
				if err := got.Restore(file); err != nil {
					b.Fatal(err)
				}
				return got
			}
			runtime.GC()
			cpu := cpuTime()
			for b.Loop() {
				restore()
			}
			b.ReportMetric(float64(cpuTime()-cpu)/float64(b.N)/1e6, "cpu-ms/op")
			b.ReportMetric(float64(heapOf(b, restore))/float64(n), "heapB/lead")
		})
	}
}
