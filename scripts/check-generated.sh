#!/usr/bin/env bash
# Lints the innonet API and regenerates the code from proto/, then fails if
# anything under proto/ then differs from the committed tree (the .proto was
# edited without regenerating, generated files were edited by hand, or a
# tool version changed). Commit first, then run it from anywhere inside the
# repository.
set -euo pipefail

cd "$(git rev-parse --show-toplevel)"

echo "check-generated: buf lint" >&2
go tool -modfile=tools.mod buf lint proto

echo "check-generated: buf generate" >&2
go tool -modfile=tools.mod buf generate
go run ./proto/internal/examples proto/innonet/v1/innonet.swagger.json

if [[ -n "$(git status --porcelain --untracked-files=all -- proto)" ]]; then
	echo "check-generated: FAIL: generated code under proto/ differs from the committed tree (stale or uncommitted)." >&2
	echo "Run 'go generate ./proto' and commit the result. Differences:" >&2
	git status --porcelain --untracked-files=all -- proto >&2
	git --no-pager diff --stat -- proto >&2 || true
	exit 1
fi
echo "check-generated: OK" >&2
