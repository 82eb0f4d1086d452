// Package innonetpb is the generated wire API of innonet: the protobuf
// messages and enums, the gRPC client and server interfaces, and the
// grpc-gateway handlers that serve the same RPCs as REST/JSON. It is
// generated from innonet.proto (see package innonet/proto); do not edit the
// generated files.
//
// These types stay at the boundary: servers convert them to and from the
// domain types at the edge rather than using them inside the state machine
// or storage.
package innonetpb
