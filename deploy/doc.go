// Package deploy holds innonet's deployment files, not Go code: the
// container image (Dockerfile, build-image.sh), the eight-site network for
// Docker Compose (docker-compose.yml, up.sh, down.sh), Kubernetes manifests
// for one site (k8s/) and a systemd unit (systemd/). See README.md.
//
// Its tests check those files without running anything: the compose file
// resolves, the manifests parse and fit together, the unit verifies. The
// end-to-end tests that run the network on Docker are in deploy/e2e.
package deploy
