package node

import (
	"context"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"

	"innonet/node/guard"
	innonetpb "innonet/proto/innonet/v1"
)

// The REST side of attachments, served beside the gateway (as the backup
// download is), since a file is neither JSON nor one message:
//
//	POST /v1/leads/{id}/attachments?requestId=…&name=…   the file as the body (any Content-Type), or
//	POST /v1/leads/{id}/attachments                      multipart/form-data: fields, then the file part
//	GET  /v1/leads/{id}/attachments/{sha256}             the bytes (Range, If-None-Match)
//
// The list and the removal go through the gateway (ListAttachments,
// RemoveAttachment).

// attachmentRoutes adds the attachment paths to the site's REST mux,
// beside the gateway gw: the download, the list and the removal (through
// the gateway), and 405 for the methods the paths do not take. The
// upload (POST) is routed before the guard reads bodies whole (serve).
func (n *Node) attachmentRoutes(mux *http.ServeMux, gw http.Handler) {
	mux.Handle("GET /v1/leads/{id}/attachments/{sha256}",
		n.guard.Authenticating("downloading an attachment requires a role that may see it", http.HandlerFunc(n.downloadHTTP)))
	mux.Handle("DELETE /v1/leads/{id}/attachments/{sha256}", onlyQuery(gw, "requestId", "visibility", "comment", "expectedVersion"))
	mux.Handle("/v1/leads/{id}/attachments/{sha256}", guard.MethodNotAllowed(http.MethodGet, http.MethodHead, http.MethodDelete))
	mux.Handle("GET /v1/leads/{id}/attachments", onlyQuery(gw, "includeRemoved", "consistency", "maxStaleness"))
	mux.Handle("/v1/leads/{id}/attachments", guard.MethodNotAllowed(http.MethodGet, http.MethodHead, http.MethodPost))
}

// onlyQuery passes a request to next only if its query parameters are
// among allowed (by their JSON names, or the proto names the gateway also
// takes); the gateway would ignore any other, which a caller who
// misspelt one should hear about.
func onlyQuery(next http.Handler, allowed ...string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var unknown []string
		for k := range r.URL.Query() {
			if !slices.Contains(allowed, lowerCamel(k)) {
				unknown = append(unknown, k)
			}
		}
		if len(unknown) > 0 {
			slices.Sort(unknown)
			writeAPIError(w, status.Errorf(codes.InvalidArgument, "unknown query parameter %s: this takes %s",
				clip(strings.Join(unknown, ", ")), strings.Join(allowed, ", ")))
			return
		}
		next.ServeHTTP(w, r)
	})
}

// uploadFields are the parameters an upload takes, in the query or as
// form fields, by their JSON and proto names.
var uploadFields = []string{"requestId", "name", "visibility", "comment", "sha256", "expectedVersion"}

// multipartSlack is how much a multipart upload may exceed the file's
// limit: its fields and framing.
const multipartSlack = 64 << 10

// uploadHTTP serves POST /v1/leads/{id}/attachments.
func (n *Node) uploadHTTP(w http.ResponseWriter, r *http.Request) {
	h := &innonetpb.AttachmentHeader{Id: r.PathValue("id")}
	if err := setUploadFields(h, r.URL.Query(), "query parameter"); err != nil {
		writeAPIError(w, err)
		return
	}
	var body io.Reader
	mt, params, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if mt == "multipart/form-data" {
		file, err := multipartFile(h, multipart.NewReader(r.Body, params["boundary"]))
		if err != nil {
			writeAPIError(w, err)
			return
		}
		body = file
	} else {
		h.ContentType = r.Header.Get("Content-Type")
		if h.Name == "" {
			if _, p, err := mime.ParseMediaType(r.Header.Get("Content-Disposition")); err == nil {
				h.Name = p["filename"]
			}
		}
		if h.Name == "" {
			writeAPIError(w, status.Error(codes.InvalidArgument, "name: is required: send ?name=deck.pdf, a Content-Disposition header with a filename, or a multipart/form-data upload"))
			return
		}
		if r.ContentLength == 0 {
			writeAPIError(w, status.Error(codes.InvalidArgument, "file: is empty; an attachment has at least one byte"))
			return
		}
		if r.ContentLength > 0 {
			h.Size = r.ContentLength
		}
		body = r.Body
	}
	res, err := n.upload(n.httpContext(r), h, body)
	if err != nil {
		writeAPIError(w, err)
		return
	}
	a := res.Attachment
	w.Header().Set("Location", "/v1/leads/"+url.PathEscape(a.LeadId)+"/attachments/"+a.Sha256)
	code := http.StatusOK
	if res.Changed {
		code = http.StatusCreated
	}
	writeJSON(w, code, res)
}

// setUploadFields sets the header fields named in vals; any other name is
// an error naming it.
func setUploadFields(h *innonetpb.AttachmentHeader, vals url.Values, what string) error {
	var unknown []string
	for k := range vals {
		if !slices.Contains(uploadFields, lowerCamel(k)) {
			unknown = append(unknown, k)
		}
	}
	if len(unknown) > 0 {
		slices.Sort(unknown)
		return status.Errorf(codes.InvalidArgument, "unknown %s %s: an upload takes %s", what, clip(strings.Join(unknown, ", ")), strings.Join(uploadFields, ", "))
	}
	for k, vs := range vals {
		if err := setUploadField(h, lowerCamel(k), vs[len(vs)-1]); err != nil {
			return err
		}
	}
	return nil
}

func setUploadField(h *innonetpb.AttachmentHeader, name, v string) error {
	switch name {
	case "requestId":
		h.RequestId = v
	case "name":
		h.Name = v
	case "comment":
		h.Comment = v
	case "sha256":
		h.Sha256 = strings.ToLower(v)
	case "visibility":
		key := strings.ToUpper(strings.TrimSpace(v))
		vis, ok := innonetpb.Attachment_Visibility_value[key]
		if !ok || vis == 0 {
			return status.Errorf(codes.InvalidArgument, "visibility: %q is not SHARED or DIVISION", clip(v))
		}
		h.Visibility = innonetpb.Attachment_Visibility(vis)
	case "expectedVersion":
		ev, err := strconv.ParseInt(v, 10, 64)
		if err != nil || ev < 0 {
			return status.Errorf(codes.InvalidArgument, "expectedVersion: %q is not a lead version", clip(v))
		}
		h.ExpectedVersion = ev
	}
	return nil
}

// lowerCamel turns request_id into requestId.
func lowerCamel(s string) string {
	parts := strings.Split(s, "_")
	for i := 1; i < len(parts); i++ {
		if parts[i] != "" {
			parts[i] = strings.ToUpper(parts[i][:1]) + parts[i][1:]
		}
	}
	return strings.Join(parts, "")
}

// multipartFile reads the fields of a multipart upload into h and
// returns its file part, which must come last.
func multipartFile(h *innonetpb.AttachmentHeader, mr *multipart.Reader) (io.Reader, error) {
	for {
		p, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			return nil, status.Error(codes.InvalidArgument, "file: a multipart upload needs a part named file, after the fields")
		}
		if err != nil {
			return nil, status.Errorf(codes.InvalidArgument, "the multipart body does not parse: %v", err)
		}
		if p.FormName() == "file" {
			if h.Name == "" {
				h.Name = p.FileName()
			}
			h.ContentType = p.Header.Get("Content-Type")
			if h.Name == "" {
				return nil, status.Error(codes.InvalidArgument, "name: is required: give the file part a filename, or send a name field")
			}
			return &lastPart{Part: p, mr: mr}, nil
		}
		v, err := io.ReadAll(io.LimitReader(p, 16<<10+1))
		if err != nil {
			return nil, status.Errorf(codes.InvalidArgument, "the multipart body does not parse: %v", err)
		}
		if len(v) > 16<<10 {
			return nil, status.Errorf(codes.InvalidArgument, "%s: a field of an upload is at most 16 KiB", clip(p.FormName()))
		}
		if err := setUploadFields(h, url.Values{p.FormName(): {string(v)}}, "form field"); err != nil {
			return nil, err
		}
	}
}

// lastPart reads the file part of a multipart upload, and fails at its
// end if another part follows, so that nothing is stored for a form that
// is not what it seems.
type lastPart struct {
	*multipart.Part
	mr *multipart.Reader
}

func (p *lastPart) Read(b []byte) (int, error) {
	k, err := p.Part.Read(b)
	if errors.Is(err, io.EOF) {
		next, nerr := p.mr.NextPart()
		switch {
		case errors.Is(nerr, io.EOF):
			return k, io.EOF
		case nerr != nil:
			return k, status.Errorf(codes.InvalidArgument, "the multipart body does not parse: %v", nerr)
		}
		return k, status.Errorf(codes.InvalidArgument, "file: must be the last part of the form; %q follows it", clip(next.FormName()))
	}
	return k, err
}

// downloadHTTP serves GET /v1/leads/{id}/attachments/{sha256}: the bytes,
// named and typed as uploaded, with the SHA-256 as ETag, and ranges.
func (n *Node) downloadHTTP(w http.ResponseWriter, r *http.Request) {
	if len(r.URL.Query()) > 0 {
		var names []string
		for k := range r.URL.Query() {
			names = append(names, k)
		}
		slices.Sort(names)
		writeAPIError(w, status.Errorf(codes.InvalidArgument, "unknown query parameter %s: a download takes none", clip(strings.Join(names, ", "))))
		return
	}
	a, f, err := n.openAttachment(n.httpContext(r), r.PathValue("id"), r.PathValue("sha256"))
	if err != nil {
		writeAPIError(w, err)
		return
	}
	defer f.Close()
	h := w.Header()
	h.Set("Content-Type", a.ContentType)
	disposition := mime.FormatMediaType("attachment", map[string]string{"filename": a.Name})
	if disposition == "" {
		disposition = "attachment"
	}
	h.Set("Content-Disposition", disposition)
	h.Set("ETag", `"`+a.SHA256+`"`)
	// Served as a download from the API's origin, never rendered there.
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", "sandbox")
	h.Set("Cache-Control", "private, no-cache")
	h.Set("X-Innonet-Read-Site", n.cfg.Site)
	http.ServeContent(w, r, "", a.Added, f)
}

// httpContext carries what the gRPC handlers read of a request that did
// not come through gRPC: its token, its client's address and, with TLS,
// its certificate.
func (n *Node) httpContext(r *http.Request) context.Context {
	ctx := metadata.NewIncomingContext(r.Context(), metadata.Pairs("authorization", r.Header.Get("Authorization")))
	p := &peer.Peer{}
	if addr, err := net.ResolveTCPAddr("tcp", r.RemoteAddr); err == nil {
		p.Addr = addr
	}
	if r.TLS != nil {
		p.AuthInfo = credentials.TLSInfo{State: *r.TLS}
	}
	return peer.NewContext(ctx, p)
}

// writeAPIError answers in the gateway's error shape, with the HTTP status
// the gateway gives the code, except 413 for an upload over the limit
// and 408 for one that stalled.
func writeAPIError(w http.ResponseWriter, err error) {
	st := status.Convert(err)
	code := runtime.HTTPStatusFromCode(st.Code())
	var tl tooLargeError
	var ua unavailableError
	var sl stalledError
	retry := time.Duration(0)
	switch {
	case errors.As(err, &tl):
		code = http.StatusRequestEntityTooLarge
	case errors.As(err, &ua):
		retry = ua.retry
	case errors.As(err, &sl):
		code = http.StatusRequestTimeout
	}
	guard.WriteError(w, code, st, retry)
}

func writeJSON(w http.ResponseWriter, code int, m *innonetpb.AttachmentResult) {
	b, err := protojson.MarshalOptions{EmitUnpopulated: true}.Marshal(m)
	if err != nil {
		writeAPIError(w, status.Errorf(codes.Internal, "encode the answer: %v", err))
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_, _ = w.Write(b)
}

// stalledError is DEADLINE_EXCEEDED for gRPC and 408 for REST: an upload
// whose bytes stopped arriving.
type stalledError struct{ st *status.Status }

func (e stalledError) Error() string              { return e.st.Message() }
func (e stalledError) GRPCStatus() *status.Status { return e.st }
