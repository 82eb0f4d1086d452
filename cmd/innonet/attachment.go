package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"mime"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"

	pb "innonet/proto/innonet/v1"
)

// transferTimeout bounds a request that moves a file: 20 MiB over a slow
// WAN link take minutes.
const transferTimeout = 10 * time.Minute

// attachmentCommand is `innonet attachment`: the documents of leads.
type attachmentCommand struct{ streams }

func (c *attachmentCommand) Run(ctx context.Context, args []string) error {
	return attachmentGroup.run(ctx, c.streams, args)
}

var attachmentGroup = group{
	name: "attachment",
	summary: `Works with the documents of leads: pitch decks, NDAs, term sheets. The
site you upload to stores the file and commits only its SHA-256, name,
type and size; every other site fetches the bytes from a peer, so every
site serves every attachment. Node staff of the lead's site and HQ add
SHARED documents; the division holding a lead adds its own, DIVISION by
default (seen by it and HQ only).`,
	subs: []subcommand{
		{"add", "upload a file to a lead", attachmentAdd},
		{"list", "list the attachments of a lead you may see", attachmentList},
		{"get", "download an attachment (checked against its SHA-256)", attachmentGet},
		{"remove", "remove an attachment (HQ, or the site or division that added it)", attachmentRemove},
		{"export", "download every attachment you may see into a directory, for a backup", attachmentExport},
		{"verify", "check the files of a directory against their SHA-256 (offline)", attachmentVerify},
	},
	examples: `  export INNONET_ADDR=127.0.0.1:7102 INNONET_TOKEN=<Boston node staff token>
  innonet attachment add BOS-0003 "Pitch deck.pdf" --comment "Deck v2"
  innonet attachment list BOS-0003
  innonet attachment get BOS-0003 9f86d081 --out deck.pdf
  INNONET_TOKEN=$YRD innonet attachment add BOS-0003 term-sheet.pdf       # DIVISION: YRD and HQ only
  INNONET_TOKEN=$HQ innonet attachment export --out /backup/attachments
  innonet attachment verify /var/lib/innonet/attachments
`,
}

func attachmentAdd(ctx context.Context, std streams, args []string) error {
	f := newFlags(std, "attachment add", `Usage: innonet attachment add LEAD FILE [--name NAME] [--type TYPE] [--visibility shared|division] [--comment TEXT] [flags]

Uploads FILE (- for stdin, which needs --name) to a lead. The SHA-256 is
computed first and sent with the upload, so the site refuses the file if
a byte changed on the way. Prints the attachment. The same bytes uploaded
again to the same lead are the attachment that is there (nothing
changes); a retry with the same --request-id returns the first answer.
Sites refuse files over their --max-attachment-bytes (20 MiB by default).

Examples:
  innonet attachment add BOS-0003 "Pitch deck.pdf" --comment "Deck v2"
  INNONET_TOKEN=$YRD innonet attachment add BOS-0003 term-sheet.pdf --visibility division
  pg_dump ... | innonet attachment add BOS-0003 - --name data-room.sql --type application/sql
`)
	cf, wf := addClientFlags(f, transferTimeout), addWriteFlags(f)
	ev := addExpectedVersion(f)
	h := &pb.AttachmentHeader{}
	f.StringVar(&h.Name, "name", "", "the file name the attachment shows (default: FILE's base name)")
	f.StringVar(&h.ContentType, "type", "", "media `TYPE`, e.g. application/pdf (default: from the name's extension)")
	f.Var(enumFlag(&h.Visibility, pb.Attachment_Visibility_value), "visibility",
		"who sees it besides HQ: shared (everyone who may see the lead) or division (the adding division only); default: division for a division, shared for everyone else")
	f.StringVar(&h.Comment, "comment", "", "what it is (kept in the lead's history)")
	pos, err := f.parse(args, 2, 2)
	if err != nil {
		return err
	}
	path := pos[1]
	if path == "-" && h.Name == "" {
		return f.fail("--name is required when the file comes from stdin")
	}
	if h.Name == "" {
		h.Name = filepath.Base(path)
	}
	if h.ContentType == "" {
		h.ContentType = mime.TypeByExtension(strings.ToLower(filepath.Ext(h.Name)))
	}
	h.Id, h.RequestId, h.ExpectedVersion = leadID(pos[0]), wf.id(), *ev
	// The file is read twice (hash, then upload), and again for a retry:
	// stdin is kept in a temporary file.
	if path == "-" {
		tmp, err := os.CreateTemp("", "innonet-upload-*")
		if err != nil {
			return err
		}
		defer func() { _ = os.Remove(tmp.Name()) }()
		_, err = io.Copy(tmp, std.in())
		tmp.Close()
		if err != nil {
			return fmt.Errorf("read stdin: %w", err)
		}
		path = tmp.Name()
	}
	sum, size, err := hashFile(path)
	if err != nil {
		return err
	}
	h.Sha256, h.Size = sum, size
	c, err := cf.connect()
	if err != nil {
		return err
	}
	defer c.Close()
	var res *pb.AttachmentResult
	err = c.write(ctx, std, wf.retries, wf.id(), func(ctx context.Context) error {
		var err error
		res, err = upload(ctx, c, h, path)
		return err
	})
	if err != nil {
		return err
	}
	if cf.json {
		return printJSON(std.out(), res)
	}
	if !res.Changed {
		fmt.Fprintf(std.errOut(), "innonet: lead %s already holds these bytes as %q: nothing changed\n", h.Id, res.Attachment.Name)
	}
	return printAttachments(std.out(), []*pb.Attachment{res.Attachment})
}

// upload sends the header and the file at path in chunks.
func upload(ctx context.Context, c *client, h *pb.AttachmentHeader, path string) (*pb.AttachmentResult, error) {
	file, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer file.Close()
	stream, err := c.leads.UploadAttachment(ctx)
	if err != nil {
		return nil, err
	}
	// A send fails with io.EOF when the site has answered (refused the
	// upload): its answer comes from CloseAndRecv.
	if err := stream.Send(&pb.UploadAttachmentRequest{Part: &pb.UploadAttachmentRequest_Header{Header: h}}); err != nil && !errors.Is(err, io.EOF) {
		return nil, err
	}
	buf := make([]byte, 64<<10)
	for {
		n, rerr := file.Read(buf)
		if n > 0 {
			if err := stream.Send(&pb.UploadAttachmentRequest{Part: &pb.UploadAttachmentRequest_Chunk{Chunk: buf[:n]}}); err != nil {
				if errors.Is(err, io.EOF) {
					break
				}
				return nil, err
			}
		}
		if errors.Is(rerr, io.EOF) {
			break
		}
		if rerr != nil {
			return nil, fmt.Errorf("read %s: %w", path, rerr)
		}
	}
	return stream.CloseAndRecv()
}

func hashFile(path string) (string, int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", 0, err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return "", 0, fmt.Errorf("read %s: %w", path, err)
	}
	return hex.EncodeToString(h.Sum(nil)), n, nil
}

func attachmentList(ctx context.Context, std streams, args []string) error {
	f := newFlags(std, "attachment list", `Usage: innonet attachment list LEAD [--removed] [flags]

Lists the attachments of a lead that you may see, oldest first. STORED
says whether the site that answered holds the bytes yet (a site fetches
what it lacks from its peers within seconds). With --json it prints a
ListAttachmentsResponse.

Examples:
  innonet attachment list BOS-0003
  innonet attachment list BOS-0003 --json | jq -r '.attachments[] | [.sha256, .name] | @tsv'
  INNONET_ADDR=127.0.0.1:7107 innonet attachment list BOS-0003 --consistency stale
`)
	cf := addClientFlags(f, defaultTimeout)
	rf := addReadFlags(f)
	removed := f.Bool("removed", false, "also list removed attachments")
	pos, err := f.parse(args, 1, 1)
	if err != nil {
		return err
	}
	c, err := cf.connect()
	if err != nil {
		return err
	}
	defer c.Close()
	var resp *pb.ListAttachmentsResponse
	var header metadata.MD
	err = c.call(ctx, func(ctx context.Context) (err error) {
		resp, err = c.leads.ListAttachments(ctx, &pb.ListAttachmentsRequest{Id: leadID(pos[0]), IncludeRemoved: *removed,
			Consistency: rf.consistency, MaxStaleness: rf.staleness()}, grpc.Header(&header))
		return err
	})
	if err != nil {
		return err
	}
	resp.Read = readInfo(resp.Read, header)
	if cf.json {
		return printJSON(std.out(), resp)
	}
	if err := printAttachments(std.out(), resp.Attachments); err != nil {
		return err
	}
	printReadInfo(std.errOut(), resp.Read)
	return nil
}

// printAttachments prints attachments as a table, one per row.
func printAttachments(w io.Writer, atts []*pb.Attachment) error {
	t := newTable(w, "SHA256", "NAME", "SIZE", "TYPE", "VISIBILITY", "ADDED BY", "ADDED", "STORED", "REMOVED")
	for _, a := range atts {
		vis := enumText(a.Visibility)
		if a.Visibility == pb.Attachment_DIVISION {
			vis += " " + a.Division
		}
		removed := ""
		if a.RemoveTime != nil {
			removed = timeText(a.RemoveTime) + " by " + a.RemovedByName
		}
		t.row(a.Sha256[:min(12, len(a.Sha256))], clipText(a.Name, 50), sizeText(a.Size), a.ContentType, vis,
			a.AddedByName+" ("+a.AddedFor+")", timeText(a.AddTime), yesNo(a.Stored), removed)
	}
	return t.flush()
}

// sizeText prints a size in the largest unit that keeps it readable.
func sizeText(n int64) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}

// findAttachment resolves a SHA-256 or a prefix of one (at least 8 hex
// digits) among the attachments of a lead the caller sees.
func findAttachment(ctx context.Context, c *client, lead, sha string) (*pb.Attachment, error) {
	sha = strings.ToLower(sha)
	var resp *pb.ListAttachmentsResponse
	err := c.call(ctx, func(ctx context.Context) (err error) {
		resp, err = c.leads.ListAttachments(ctx, &pb.ListAttachmentsRequest{Id: lead})
		return err
	})
	if err != nil {
		return nil, err
	}
	var found []*pb.Attachment
	for _, a := range resp.Attachments {
		if strings.HasPrefix(a.Sha256, sha) && (len(found) == 0 || found[0].Sha256 != a.Sha256) {
			found = append(found, a)
		}
	}
	switch {
	case len(found) == 0:
		return nil, fmt.Errorf("lead %s has no attachment %s that you may see (innonet attachment list %s)", lead, sha, lead)
	case len(found) > 1:
		return nil, fmt.Errorf("%s names %d attachments of lead %s: give more of the SHA-256", sha, len(found), lead)
	}
	return found[0], nil
}

func attachmentGet(ctx context.Context, std streams, args []string) error {
	f := newFlags(std, "attachment get", `Usage: innonet attachment get LEAD SHA256 [--out FILE] [flags]

Downloads an attachment, named by its SHA-256 or a prefix of at least 8
of its hex digits, from the site you talk to (which fetches it from a
peer first if it does not hold it yet). The bytes are checked against the
SHA-256 as they arrive and written to FILE.tmp, then renamed to FILE
(default: the attachment's name, in the current directory); --out -
writes them to stdout. Prints the file written (--json: the attachment).

Examples:
  innonet attachment get BOS-0003 9f86d081
  innonet attachment get BOS-0003 9f86d081 --out /tmp/deck.pdf
  innonet attachment get BOS-0003 9f86d081 --out - | pdftotext - -
`)
	cf := addClientFlags(f, transferTimeout)
	out := f.String("out", "", "where to write the file (default: its name, in the current directory); - for stdout")
	pos, err := f.parse(args, 2, 2)
	if err != nil {
		return err
	}
	lead, sha := leadID(pos[0]), strings.ToLower(pos[1])
	if len(sha) < 8 || strings.Trim(sha, "0123456789abcdef") != "" {
		return f.fail("SHA256 %q: want the attachment's SHA-256, or at least its first 8 hex digits", pos[1])
	}
	c, err := cf.connect()
	if err != nil {
		return err
	}
	defer c.Close()
	if len(sha) < 64 {
		a, err := findAttachment(ctx, c, lead, sha)
		if err != nil {
			return err
		}
		sha = a.Sha256
	}
	if *out == "-" {
		_, err := download(ctx, c, lead, sha, std.out())
		return err
	}
	var a *pb.Attachment
	path := *out
	tmp := ""
	err = func() error {
		dir := "."
		if path != "" {
			dir = filepath.Dir(path)
		}
		file, err := os.CreateTemp(dir, ".innonet-download-*")
		if err != nil {
			return err
		}
		tmp = file.Name()
		defer file.Close()
		if a, err = download(ctx, c, lead, sha, file); err != nil {
			return err
		}
		if err := file.Sync(); err != nil {
			return err
		}
		return file.Close()
	}()
	if err != nil {
		if tmp != "" {
			_ = os.Remove(tmp)
		}
		return err
	}
	if path == "" {
		path = safeName(a.Name)
	}
	if err := os.Rename(tmp, path); err != nil {
		_ = os.Remove(tmp)
		return err
	}
	if cf.json {
		return printJSON(std.out(), a)
	}
	fmt.Fprintf(std.out(), "%s\t%s\t%s\n", path, sizeText(a.Size), a.Sha256)
	return nil
}

// safeName keeps a downloaded file in the current directory whatever the
// attachment's name says.
func safeName(name string) string {
	name = filepath.Base(strings.ReplaceAll(name, `\`, "/"))
	if name == "." || name == "/" || name == ".." || name == "" {
		return "attachment"
	}
	return name
}

// download streams an attachment into w and checks it against its
// SHA-256; it returns the attachment.
func download(ctx context.Context, c *client, lead, sha string, w io.Writer) (*pb.Attachment, error) {
	ctx, cancel := context.WithTimeout(c.authorize(ctx), c.timeout)
	defer cancel()
	stream, err := c.leads.DownloadAttachment(ctx, &pb.DownloadAttachmentRequest{Id: lead, Sha256: sha})
	if err != nil {
		return nil, asAPIError(err)
	}
	h := sha256.New()
	var a *pb.Attachment
	var n int64
	for {
		m, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, asAPIError(err)
		}
		if a == nil {
			a = m.Attachment
		}
		h.Write(m.Chunk)
		if _, err := w.Write(m.Chunk); err != nil {
			return nil, err
		}
		n += int64(len(m.Chunk))
	}
	if got := hex.EncodeToString(h.Sum(nil)); a == nil || got != sha || n != a.Size {
		return nil, fmt.Errorf("the download of %s does not match its SHA-256 (%d bytes, SHA-256 %s): not kept; try again or another site", sha, n, got)
	}
	return a, nil
}

func attachmentRemove(ctx context.Context, std streams, args []string) error {
	f := newFlags(std, "attachment remove", `Usage: innonet attachment remove LEAD SHA256 [--visibility shared|division] [--comment TEXT] [flags]

Removes an attachment: HQ reviewers any, others what their site or
division added. The history keeps its name and SHA-256; every site
deletes the bytes within an hour unless another attachment names them.
--visibility is needed only when the lead holds the same bytes twice.

Examples:
  innonet attachment remove BOS-0003 9f86d081 --comment "wrong file"
`)
	cf, wf := addClientFlags(f, defaultTimeout), addWriteFlags(f)
	ev := addExpectedVersion(f)
	req := &pb.RemoveAttachmentRequest{}
	f.Var(enumFlag(&req.Visibility, pb.Attachment_Visibility_value), "visibility", "which of the two attachments of the same bytes: shared or division")
	f.StringVar(&req.Comment, "comment", "", "why (kept in the lead's history)")
	pos, err := f.parse(args, 2, 2)
	if err != nil {
		return err
	}
	req.Id, req.Sha256, req.RequestId, req.ExpectedVersion = leadID(pos[0]), strings.ToLower(pos[1]), wf.id(), *ev
	c, err := cf.connect()
	if err != nil {
		return err
	}
	defer c.Close()
	if len(req.Sha256) < 64 {
		a, err := findAttachment(ctx, c, req.Id, req.Sha256)
		if err != nil {
			return err
		}
		req.Sha256 = a.Sha256
	}
	var res *pb.AttachmentResult
	err = c.write(ctx, std, wf.retries, wf.id(), func(ctx context.Context) (err error) {
		res, err = c.leads.RemoveAttachment(ctx, req)
		return err
	})
	if err != nil {
		return err
	}
	if cf.json {
		return printJSON(std.out(), res)
	}
	return printAttachments(std.out(), []*pb.Attachment{res.Attachment})
}

// exportEntry is one line of an export's manifest.json.
type exportEntry struct {
	Lead        string `json:"lead"`
	SHA256      string `json:"sha256"`
	Name        string `json:"name"`
	ContentType string `json:"contentType"`
	Size        int64  `json:"size"`
	Visibility  string `json:"visibility"`
	AddedBy     string `json:"addedBy"`
	AddTime     string `json:"addTime"`
}

func attachmentExport(ctx context.Context, std streams, args []string) error {
	f := newFlags(std, "attachment export", `Usage: innonet attachment export --out DIR [--lead ID]... [flags]

Downloads every attachment you may see (of every lead, or of the leads
given) into DIR, as DIR/<sha256>, checked against the SHA-256, and writes
DIR/manifest.json naming each file's lead, name and type. Files already in
DIR with the right bytes are not downloaded again, so running it again
brings a backup up to date. Backups of the pipeline (innonet backup) hold
the attachments' names and hashes but not their bytes: keep an export, or
a copy of a site's <data-dir>/attachments, beside them. Run it as HQ to
export everything, DIVISION documents included.

Examples:
  INNONET_TOKEN=$HQ innonet attachment export --out /backup/attachments
  innonet attachment verify /backup/attachments
`)
	cf := addClientFlags(f, transferTimeout)
	dir := f.String("out", "", "the directory to write to (required; created if needed)")
	var leads []string
	f.Func("lead", "export only the attachments of lead `ID` (repeatable)", func(s string) error {
		leads = append(leads, leadID(s))
		return nil
	})
	f.check(func() error {
		if *dir == "" {
			return fmt.Errorf("--out is required")
		}
		return nil
	})
	if _, err := f.parse(args, 0, 0); err != nil {
		return err
	}
	if err := os.MkdirAll(*dir, 0o700); err != nil {
		return err
	}
	c, err := cf.connect()
	if err != nil {
		return err
	}
	defer c.Close()
	if len(leads) == 0 {
		req := &pb.ListLeadsRequest{PageSize: 500}
		for {
			var resp *pb.ListLeadsResponse
			if err := c.call(ctx, func(ctx context.Context) (err error) {
				resp, err = c.leads.ListLeads(ctx, req)
				return err
			}); err != nil {
				return err
			}
			for _, l := range resp.Leads {
				if l.AttachmentCount > 0 {
					leads = append(leads, l.Id)
				}
			}
			if resp.NextPageToken == "" {
				break
			}
			req.PageToken = resp.NextPageToken
		}
	}
	var manifest []exportEntry
	fetched, kept, bytes := 0, 0, int64(0)
	for _, lead := range leads {
		var resp *pb.ListAttachmentsResponse
		if err := c.call(ctx, func(ctx context.Context) (err error) {
			resp, err = c.leads.ListAttachments(ctx, &pb.ListAttachmentsRequest{Id: lead})
			return err
		}); err != nil {
			return err
		}
		for _, a := range resp.Attachments {
			manifest = append(manifest, exportEntry{Lead: lead, SHA256: a.Sha256, Name: a.Name, ContentType: a.ContentType,
				Size: a.Size, Visibility: enumText(a.Visibility), AddedBy: a.AddedByName, AddTime: timeText(a.AddTime)})
			path := filepath.Join(*dir, a.Sha256)
			if sum, _, err := hashFile(path); err == nil && sum == a.Sha256 {
				kept++
				continue
			}
			if err := exportFile(ctx, c, lead, a.Sha256, path); err != nil {
				return fmt.Errorf("export %s of %s: %w", a.Sha256, lead, err)
			}
			fetched++
			bytes += a.Size
		}
	}
	sort.Slice(manifest, func(i, j int) bool {
		if manifest[i].Lead != manifest[j].Lead {
			return manifest[i].Lead < manifest[j].Lead
		}
		return manifest[i].SHA256 < manifest[j].SHA256
	})
	b, _ := json.MarshalIndent(manifest, "", "  ")
	if err := os.WriteFile(filepath.Join(*dir, "manifest.json"), append(b, '\n'), 0o600); err != nil {
		return err
	}
	if cf.json {
		out, _ := json.MarshalIndent(map[string]any{"dir": *dir, "attachments": len(manifest), "downloaded": fetched,
			"alreadyThere": kept, "bytes": bytes}, "", "  ")
		_, err := fmt.Fprintf(std.out(), "%s\n", out)
		return err
	}
	t := newTable(std.out(), "DIR", "ATTACHMENTS", "DOWNLOADED", "ALREADY THERE", "BYTES DOWNLOADED")
	t.row(*dir, fmt.Sprint(len(manifest)), fmt.Sprint(fetched), fmt.Sprint(kept), sizeText(bytes))
	return t.flush()
}

// exportFile downloads one attachment into path, through path.tmp.
func exportFile(ctx context.Context, c *client, lead, sha, path string) error {
	tmp := path + ".tmp"
	file, err := os.OpenFile(tmp, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	_, err = download(ctx, c, lead, sha, file)
	if err == nil {
		err = file.Sync()
	}
	if cerr := file.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		_ = os.Remove(tmp)
		return err
	}
	return os.Rename(tmp, path)
}

func attachmentVerify(_ context.Context, std streams, args []string) error {
	f := newFlags(std, "attachment verify", `Usage: innonet attachment verify DIR [--json]

Checks, offline, every file under DIR whose name is a SHA-256 against
its bytes: a site's store (<data-dir>/attachments) or an export. With an
export's manifest.json it also names the files the manifest lists that are
missing. Exits 1 if a file is damaged or missing. A site checks its own
store every day and fetches a damaged file again; this is for backups and
copies.

Examples:
  innonet attachment verify /var/lib/innonet/attachments
  innonet attachment verify /backup/attachments --json
`)
	asJSON := f.Bool("json", false, "print the result as JSON")
	pos, err := f.parse(args, 1, 1)
	if err != nil {
		return err
	}
	root := pos[0]
	type result struct {
		Files   int      `json:"files"`
		Bytes   int64    `json:"bytes"`
		Damaged []string `json:"damaged"`
		Missing []string `json:"missing"`
	}
	res := result{Damaged: []string{}, Missing: []string{}}
	seen := map[string]bool{}
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if path != root && (d.Name() == "tmp" || d.Name() == "corrupt") {
				return filepath.SkipDir // a store's work and quarantine
			}
			return nil
		}
		name := d.Name()
		if len(name) != 64 || strings.Trim(name, "0123456789abcdef") != "" {
			return nil
		}
		sum, n, err := hashFile(path)
		if err != nil {
			return err
		}
		res.Files++
		res.Bytes += n
		seen[name] = true
		if sum != name {
			res.Damaged = append(res.Damaged, path)
		}
		return nil
	})
	if err != nil {
		return err
	}
	if b, err := os.ReadFile(filepath.Join(root, "manifest.json")); err == nil {
		var manifest []exportEntry
		if err := json.Unmarshal(b, &manifest); err != nil {
			return fmt.Errorf("%s: %w", filepath.Join(root, "manifest.json"), err)
		}
		for _, e := range manifest {
			if !seen[e.SHA256] {
				res.Missing = append(res.Missing, e.SHA256+" ("+e.Lead+" "+e.Name+")")
			}
		}
	}
	if *asJSON {
		b, _ := json.MarshalIndent(res, "", "  ")
		fmt.Fprintf(std.out(), "%s\n", b)
	} else {
		t := newTable(std.out(), "FILES", "BYTES", "DAMAGED", "MISSING")
		t.row(fmt.Sprint(res.Files), sizeText(res.Bytes), fmt.Sprint(len(res.Damaged)), fmt.Sprint(len(res.Missing)))
		if err := t.flush(); err != nil {
			return err
		}
		for _, p := range res.Damaged {
			fmt.Fprintf(std.out(), "damaged: %s\n", p)
		}
		for _, m := range res.Missing {
			fmt.Fprintf(std.out(), "missing: %s\n", m)
		}
	}
	if len(res.Damaged) > 0 || len(res.Missing) > 0 {
		return fmt.Errorf("%d damaged and %d missing of %d files", len(res.Damaged), len(res.Missing), res.Files+len(res.Missing))
	}
	return nil
}
