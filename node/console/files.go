package console

import (
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	innonetpb "innonet/proto/innonet/v1"
)

// UploadPath is the console's upload route. The site mounts it past its
// whole-body limit (an attachment is bigger than any other request),
// bounded by Config.MaxUpload instead.
const UploadPath = "POST /leads/{id}/upload"

// uploadFile streams the form's file to UploadAttachment in chunks.
func (s *Server) uploadFile(ctx context.Context, r *http.Request, id, rid string) error {
	if r.MultipartForm == nil || len(r.MultipartForm.File["file"]) == 0 {
		return status.Error(codes.InvalidArgument, "file: choose a file to attach")
	}
	hdr := r.MultipartForm.File["file"][0]
	vis := innonetpb.Attachment_Visibility(innonetpb.Attachment_Visibility_value[r.PostFormValue("visibility")])
	return s.uploadOne(ctx, id, rid, hdr, vis, r.PostFormValue("comment"))
}

// uploadOne sends one file of a form.
func (s *Server) uploadOne(ctx context.Context, id, rid string, hdr *multipart.FileHeader, vis innonetpb.Attachment_Visibility, comment string) error {
	file, err := hdr.Open()
	if err != nil {
		return fmt.Errorf("open the uploaded file: %w", err)
	}
	defer func() { _ = file.Close() }()
	if hdr.Size > s.cfg.MaxUpload {
		return status.Errorf(codes.InvalidArgument, "file: %q is %d bytes; an attachment may be at most %d", hdr.Filename, hdr.Size, s.cfg.MaxUpload)
	}
	ct := hdr.Header.Get("Content-Type")
	if _, _, err := mime.ParseMediaType(ct); err != nil {
		ct = "application/octet-stream"
	}
	st, err := s.leads.UploadAttachment(ctx)
	if err != nil {
		return err
	}
	if err := st.Send(&innonetpb.UploadAttachmentRequest{Part: &innonetpb.UploadAttachmentRequest_Header{Header: &innonetpb.AttachmentHeader{
		Id: id, RequestId: rid, Name: hdr.Filename, ContentType: ct, Visibility: vis, Comment: comment, Size: hdr.Size,
	}}}); err != nil {
		_, err = st.CloseAndRecv()
		return err
	}
	buf := make([]byte, 64<<10)
	for {
		n, rerr := file.Read(buf)
		if n > 0 {
			if err := st.Send(&innonetpb.UploadAttachmentRequest{Part: &innonetpb.UploadAttachmentRequest_Chunk{Chunk: append([]byte(nil), buf[:n]...)}}); err != nil {
				_, err = st.CloseAndRecv()
				return err
			}
		}
		if errors.Is(rerr, io.EOF) {
			break
		}
		if rerr != nil {
			return fmt.Errorf("read the uploaded file: %w", rerr)
		}
	}
	_, err = st.CloseAndRecv()
	return err
}

// download streams an attachment to the browser, as a download that can
// never run as a page of the console.
func (s *Server) download(w http.ResponseWriter, r *http.Request, v *view, ctx context.Context) {
	st, err := s.leads.DownloadAttachment(ctx, &innonetpb.DownloadAttachmentRequest{Id: r.PathValue("id"), Sha256: r.PathValue("sha")})
	if err != nil {
		s.errorPage(w, r, v, httpStatus(err), s.apiFlash(v.T, err))
		return
	}
	first, err := st.Recv()
	if err != nil {
		s.errorPage(w, r, v, httpStatus(err), s.apiFlash(v.T, err))
		return
	}
	a := first.Attachment
	h := w.Header()
	h.Set("Content-Type", "application/octet-stream")
	h.Set("Content-Security-Policy", "sandbox; default-src 'none'")
	h.Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": a.GetName()}))
	if a.GetSize() > 0 {
		h.Set("Content-Length", fmt.Sprint(a.GetSize()))
	}
	_, _ = w.Write(first.Chunk)
	for {
		m, err := st.Recv()
		if err != nil {
			if !errors.Is(err, io.EOF) {
				s.cfg.Logger.Warn("console: download broke off", "lead", r.PathValue("id"), "err", err)
			}
			return
		}
		if _, err := w.Write(m.Chunk); err != nil {
			return
		}
	}
}
