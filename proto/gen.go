// Package proto holds the innonet API definition: innonet/v1/innonet.proto
// and the code generated from it (Go messages, gRPC stubs, the grpc-gateway
// REST handlers and the OpenAPI v2 document, with examples added by
// ./internal/examples), which is committed. This
// package itself contains no code: it carries the go:generate directive,
// and a test that checks the OpenAPI document with a real validator.
//
// To regenerate after editing the .proto file, from the repository root:
//
//	go generate ./proto
//
// scripts/check-generated.sh lints the API and fails if the committed
// output is stale.
package proto

//go:generate sh -c "cd .. && go tool -modfile=tools.mod buf generate && go run ./proto/internal/examples proto/innonet/v1/innonet.swagger.json"
