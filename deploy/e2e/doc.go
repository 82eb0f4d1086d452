// Package e2e tests the deployment for real: it builds the container image
// with deploy/build-image.sh, brings the eight-site network of
// deploy/docker-compose.yml up on the local Docker engine under a project
// name and subnets of its own, and drives it from outside the containers
// with plain HTTPS clients, as users and operators would, trusting the
// network's CA that the one-shot certs service wrote (copied out of its
// container):
//
//   - the containers: non-root, each site's data on its own volume, the
//     certificates mounted read-only, all healthy;
//   - TLS: the certs service completed; every site's certificate names its
//     site and address; plaintext clients, clients not trusting the CA and
//     Raft peers without a site certificate are refused;
//   - the lead lifecycle across sites (submitted at BOS, reviewed at CGO,
//     claimed at YRD) and its history on every site;
//   - kill -9 of the leader's container during a stream of writes;
//   - the leader's container cut off from the other sites (docker network
//     disconnect), then reconnected;
//   - a rolling restart of every site under a steady write load;
//   - teardown, leaving no container, network or volume behind.
//
// Every write carries a request ID and is retried with the same ID until a
// site answers 200, so "acknowledged" means the API said so, and the
// retries counted are the ones a real client would have made. After each
// fault the test checks that every acknowledged write is on every site,
// exactly once.
//
// The tests need a Docker engine and docker-compose, so they are behind a
// build tag and not part of `go test ./...`:
//
//	go test -tags e2e -count=1 -timeout 20m -v ./deploy/e2e/
package e2e
