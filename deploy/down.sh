#!/usr/bin/env bash
# Stops the innonet network started by deploy/up.sh and removes its
# containers and networks.
#
#   deploy/down.sh [--volumes]
#
#   --volumes   also delete every site's data volume and the certificates'
#               (and deploy/.state: the sample tokens and the CA's copy, which
#               no longer match anything); the next up starts afresh, new CA
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"

args=(down --remove-orphans --timeout 30)
purge=false
for arg in "$@"; do
	case $arg in
	--volumes | -v) purge=true; args+=(--volumes) ;;
	-h | --help) sed -n '2,10s/^# \{0,1\}//p' "$0"; exit 0 ;;
	*) echo "down: unknown argument $arg (try --help)" >&2; exit 2 ;;
	esac
done
if [[ ! -f .env ]]; then
	echo "down: deploy/.env is missing, so there is no network started by up.sh here" >&2
	exit 1
fi
docker-compose "${args[@]}"
if $purge; then
	rm -rf .state
fi
