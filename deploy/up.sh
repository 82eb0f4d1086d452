#!/usr/bin/env bash
# Starts the default eight-site innonet network on this Docker engine and
# waits until every site is ready.
#
#   deploy/up.sh [--sample] [--publish]
#
#   --sample    load sample users and leads once; their tokens go to deploy/.state/tokens.json
#   --publish   also publish the sites' APIs on 127.0.0.1:7101-7108 (as `innonet demo`
#               does), for engines whose container addresses the host cannot reach
#
# On first use it writes deploy/.env with a random admin token (untracked);
# later runs reuse it and resume from the sites' volumes. Builds the image
# (deploy/build-image.sh) when it is missing. The sites speak TLS only: the
# "certs" service makes (first run) or reuses the network's CA, and this
# script copies its certificate to deploy/.state/ca.crt for clients here.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"

sample=false
for arg in "$@"; do
	case $arg in
	--sample) sample=true ;;
	--publish) export COMPOSE_FILE=docker-compose.yml:docker-compose.ports.yml ;;
	-h | --help) sed -n '2,16s/^# \{0,1\}//p' "$0"; exit 0 ;;
	*) echo "up: unknown argument $arg (try --help)" >&2; exit 2 ;;
	esac
done

command -v docker-compose >/dev/null || { echo "up: docker-compose is not installed" >&2; exit 1; }
docker info >/dev/null 2>&1 || { echo "up: no Docker engine answers (is the daemon running, may this user use it?)" >&2; exit 1; }

if [[ ! -f .env ]]; then
	token="inn_$(od -An -tx1 -N32 /dev/urandom | tr -d ' \n')"
	(umask 077 && printf 'COMPOSE_PROJECT_NAME=innonet\nINNONET_ADMIN_TOKEN=%s\n' "$token" >.env)
	echo "up: wrote a new admin token to deploy/.env; keep it, the network records it on first start"
fi
# What docker-compose will read from .env, unless the environment says otherwise.
while IFS='=' read -r key value; do
	if [[ -z ${!key+set} ]]; then export "$key=$value"; fi
done < <(grep -E '^[A-Z_][A-Z0-9_]*=' .env)

image=${INNONET_IMAGE:-innonet:latest}
if ! docker image inspect "$image" >/dev/null 2>&1; then
	./build-image.sh "$image"
fi

docker-compose up -d --remove-orphans

# The CA that signed the sites' certificates, for clients on this host.
# From the one-shot certs container, which `docker cp` reads though it has
# exited (the image has no shell to cat it with).
(umask 077 && mkdir -p .state)
certs=$(docker-compose ps -q certs)
docker cp "$certs:/certs/ca.crt" - | tar -xOf - ca.crt >.state/ca.crt.new
mv .state/ca.crt.new .state/ca.crt
ca="$PWD/.state/ca.crt"

sites=(cgo bos cbg muc tlv bohai yrd prd)
echo -n "up: waiting for every site to be ready"
deadline=$((SECONDS + 180))
for s in "${sites[@]}"; do
	until docker-compose exec -T "$s" /innonet health --ready >/dev/null 2>&1; do
		if ((SECONDS > deadline)); then
			echo; echo "up: site $s is not ready after 3 minutes; see: docker-compose -f deploy/docker-compose.yml logs $s" >&2
			exit 1
		fi
		echo -n .
		sleep 1
	done
done
echo " ok"

if $sample; then
	if [[ -s .state/tokens.json ]]; then
		echo "up: sample data already loaded (tokens in deploy/.state/tokens.json)"
	else
		(umask 077 && docker-compose run --rm seed >.state/tokens.json.new)
		mv .state/tokens.json.new .state/tokens.json
		echo "up: sample users and leads loaded; their tokens are in deploy/.state/tokens.json"
	fi
fi

net=${INNONET_CLIENT_NET:-10.231.72}
published=
[[ ${COMPOSE_FILE:-} == *ports* ]] && published="PUBLISHED ON"
echo
printf '%-6s %-10s %-27s %s\n' SITE "RAFT ROLE" "API (gRPC + REST)" "$published"
i=1
for s in "${sites[@]}"; do
	role=voter port=
	((i > 5)) && role=non-voter
	[[ -n $published ]] && port="https://127.0.0.1:710$i"
	printf '%-6s %-10s %-27s %s\n' "${s^^}" "$role" "https://$net.10$i:7100" "$port"
	i=$((i + 1))
done
cat <<EOT

The sites speak TLS only; their certificates are signed by the network's CA,
copied to $ca. The admin token is INNONET_ADMIN_TOKEN in deploy/.env. Try:
  curl -s --cacert $ca -H "Authorization: Bearer \$(sed -n 's/^INNONET_ADMIN_TOKEN=//p' deploy/.env)" https://$net.101:7100/v1/cluster
  INNONET_CA=$ca INNONET_ADDR=$net.101:7100 INNONET_TOKEN=... innonet cluster status
Stop with deploy/down.sh (keeps the data) or deploy/down.sh --volumes (deletes it).
EOT
