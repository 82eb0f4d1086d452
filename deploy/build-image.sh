#!/usr/bin/env bash
# Builds the innonet container image without any registry: the binaries are
# compiled here (static, CGO_ENABLED=0) for the engine's architecture and
# copied into an image FROM scratch.
#
#   deploy/build-image.sh [TAG]        TAG defaults to $INNONET_IMAGE or innonet:latest
#
# Needs Go and a Docker engine; works from any directory.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
tag=${1:-${INNONET_IMAGE:-innonet:latest}}

if ! docker version --format '{{.Server.Version}}' >/dev/null 2>&1; then
	echo "build-image: no Docker engine answers (is the daemon running, may this user use it?)" >&2
	exit 1
fi
# Build for the engine, which may run elsewhere (Docker Desktop, a remote host).
goarch=$(docker version --format '{{.Server.Arch}}')
version=$(git -C "$repo" describe --always --dirty 2>/dev/null || echo dev)

ctx=$(mktemp -d)
trap 'rm -rf "$ctx"' EXIT
mkdir -p "$ctx/dirs/data" "$ctx/dirs/certs"
chmod 0700 "$ctx/dirs/certs"
cp "$repo/deploy/Dockerfile" "$ctx/Dockerfile"
for cmd in innonet:./cmd/innonet innonet-seed:./deploy/seed; do
	(cd "$repo" && CGO_ENABLED=0 GOOS=linux GOARCH="$goarch" \
		go build -trimpath -ldflags='-s -w' -o "$ctx/${cmd%%:*}" "${cmd#*:}")
done

# BuildKit needs the buildx plugin; without it the classic builder does the
# same job (FROM scratch pulls nothing either way).
if ! docker buildx version >/dev/null 2>&1; then
	export DOCKER_BUILDKIT=0
fi
docker build --quiet --build-arg VERSION="$version" --tag "$tag" "$ctx" >/dev/null
echo "built $tag ($version, linux/$goarch)"
