package node

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"mime/multipart"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"

	"innonet/node/attachments"
	"innonet/node/pipeline"
	innonetpb "innonet/proto/innonet/v1"
)

// fileOf returns n bytes that differ with seed.
func fileOf(n int, seed byte) []byte {
	b := make([]byte, n)
	r := rand.NewChaCha8([32]byte{seed})
	_, _ = r.Read(b)
	return b
}

func shaHex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// attachEnv is a cluster with a user per role and a lead of BOS.
type attachEnv struct {
	tc                       *testCluster
	admin, hq, bos, cbg, yrd string
	prd                      string
	lead                     string
}

// newAttachEnv starts a cluster, waits for log format 2, adds users and
// submits a lead as BOS staff; claimed makes HQ approve it and YRD claim it.
func newAttachEnv(t *testing.T, voters, nonVoters []string, claimed bool, tune ...func(*Config)) *attachEnv {
	t.Helper()
	tc := newTestCluster(t, voters, nonVoters, tune...)
	tc.waitFor("the cluster runs log format 2", func() bool { return tc.leaderNode().State().Format() >= pipeline.Format2 })
	e := &attachEnv{tc: tc, admin: testAdminToken,
		hq:  tc.addUser("Hui Reviewer", innonetpb.Role_HQ_REVIEWER, "", ""),
		bos: tc.addUser("Emily Carter", innonetpb.Role_NODE_STAFF, "BOS", ""),
		cbg: tc.addUser("Colin Cambridge", innonetpb.Role_NODE_STAFF, "CBG", ""),
		yrd: tc.addUser("Chen Jie", innonetpb.Role_DIVISION, "", "YRD"),
		prd: tc.addUser("Pei Delta", innonetpb.Role_DIVISION, "", "PRD"),
	}
	leader := tc.leaderNode()
	c := tc.clients(leader, e.bos)
	l, err := c.leads.SubmitLead(c.ctx(t), sampleLead("Quantensensor für Diagnostik"))
	if err != nil {
		t.Fatalf("submit: %v", err)
	}
	e.lead = l.Id
	if claimed {
		hq := tc.clients(leader, e.hq)
		if _, err := hq.leads.ReviewLead(hq.ctx(t), &innonetpb.ReviewLeadRequest{Id: l.Id, RequestId: rid(), Decision: innonetpb.Decision_APPROVE}); err != nil {
			t.Fatalf("approve: %v", err)
		}
		yrd := tc.clients(leader, e.yrd)
		if _, err := yrd.leads.ClaimLead(yrd.ctx(t), &innonetpb.ClaimLeadRequest{Id: l.Id, RequestId: rid()}); err != nil {
			t.Fatalf("claim: %v", err)
		}
	}
	return e
}

// upload sends data as the raw body of POST /v1/leads/{lead}/attachments
// with the query q, and returns the status and the decoded answer.
func uploadREST(t *testing.T, n *Node, token, lead, q, contentType string, body io.Reader) (int, map[string]any, http.Header) {
	t.Helper()
	c := newRESTClient(n)
	c.http.Timeout = time.Minute
	req, err := http.NewRequest(http.MethodPost, c.base+"/v1/leads/"+lead+"/attachments?"+q, body)
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := c.http.Do(req)
	if err != nil {
		t.Fatalf("upload: %v", err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var out map[string]any
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Fatalf("upload: status %d, body %q is not JSON", resp.StatusCode, raw)
	}
	return resp.StatusCode, out, resp.Header
}

// uploaded uploads data and fails t unless it is created.
func (e *attachEnv) uploaded(t *testing.T, n *Node, token string, data []byte, q string) map[string]any {
	t.Helper()
	code, out, _ := uploadREST(t, n, token, e.lead, "requestId="+rid()+"&"+q, "application/pdf", bytes.NewReader(data))
	if code != http.StatusCreated {
		t.Fatalf("upload: status %d %v, want 201", code, out)
	}
	return out["attachment"].(map[string]any)
}

// fetched is a download's answer.
type fetched struct {
	StatusCode int
	Header     http.Header
}

// download GETs an attachment; hdr are extra request headers.
func downloadREST(t *testing.T, n *Node, token, lead, sha string, hdr map[string]string) (fetched, []byte) {
	t.Helper()
	c := newRESTClient(n)
	c.http.Timeout = time.Minute
	req, err := http.NewRequest(http.MethodGet, c.base+"/v1/leads/"+lead+"/attachments/"+sha, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		t.Fatalf("download from %s: %v", n.Site(), err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("download from %s: %v", n.Site(), err)
	}
	return fetched{resp.StatusCode, resp.Header}, b
}

// stored waits until every running site of tc holds the file sha.
func stored(t *testing.T, tc *testCluster, sha string, sites ...string) {
	t.Helper()
	if len(sites) == 0 {
		sites = tc.order
	}
	for _, id := range sites {
		n := tc.node(id)
		if n == nil {
			continue
		}
		tc.waitFor(id+" holds the attachment", func() bool { return n.Files().Has(sha) })
	}
}

// TestAttachmentUploadReplicates: a file uploaded at one site is served,
// byte for byte, by every other site, over TLS between the sites, while
// the log and the snapshots carry only its SHA-256 and metadata.
func TestAttachmentUploadReplicates(t *testing.T) {
	e := newAttachEnv(t, []string{"CGO", "BOS", "CBG"}, []string{"YRD"}, false, withTLS(t))
	tc := e.tc
	data := fileOf(5<<20, 1) // far over the 1 MiB limit of other requests
	// Boston's staff upload through their own site, which may not lead.
	up := tc.node("BOS")
	start := time.Now()
	a := e.uploaded(t, up, e.bos, data, "name=Präsentation+路演.pdf&comment=Pitch+deck+v2")
	uploadTook := time.Since(start)
	sha := shaHex(data)
	if a["sha256"] != sha || a["size"] != fmt.Sprint(len(data)) || a["originSite"] != "BOS" || a["visibility"] != "SHARED" ||
		a["addedByName"] != "Emily Carter" || a["name"] != "Präsentation 路演.pdf" || a["contentType"] != "application/pdf" {
		t.Fatalf("uploaded: %v", a)
	}
	stored(t, tc, sha)
	t.Logf("%d MiB uploaded at BOS in %s (stored, committed); held by all %d sites %s after the upload began",
		len(data)>>20, uploadTook.Round(time.Millisecond), len(tc.order), time.Since(start).Round(time.Millisecond))
	var resp fetched
	var part []byte
	for _, id := range tc.order {
		resp, got := downloadREST(t, tc.node(id), e.hq, e.lead, sha, nil)
		if resp.StatusCode != http.StatusOK || !bytes.Equal(got, data) {
			t.Fatalf("download from %s: status %d, %d bytes; want 200 and the %d bytes uploaded", id, resp.StatusCode, len(got), len(data))
		}
		for k, want := range map[string]string{
			"Content-Type": "application/pdf", "Content-Length": fmt.Sprint(len(data)), "ETag": `"` + sha + `"`,
			"Content-Disposition": "attachment; filename*=utf-8''Pr%C3%A4sentation%20%E8%B7%AF%E6%BC%94.pdf",
			"X-Innonet-Read-Site": id, "X-Content-Type-Options": "nosniff",
		} {
			if got := resp.Header.Get(k); got != want {
				t.Errorf("download from %s: %s = %q, want %q", id, k, got, want)
			}
		}
	}
	// Over HTTP/2, as curl and browsers speak it with TLS.
	h2 := &http.Client{Timeout: time.Minute, Transport: &http.Transport{ForceAttemptHTTP2: true,
		TLSClientConfig: &tls.Config{RootCAs: testCAPoolOnce()}}}
	second := fileOf(3<<20, 21)
	req, _ := http.NewRequest(http.MethodPost, "https://"+tc.node("CBG").Addr()+"/v1/leads/"+e.lead+"/attachments?requestId="+rid()+"&name=second.bin", bytes.NewReader(second))
	do2 := func(req *http.Request) (code, proto int, body []byte) {
		t.Helper()
		req.Header.Set("Authorization", "Bearer "+e.bos)
		r, err := h2.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer r.Body.Close()
		body, _ = io.ReadAll(r.Body)
		return r.StatusCode, r.ProtoMajor, body
	}
	code, proto, raw := do2(req)
	if code != http.StatusCreated || proto != 2 || !strings.Contains(string(raw), shaHex(second)) {
		t.Fatalf("upload over HTTP/%d: %d %s", proto, code, raw)
	}
	req, _ = http.NewRequest(http.MethodGet, "https://"+tc.node("CGO").Addr()+"/v1/leads/"+e.lead+"/attachments/"+shaHex(second), nil)
	if code, proto, raw = do2(req); code != http.StatusOK || proto != 2 || !bytes.Equal(raw, second) {
		t.Errorf("download over HTTP/%d: %d, %d bytes", proto, code, len(raw))
	}
	// Ranges and conditional requests.
	resp, part = downloadREST(t, tc.node("CBG"), e.hq, e.lead, sha, map[string]string{"Range": "bytes=100-199"})
	if resp.StatusCode != http.StatusPartialContent || !bytes.Equal(part, data[100:200]) {
		t.Errorf("range: status %d, %d bytes", resp.StatusCode, len(part))
	}
	resp, _ = downloadREST(t, tc.node("YRD"), e.hq, e.lead, sha, map[string]string{"If-None-Match": `"` + sha + `"`})
	if resp.StatusCode != http.StatusNotModified {
		t.Errorf("If-None-Match: status %d, want 304", resp.StatusCode)
	}
	// The same bytes over gRPC, from the read replica.
	c := tc.clients(tc.node("YRD"), e.hq)
	stream, err := c.leads.DownloadAttachment(c.ctx(t), &innonetpb.DownloadAttachmentRequest{Id: e.lead, Sha256: sha})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	var first *innonetpb.Attachment
	for {
		m, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("gRPC download: %v", err)
		}
		if first == nil {
			first = m.Attachment
		}
		buf.Write(m.Chunk)
	}
	if !bytes.Equal(buf.Bytes(), data) || first.GetSha256() != sha || !first.GetStored() {
		t.Errorf("gRPC download: %d bytes, attachment %v", buf.Len(), first)
	}
	// The lead counts it, the history shows it, the state does not hold it.
	l, err := c.leads.GetLead(c.ctx(t), &innonetpb.GetLeadRequest{Id: e.lead})
	if err != nil || l.AttachmentCount != 2 {
		t.Errorf("lead: %v, attachment count %d; want 2", err, l.GetAttachmentCount())
	}
	h, err := c.leads.GetLeadHistory(c.ctx(t), &innonetpb.GetLeadHistoryRequest{Id: e.lead})
	if err != nil {
		t.Fatal(err)
	}
	if ev := h.Events[len(h.Events)-2]; ev.Action != pipeline.ActionAddAttachment || ev.Comment != "Pitch deck v2" || ev.OriginSite != "BOS" {
		t.Errorf("the upload's event: %v", ev)
	}
	entry, err := pipeline.Command{Op: pipeline.OpAddAttachment, RequestID: "0190f0c4-8a3b-7c1d-9e2f-3a4b5c6d7e8f", Actor: "user-0003",
		Origin: "BOS", Time: time.Now().UnixNano(), LeadID: e.lead, Comment: "Pitch deck v2", ActorToken: "tok-0003",
		Attachment: &pipeline.NewAttachment{SHA256: sha, Name: "Präsentation 路演.pdf", ContentType: "application/pdf",
			Size: int64(len(data)), Visibility: pipeline.AttachmentShared}}.Encode()
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range tc.order {
		var snap bytes.Buffer
		if _, err := tc.node(id).State().Snapshot().WriteTo(&snap); err != nil {
			t.Fatal(err)
		}
		if id == tc.order[0] {
			t.Logf("the log entry of an upload is %d bytes; the whole state's snapshot, with two files of %d MiB in all, %d bytes",
				len(entry), (len(data)+len(second))>>20, snap.Len())
		}
		if snap.Len() > 64<<10 {
			t.Errorf("the snapshot of %s is %d bytes for a %d-byte file: the bytes leaked into the state", id, snap.Len(), len(data))
		}
	}
}

// TestAttachmentLateJoiner: a site that joins after the upload catches up
// by a snapshot (the log it would need is compacted) and then fetches the
// bytes, which the snapshot does not hold.
func TestAttachmentLateJoiner(t *testing.T) {
	e := newAttachEnv(t, []string{"CGO", "BOS", "CBG"}, nil, false, withTLS(t), func(c *Config) { c.Cluster.TrailingLogs = 2 })
	tc := e.tc
	data := fileOf(300<<10, 2)
	e.uploaded(t, tc.node("CBG"), e.bos, data, "name=deck.pdf")
	sha := shaHex(data)
	stored(t, tc, sha)
	leader := tc.leaderNode()
	// Compact the log past the upload: a new site must be sent the
	// snapshot.
	c := tc.clients(leader, e.bos)
	for range 5 {
		if _, err := c.leads.SubmitLead(c.ctx(t), sampleLead("After the upload")); err != nil {
			t.Fatal(err)
		}
	}
	if err := leader.Cluster().Snapshot(); err != nil {
		t.Fatalf("snapshot: %v", err)
	}
	cfg := testConfig(t, "MUC", withTLS(t))
	cfg.Join, cfg.NonVoter = leader.Addr(), true
	tc.start("MUC", cfg)
	muc := tc.node("MUC")
	tc.waitFor("MUC holds the attachment", func() bool { return muc.Files().Has(sha) })
	if n := snapshotCount(t, tc, "MUC"); n == 0 {
		t.Errorf("MUC holds no snapshot: it caught up from the log, not by a snapshot")
	}
	resp, got := downloadREST(t, muc, e.bos, e.lead, sha, nil)
	if resp.StatusCode != http.StatusOK || !bytes.Equal(got, data) {
		t.Fatalf("download from MUC: status %d, %d bytes", resp.StatusCode, len(got))
	}
}

// TestAttachmentUploaderDown: the site that received the upload goes
// down once another site holds the bytes; a site that was down during
// the upload still gets them, from that other site.
func TestAttachmentUploaderDown(t *testing.T) {
	e := newAttachEnv(t, []string{"CGO", "BOS", "CBG"}, []string{"YRD"}, false, withTLS(t))
	tc := e.tc
	tc.stop("YRD")
	uploader := tc.follower(false)
	data := fileOf(1<<20, 3)
	e.uploaded(t, uploader, e.bos, data, "name=nda.pdf")
	sha := shaHex(data)
	var other string
	for _, id := range []string{"CGO", "BOS", "CBG"} {
		if id != uploader.Site() {
			other = id
			break
		}
	}
	stored(t, tc, sha, other)
	tc.stop(uploader.Site())
	tc.restart("YRD")
	yrd := tc.node("YRD")
	tc.waitFor("YRD holds the attachment", func() bool { return yrd.Files().Has(sha) })
	resp, got := downloadREST(t, yrd, e.hq, e.lead, sha, nil)
	if resp.StatusCode != http.StatusOK || !bytes.Equal(got, data) {
		t.Fatalf("download from YRD with %s down: status %d, %d bytes", uploader.Site(), resp.StatusCode, len(got))
	}
}

// TestAttachmentDamagedRefetched: a stored file whose bytes changed on
// disk is found out when it is read, moved aside, and fetched again from
// a peer; the download gets the right bytes.
func TestAttachmentDamagedRefetched(t *testing.T) {
	e := newAttachEnv(t, []string{"CGO", "BOS", "CBG"}, nil, false, withTLS(t))
	tc := e.tc
	data := fileOf(200<<10, 4)
	e.uploaded(t, tc.node("BOS"), e.bos, data, "name=deck.pdf")
	sha := shaHex(data)
	stored(t, tc, sha)
	n := tc.node("CBG")
	path := n.Files().Path(sha)
	bad := append([]byte(nil), data...)
	bad[1000] ^= 0xff
	if err := os.WriteFile(path, bad, 0o600); err != nil {
		t.Fatal(err)
	}
	later := time.Now().Add(time.Second)
	_ = os.Chtimes(path, later, later)
	resp, got := downloadREST(t, n, e.hq, e.lead, sha, nil)
	if resp.StatusCode != http.StatusOK || !bytes.Equal(got, data) {
		t.Fatalf("download of a damaged file: status %d, right bytes %v", resp.StatusCode, bytes.Equal(got, data))
	}
	if n.Files().Corrupt() != 1 {
		t.Errorf("damaged files found: %d, want 1", n.Files().Corrupt())
	}
	aside, _ := filepath.Glob(filepath.Join(n.Files().Dir(), "corrupt", sha+".*"))
	if len(aside) != 1 {
		t.Errorf("moved aside: %v", aside)
	}
	// Damage that keeps the file's size and time is found by the scrub.
	info, _ := os.Stat(path)
	if err := os.WriteFile(path, bad, 0o600); err != nil {
		t.Fatal(err)
	}
	_ = os.Chtimes(path, info.ModTime(), info.ModTime())
	if got := n.Fetcher().Scrub(context.Background()); got != 1 {
		t.Fatalf("scrub found %d damaged files, want 1", got)
	}
	tc.waitFor("the scrubbed file fetched again", func() bool {
		f, err := n.Files().Open(sha)
		if err != nil {
			return false
		}
		f.Close()
		return true
	})
}

// TestAttachmentSizeLimit: an upload over the site's limit is refused
// (413, RESOURCE_EXHAUSTED) however it is sent, and nothing is stored;
// one of exactly the limit, 20 MiB by default, passes the guard's 1 MiB
// limit on other requests.
func TestAttachmentSizeLimit(t *testing.T) {
	e := newAttachEnv(t, []string{"CGO"}, nil, false)
	n := e.tc.node("CGO")
	max := int(DefaultMaxAttachmentBytes)
	limit := fileOf(max, 5)
	before := e.digest(t)
	over := append(append([]byte(nil), limit...), 'x')
	code, out, _ := uploadREST(t, n, e.bos, e.lead, "requestId=big-1&name=big.bin", "", bytes.NewReader(over))
	if code != http.StatusRequestEntityTooLarge {
		t.Errorf("with Content-Length: status %d %v, want 413", code, out)
	}
	// Without a Content-Length the limit holds as the bytes arrive.
	pr, pw := io.Pipe()
	go func() {
		_, _ = pw.Write(over)
		pw.Close()
	}()
	code, out, _ = uploadREST(t, n, e.bos, e.lead, "requestId=big-2&name=big.bin", "", pr)
	if code != http.StatusRequestEntityTooLarge || !strings.Contains(fmt.Sprint(out["message"]), "--max-attachment-bytes") {
		t.Errorf("chunked: status %d %v, want 413 naming the flag", code, out)
	}
	c := e.tc.clients(n, e.bos)
	stream, err := c.leads.UploadAttachment(c.ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	_ = stream.Send(&innonetpb.UploadAttachmentRequest{Part: &innonetpb.UploadAttachmentRequest_Header{Header: &innonetpb.AttachmentHeader{
		Id: e.lead, RequestId: "big-3", Name: "big.bin"}}})
	for off := 0; off < len(over); off += 64 << 10 {
		if err := stream.Send(&innonetpb.UploadAttachmentRequest{Part: &innonetpb.UploadAttachmentRequest_Chunk{Chunk: over[off:min(off+64<<10, len(over))]}}); err != nil {
			break
		}
	}
	_, err = stream.CloseAndRecv()
	checkStatus(t, err, codes.ResourceExhausted, "at most 20971520 bytes")
	if after := e.digest(t); after != before {
		t.Errorf("a refused upload changed the state")
	}
	if list, _ := n.Files().List(); len(list) != 0 {
		t.Errorf("a refused upload stored %d files", len(list))
	}
	start := time.Now()
	code, out, _ = uploadREST(t, n, e.bos, e.lead, "requestId=big-4&name=big.bin", "", bytes.NewReader(limit))
	if code != http.StatusCreated {
		t.Fatalf("exactly the limit: status %d %v, want 201", code, out)
	}
	t.Logf("an upload of %d MiB over REST took %s", max>>20, time.Since(start).Round(time.Millisecond))
}

// digest is the state without its applied index.
func (e *attachEnv) digest(t *testing.T) string {
	t.Helper()
	var buf bytes.Buffer
	if _, err := e.tc.leaderNode().State().Snapshot().WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	_, body, _ := bytes.Cut(buf.Bytes(), []byte("\n"))
	return string(body)
}

// TestAttachmentUploadChecks: a SHA-256 or size the bytes do not match,
// an empty file, unknown parameters and a file part that is not last are
// refused and store nothing; the same bytes again are the same
// attachment; a retry answers as the first time; multipart uploads work.
func TestAttachmentUploadChecks(t *testing.T) {
	e := newAttachEnv(t, []string{"CGO"}, nil, false)
	n := e.tc.node("CGO")
	data := fileOf(10000, 6)
	sha := shaHex(data)
	for _, tt := range []struct {
		name, q string
		body    []byte
		code    int
		msg     string
	}{
		{"another SHA-256", "name=a.pdf&sha256=" + shaHex([]byte("other")), data, 400, "sha256: the file that arrived does not match"},
		{"empty", "name=a.pdf", nil, 400, "file: is empty"},
		{"no name", "", data, 400, "name: is required"},
		{"a path as name", "name=../../a.pdf", data, 400, "name: must be a file name"},
		{"unknown parameter", "name=a.pdf&folder=x", data, 400, "unknown query parameter folder"},
		{"unknown visibility", "name=a.pdf&visibility=secret", data, 400, "visibility"},
		{"staff keep it to a division", "name=a.pdf&visibility=division", data, 403, "adds SHARED ones"},
		{"no request ID", "name=a.pdf&requestId=", data, 400, "request_id: is required"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			q := tt.q
			if !strings.Contains(q, "requestId=") {
				q += "&requestId=" + rid()
			}
			code, out, _ := uploadREST(t, n, e.bos, e.lead, q, "application/pdf", bytes.NewReader(tt.body))
			if code != tt.code || !strings.Contains(fmt.Sprint(out["message"]), tt.msg) {
				t.Errorf("status %d %v, want %d with %q", code, out, tt.code, tt.msg)
			}
			if list, _ := n.Files().List(); len(list) != 0 {
				t.Errorf("a refused upload stored %d files", len(list))
			}
		})
	}
	q := "requestId=first&name=deck.pdf&sha256=" + strings.ToUpper(sha)
	code, first, hdr := uploadREST(t, n, e.bos, e.lead, q, "application/PDF; charset=binary", bytes.NewReader(data))
	if code != http.StatusCreated || hdr.Get("Location") != "/v1/leads/"+e.lead+"/attachments/"+sha {
		t.Fatalf("upload: %d %v %v", code, first, hdr)
	}
	if a := first["attachment"].(map[string]any); a["contentType"] != "application/pdf" {
		t.Errorf("content type %v, want application/pdf", a["contentType"])
	}
	code, retry, _ := uploadREST(t, n, e.bos, e.lead, q, "application/pdf", bytes.NewReader(data))
	if code != http.StatusCreated || fmt.Sprint(retry) != fmt.Sprint(first) {
		t.Errorf("retry: %d %v, want the first answer %v", code, retry, first)
	}
	code, again, _ := uploadREST(t, n, e.hq, e.lead, "requestId=again&name=copy.pdf", "", bytes.NewReader(data))
	if a := again["attachment"].(map[string]any); code != http.StatusOK || again["changed"] != false || a["name"] != "deck.pdf" {
		t.Errorf("the same bytes again: %d %v, want 200, unchanged, the first name", code, again)
	}
	// A multipart form, as curl -F and browsers send it.
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	_ = mw.WriteField("requestId", rid())
	_ = mw.WriteField("comment", "signed NDA")
	fw, _ := mw.CreateFormFile("file", "NDA signed.pdf")
	other := fileOf(3000, 7)
	_, _ = fw.Write(other)
	_ = mw.Close()
	code, out, _ := uploadREST(t, n, e.bos, e.lead, "", mw.FormDataContentType(), &body)
	if a, _ := out["attachment"].(map[string]any); code != http.StatusCreated || a["name"] != "NDA signed.pdf" || a["sha256"] != shaHex(other) || a["comment"] != "signed NDA" {
		t.Errorf("multipart: %d %v", code, out)
	}
	// A field after the file: refused, nothing stored.
	body.Reset()
	mw = multipart.NewWriter(&body)
	_ = mw.WriteField("requestId", rid())
	fw, _ = mw.CreateFormFile("file", "late.pdf")
	_, _ = fw.Write(fileOf(3000, 8))
	_ = mw.WriteField("comment", "too late")
	_ = mw.Close()
	code, out, _ = uploadREST(t, n, e.bos, e.lead, "", mw.FormDataContentType(), &body)
	if code != http.StatusBadRequest || !strings.Contains(fmt.Sprint(out["message"]), "last part") || n.Files().Has(shaHex(fileOf(3000, 8))) {
		t.Errorf("field after the file: %d %v", code, out)
	}
	// Other methods on the paths: 405 with Allow.
	rc := newRESTClient(n)
	for path, allow := range map[string]string{
		"/v1/leads/" + e.lead + "/attachments":        "GET, HEAD, POST",
		"/v1/leads/" + e.lead + "/attachments/" + sha: "GET, HEAD, DELETE",
	} {
		req, _ := http.NewRequest(http.MethodPut, rc.base+path, nil)
		req.Header.Set("Authorization", "Bearer "+e.bos)
		resp, err := rc.http.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusMethodNotAllowed || resp.Header.Get("Allow") != allow {
			t.Errorf("PUT %s: %d Allow %q, want 405 %q", path, resp.StatusCode, resp.Header.Get("Allow"), allow)
		}
	}
}

// TestAttachmentVisibility: who may add, list, download and remove, on a
// lead YRD holds, with a document YRD keeps to itself; the history shows
// others that it was added, not its comment.
func TestAttachmentVisibility(t *testing.T) {
	e := newAttachEnv(t, []string{"CGO"}, nil, true)
	n := e.tc.node("CGO")
	deck, terms := fileOf(4000, 9), fileOf(5000, 10)
	e.uploaded(t, n, e.bos, deck, "name=deck.pdf")
	private := e.uploaded(t, n, e.yrd, terms, "name=term+sheet.pdf&comment=our+offer+is+42M")
	if private["visibility"] != "DIVISION" || private["division"] != "YRD" {
		t.Fatalf("a division's upload: %v, want DIVISION by default", private)
	}
	// Refused uploads take no bytes.
	for _, tt := range []struct {
		who, token string
		code       int
	}{{"other site", e.cbg, 403}, {"rival division", e.prd, 403}, {"admin", e.admin, 403}} {
		other := fileOf(1000, 11)
		code, out, _ := uploadREST(t, n, tt.token, e.lead, "requestId="+rid()+"&name=x.pdf", "", bytes.NewReader(other))
		if code != tt.code || n.Files().Has(shaHex(other)) {
			t.Errorf("upload by %s: %d %v (stored %v), want %d and nothing stored", tt.who, code, out, n.Files().Has(shaHex(other)), tt.code)
		}
	}
	rc := newRESTClient(n)
	for _, tt := range []struct {
		who, token string
		list       []string // names listed
		deck, term int      // download status codes
	}{
		{"HQ", e.hq, []string{"deck.pdf", "term sheet.pdf"}, 200, 200},
		{"admin", e.admin, []string{"deck.pdf", "term sheet.pdf"}, 200, 200},
		{"BOS staff", e.bos, []string{"deck.pdf"}, 200, 403},
		{"holder", e.yrd, []string{"deck.pdf", "term sheet.pdf"}, 200, 200},
		{"rival", e.prd, []string{"deck.pdf"}, 200, 403},
		{"other site", e.cbg, nil, 403, 403},
	} {
		t.Run(tt.who, func(t *testing.T) {
			code, out := rc.do(t, http.MethodGet, "/v1/leads/"+e.lead+"/attachments", tt.token, nil)
			var names []string
			if list, ok := out["attachments"].([]any); ok {
				for _, a := range list {
					names = append(names, a.(map[string]any)["name"].(string))
				}
			}
			if wantCode := map[bool]int{true: 200, false: 403}[tt.list != nil]; code != wantCode || strings.Join(names, "|") != strings.Join(tt.list, "|") {
				t.Errorf("list: %d %v, want %d %v", code, names, wantCode, tt.list)
			}
			for _, d := range []struct {
				data []byte
				want int
			}{{deck, tt.deck}, {terms, tt.term}} {
				if resp, _ := downloadREST(t, n, tt.token, e.lead, shaHex(d.data), nil); resp.StatusCode != d.want {
					t.Errorf("download: %d, want %d", resp.StatusCode, d.want)
				}
			}
			if tt.list == nil {
				return
			}
			l := rc.ok(t, http.MethodGet, "/v1/leads/"+e.lead, tt.token, nil)
			if got := fmt.Sprint(l["attachmentCount"]); got != fmt.Sprint(len(tt.list)) {
				t.Errorf("attachmentCount %s, want %d", got, len(tt.list))
			}
			h := rc.ok(t, http.MethodGet, "/v1/leads/"+e.lead+"/history", tt.token, nil)
			events := h["events"].([]any)
			last := events[len(events)-1].(map[string]any)
			wantComment := ""
			if len(tt.list) == 2 {
				wantComment = "our offer is 42M"
			}
			if last["action"] != pipeline.ActionAddAttachment || last["comment"] != wantComment {
				t.Errorf("last event %v, want ADD_ATTACHMENT with comment %q", last, wantComment)
			}
		})
	}
	// Removal: the rival may not, BOS may not remove YRD's, HQ may.
	code, out := rc.do(t, http.MethodDelete, "/v1/leads/"+e.lead+"/attachments/"+shaHex(deck)+"?requestId="+rid(), e.yrd, nil)
	if code != http.StatusForbidden || !strings.Contains(fmt.Sprint(out["message"]), "added for BOS") {
		t.Errorf("YRD removes BOS's: %d %v, want 403", code, out)
	}
	code, _ = rc.do(t, http.MethodDelete, "/v1/leads/"+e.lead+"/attachments/"+shaHex(terms)+"?requestId="+rid(), e.bos, nil)
	if code != http.StatusNotFound {
		t.Errorf("BOS removes YRD's private one: %d, want 404", code)
	}
	out = rc.ok(t, http.MethodDelete, "/v1/leads/"+e.lead+"/attachments/"+shaHex(deck)+"?requestId="+rid(), e.hq, nil)
	if a := out["attachment"].(map[string]any); out["changed"] != true || a["removedByName"] != "Hui Reviewer" {
		t.Errorf("HQ removes: %v", out)
	}
	if resp, _ := downloadREST(t, n, e.hq, e.lead, shaHex(deck), nil); resp.StatusCode != http.StatusNotFound {
		t.Errorf("download of a removed attachment: %d, want 404", resp.StatusCode)
	}
	out = rc.ok(t, http.MethodGet, "/v1/leads/"+e.lead+"/attachments?includeRemoved=true&consistency=STALE", e.hq, nil)
	if list := out["attachments"].([]any); len(list) != 2 {
		t.Errorf("with removed ones: %v", list)
	}
	for _, path := range []string{"/v1/leads/" + e.lead + "/attachments?include_removed=true&removed=1",
		"/v1/leads/" + e.lead + "/attachments/" + shaHex(deck) + "?inline=1"} {
		code, out := rc.do(t, http.MethodGet, path, e.hq, nil)
		if code != http.StatusBadRequest || !strings.Contains(fmt.Sprint(out["message"]), "unknown query parameter") {
			t.Errorf("GET %s: %d %v, want 400 naming the parameter", path, code, out)
		}
	}
}

// TestAttachmentFetchNeedsSiteCertificate: with TLS, the bytes are served
// to sites only, and a client cannot register bytes it did not upload.
func TestAttachmentFetchNeedsSiteCertificate(t *testing.T) {
	mine, _ := pki(t)
	e := newAttachEnv(t, []string{"CGO"}, nil, false, withTLS(t))
	n := e.tc.node("CGO")
	data := fileOf(1000, 12)
	e.uploaded(t, n, e.bos, data, "name=a.pdf")
	fetch := func(c innonetpb.ClusterServiceClient) error {
		ctx, cancel := context.WithTimeout(withToken(context.Background(), e.admin), 10*time.Second)
		defer cancel()
		stream, err := c.FetchAttachment(ctx, &innonetpb.FetchAttachmentRequest{Sha256: shaHex(data)})
		if err != nil {
			return err
		}
		_, err = stream.Recv()
		return err
	}
	checkStatus(t, fetch(innonetpb.NewClusterServiceClient(e.tc.conn(n))), codes.PermissionDenied, "site certificate")
	if err := fetch(innonetpb.NewClusterServiceClient(peerConn(t, n, mine, "BOS"))); err != nil {
		t.Errorf("a site fetching: %v", err)
	}
	c := e.tc.clients(n, e.bos)
	_, err := c.leads.RegisterAttachment(c.ctx(t), &innonetpb.RegisterAttachmentRequest{Header: &innonetpb.AttachmentHeader{
		Id: e.lead, RequestId: rid(), Name: "fake.pdf", Size: 10, Sha256: shaHex([]byte("not uploaded"))}})
	checkStatus(t, err, codes.PermissionDenied, "not by clients")
}

// TestAttachmentDownloadWaitsForFetch: a site asked for bytes it does not
// hold fetches them on demand; when no site can give them it answers 503
// with Retry-After.
func TestAttachmentDownloadWaitsForFetch(t *testing.T) {
	e := newAttachEnv(t, []string{"CGO", "BOS", "CBG"}, nil, false, withTLS(t), func(c *Config) {
		c.AttachmentFetchWait = 500 * time.Millisecond
		c.AttachmentFetch = attachments.Config{RetryMin: time.Hour, RetryMax: time.Hour}
	})
	tc := e.tc
	data := fileOf(1000, 13)
	e.uploaded(t, tc.node("BOS"), e.bos, data, "name=a.pdf")
	sha := shaHex(data)
	// Every copy but BOS's gone (the others may not have fetched it yet,
	// or may be backing off for an hour): CGO fetches on demand.
	for _, id := range []string{"CGO", "CBG"} {
		tc.waitFor(id+" knows the attachment", func() bool { _, ok := tc.node(id).State().FileNamed(sha); return ok })
		if err := tc.node(id).Files().Remove(sha); err != nil {
			t.Fatal(err)
		}
	}
	if resp, got := downloadREST(t, tc.node("CGO"), e.hq, e.lead, sha, nil); resp.StatusCode != 200 || !bytes.Equal(got, data) {
		t.Errorf("download from a site without the bytes: %d, want 200 and the bytes", resp.StatusCode)
	}
	// Every copy gone. A fetch a site queued earlier (its own, after the
	// upload) may still bring one back, so remove them again until a
	// download finds none: it must then be 503.
	var resp fetched
	var body []byte
	tc.waitFor("a download with no copy anywhere", func() bool {
		for _, id := range tc.order {
			if err := tc.node(id).Files().Remove(sha); err != nil {
				t.Fatal(err)
			}
		}
		resp, body = downloadREST(t, tc.node("BOS"), e.hq, e.lead, sha, nil)
		return resp.StatusCode != http.StatusOK
	})
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") != "5" || !strings.Contains(string(body), "does not hold the bytes") {
		t.Errorf("no copy anywhere: %d Retry-After %q %s, want 503 with Retry-After 5", resp.StatusCode, resp.Header.Get("Retry-After"), body)
	}
}
