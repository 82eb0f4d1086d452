package node

import (
	"context"
	"errors"
	"io"
	"testing"

	"google.golang.org/grpc/codes"

	"innonet/node/pipeline"
	innonetpb "innonet/proto/innonet/v1"
)

// The attachment rows of the authorization matrix (authz_test.go). Every
// row works on a fresh lead; its files are named by the lead, so a call
// can find them from the lead's ID alone.

// matrixFile is the file a matrix row attaches to lead, kept to the
// division that adds it when private.
func matrixFile(lead string, private bool) []byte {
	if private {
		return []byte("term sheet of " + lead)
	}
	return []byte("pitch deck of " + lead)
}

// grpcUpload uploads data to lead in one chunk.
func grpcUpload(ctx context.Context, c testClients, lead string, data []byte, vis innonetpb.Attachment_Visibility) (*innonetpb.AttachmentResult, error) {
	stream, err := c.leads.UploadAttachment(ctx)
	if err != nil {
		return nil, err
	}
	if err := stream.Send(&innonetpb.UploadAttachmentRequest{Part: &innonetpb.UploadAttachmentRequest_Header{Header: &innonetpb.AttachmentHeader{
		Id: lead, RequestId: rid(), Name: "matrix.pdf", ContentType: "application/pdf", Visibility: vis}}}); err != nil && !errors.Is(err, io.EOF) {
		return nil, err
	}
	if err := stream.Send(&innonetpb.UploadAttachmentRequest{Part: &innonetpb.UploadAttachmentRequest_Chunk{Chunk: data}}); err != nil && !errors.Is(err, io.EOF) {
		return nil, err
	}
	return stream.CloseAndRecv()
}

// attachedLead returns a setup for a fresh lead in stage with the
// matrix files attached: the shared one by the own site's staff, the
// private one by the holding division.
func attachedLead(stage innonetpb.Stage, shared, private bool) func(*testing.T, *authzEnv, int) authzTarget {
	return func(t *testing.T, e *authzEnv, _ int) authzTarget {
		t.Helper()
		e.tc.waitFor("the cluster runs log format 2", func() bool { return e.n.State().Format() >= pipeline.Format2 })
		id := e.lead(t, stage)
		if shared {
			if _, err := grpcUpload(e.ctx(t, actOwn), e.as(actOwn), id, matrixFile(id, false), innonetpb.Attachment_SHARED); err != nil {
				t.Fatalf("upload the shared file: %v", err)
			}
		}
		if private {
			if _, err := grpcUpload(e.ctx(t, actHolder), e.as(actHolder), id, matrixFile(id, true), innonetpb.Attachment_DIVISION); err != nil {
				t.Fatalf("upload the private file: %v", err)
			}
		}
		return authzTarget{lead: id}
	}
}

func attachmentAuthzRows() []authzRow {
	const (
		lead    = "/innonet.v1.LeadService/"
		cluster = "/innonet.v1.ClusterService/"
		NF      = codes.NotFound
	)
	const (
		submitted = innonetpb.Stage_SUBMITTED
		claimed   = innonetpb.Stage_CLAIMED
	)
	upload := func(ctx context.Context, c testClients, tg authzTarget) (any, error) {
		return grpcUpload(ctx, c, tg.lead, []byte("a file for "+tg.lead), innonetpb.Attachment_VISIBILITY_UNSPECIFIED)
	}
	download := func(private bool) func(context.Context, testClients, authzTarget) (any, error) {
		return func(ctx context.Context, c testClients, tg authzTarget) (any, error) {
			stream, err := c.leads.DownloadAttachment(ctx, &innonetpb.DownloadAttachmentRequest{Id: tg.lead, Sha256: shaHex(matrixFile(tg.lead, private))})
			if err != nil {
				return nil, err
			}
			var n int
			for {
				m, err := stream.Recv()
				if errors.Is(err, io.EOF) {
					return n, nil
				}
				if err != nil {
					return nil, err
				}
				n += len(m.Chunk)
			}
		}
	}
	remove := func(private bool) func(context.Context, testClients, authzTarget) (any, error) {
		return func(ctx context.Context, c testClients, tg authzTarget) (any, error) {
			return c.leads.RemoveAttachment(ctx, &innonetpb.RemoveAttachmentRequest{Id: tg.lead, RequestId: rid(),
				Sha256: shaHex(matrixFile(tg.lead, private))})
		}
	}
	// Columns: no token, revoked, admin, HQ, own site, other site, holder division, rival division.
	return []authzRow{
		{method: lead + "UploadAttachment", when: "to a submitted lead", setup: attachedLead(submitted, false, false), call: upload,
			want: cells{UA, UA, PD, OK, OK, PD, PD, PD}},
		{method: lead + "UploadAttachment", when: "to a claimed lead", setup: attachedLead(claimed, false, false), call: upload,
			want: cells{UA, UA, PD, OK, OK, PD, OK, PD},
			verify: func(t *testing.T, _ *authzEnv, act int, resp any) {
				// A division keeps its documents to itself unless it says otherwise.
				want := map[int]innonetpb.Attachment_Visibility{actHQ: innonetpb.Attachment_SHARED, actOwn: innonetpb.Attachment_SHARED,
					actHolder: innonetpb.Attachment_DIVISION}[act]
				if got := resp.(*innonetpb.AttachmentResult).Attachment.Visibility; got != want {
					t.Errorf("got visibility %s, want %s", got, want)
				}
			}},
		{method: lead + "ListAttachments", when: "of a claimed lead", setup: attachedLead(claimed, true, true),
			call: func(ctx context.Context, c testClients, tg authzTarget) (any, error) {
				return c.leads.ListAttachments(ctx, &innonetpb.ListAttachmentsRequest{Id: tg.lead})
			},
			want: cells{UA, UA, OK, OK, OK, PD, OK, OK},
			verify: func(t *testing.T, _ *authzEnv, act int, resp any) {
				// The private file is listed to its division and HQ only.
				want := map[int]int{actAdmin: 2, actHQ: 2, actOwn: 1, actHolder: 2, actRival: 1}[act]
				if got := len(resp.(*innonetpb.ListAttachmentsResponse).Attachments); got != want {
					t.Errorf("listed %d attachments, want %d", got, want)
				}
			}},
		{method: lead + "DownloadAttachment", when: "a shared file", setup: attachedLead(claimed, true, false), call: download(false),
			want: cells{UA, UA, OK, OK, OK, PD, OK, OK}},
		{method: lead + "DownloadAttachment", when: "a division's file", setup: attachedLead(claimed, false, true), call: download(true),
			want: cells{UA, UA, OK, OK, PD, PD, OK, PD}},
		{method: lead + "RemoveAttachment", when: "added by the site", setup: attachedLead(claimed, true, false), call: remove(false),
			want: cells{UA, UA, PD, OK, OK, PD, PD, PD}},
		{method: lead + "RemoveAttachment", when: "a division's file", setup: attachedLead(claimed, false, true), call: remove(true),
			want: cells{UA, UA, PD, OK, NF, PD, OK, NF}},
		// Only a site that stored the bytes may register them, and only
		// by forwarding: every client is refused, token or not.
		{method: lead + "RegisterAttachment", setup: attachedLead(submitted, false, false),
			call: func(ctx context.Context, c testClients, tg authzTarget) (any, error) {
				return c.leads.RegisterAttachment(ctx, &innonetpb.RegisterAttachmentRequest{Header: &innonetpb.AttachmentHeader{
					Id: tg.lead, RequestId: rid(), Name: "never uploaded.pdf", Size: 10, Sha256: shaHex([]byte("never uploaded"))}})
			},
			want: cells{PD, PD, PD, PD, PD, PD, PD, PD}},
		// Without TLS (a site started with --insecure) anyone who knows a
		// file's SHA-256 may fetch it; with TLS only sites may
		// (TestAttachmentFetchNeedsSiteCertificate).
		{method: cluster + "FetchAttachment", setup: attachedLead(submitted, true, false),
			call: func(ctx context.Context, c testClients, tg authzTarget) (any, error) {
				stream, err := c.clusters.FetchAttachment(ctx, &innonetpb.FetchAttachmentRequest{Sha256: shaHex(matrixFile(tg.lead, false))})
				if err != nil {
					return nil, err
				}
				m, err := stream.Recv()
				if err != nil {
					return nil, err
				}
				return m, nil
			},
			want: cells{OK, OK, OK, OK, OK, OK, OK, OK}},
	}
}
