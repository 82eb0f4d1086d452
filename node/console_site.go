package node

import (
	"google.golang.org/grpc"

	"innonet/node/console"
)

// consoleSubmitFiles is how many files the console's submit form takes
// at once; its body limit is that many attachments.
const consoleSubmitFiles = 5

// newConsole builds the site's web console (package console) on conn,
// the in-memory connection to this site's own gRPC API.
func (n *Node) newConsole(conn grpc.ClientConnInterface) (*console.Server, error) {
	return console.New(console.Config{
		Site:      n.cfg.Site,
		Conn:      conn,
		Insecure:  n.cfg.TLS == nil,
		MaxUpload: n.cfg.MaxAttachmentBytes,
		Logger:    n.log.With("part", "console"),
		Accounts:  newConsoleAccounts(conn),
	})
}
