#!/usr/bin/env bash
# ossd on one node with its embedded store, one node on PostgreSQL, and three nodes on
# PostgreSQL with one shared blob directory (warp spreads its requests over the three
# endpoints), interleaved over ROUNDS; ratios of medians against the embedded single node.
#
# Usage: bench/nodes.sh
# Knobs (env): ROUNDS=3 OPS="put get" SIZES="4KiB 1MiB" CONCS="8 32" DURATION=10s
#   CONFIGS="bbolt1 pg1 pg3"   which deployments, in the order of odd rounds (even rounds reverse it)
#   SHARED_BENCH=<dir>   default: $(git rev-parse --show-toplevel)/../shared/bench
#   OUT=<dir>            results (results.tsv, warp logs); default a fresh /tmp/ossd-nodes.XXXX
#   PG_BIN=<dir>         initdb/pg_ctl directory (default: PATH, then /usr/lib/postgresql/*/bin)
# PostgreSQL runs with its defaults (fsync on, synchronous_commit on) in a throwaway cluster;
# as root it runs as the postgres user (it refuses root). Everything runs on this machine, so
# the nodes, PostgreSQL and warp share its cores: the figures say where that ceiling is.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(git -C "$HERE" rev-parse --show-toplevel)
SHARED_BENCH=${SHARED_BENCH:-$REPO/../shared/bench}
SHARED_BENCH=$(cd "$SHARED_BENCH" && pwd)
export AK=${AK:-benchak} SK=${SK:-benchsecretkey123}
export OPS=${OPS:-put get} SIZES=${SIZES:-4KiB 1MiB} CONCS=${CONCS:-8 32} DURATION=${DURATION:-10s} BUCKET=${BUCKET:-warp-bench}
ROUNDS=${ROUNDS:-3}; CONFIGS=${CONFIGS:-bbolt1 pg1 pg3}
WORK=$(mktemp -d /tmp/ossd-nodes.XXXXXX); chmod 755 "$WORK"
export OUT=${OUT:-$WORK/out}; mkdir -p "$OUT"

PG_BIN=${PG_BIN:-$(dirname "$(command -v initdb 2>/dev/null || ls -d /usr/lib/postgresql/*/bin/initdb 2>/dev/null | sort -V | tail -1)")}
[ -x "$PG_BIN/initdb" ] || { echo "nodes.sh: PostgreSQL not installed (apt-get install postgresql)" >&2; exit 2; }
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
PGDIR=$WORK/pg; PGPORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill -KILL "$p" 2>/dev/null || true; done
  [ -d "$PGDIR/data" ] && as_pg "$PG_BIN/pg_ctl" stop -D "$PGDIR/data" -m fast >/dev/null 2>&1 || true
  rm -rf "$WORK"/data-* "$WORK"/bin "$PGDIR"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

mkdir -p "$PGDIR"; [ "$(id -u)" = 0 ] && chown postgres "$PGDIR"
as_pg "$PG_BIN/initdb" -D "$PGDIR/data" -U postgres --auth=trust >/dev/null
as_pg "$PG_BIN/pg_ctl" start -D "$PGDIR/data" -w -l "$PGDIR/log" -o "-p $PGPORT -k $PGDIR -c listen_addresses=127.0.0.1 -c max_connections=300" >/dev/null
psql_() { as_pg psql -h "$PGDIR" -p "$PGPORT" -U postgres -qAt "$@"; }
PGVER=$(psql_ -c 'show server_version')

mkdir -p "$WORK/bin"
(cd "$REPO" && go build -o "$WORK/bin/ossd" ./cmd/ossd && go build -o "$WORK/bin/s3setup" ./bench/s3setup)

N=0
# start_node DATA META BLOBS NODEID: starts a node and appends its host:port to EPS.
# (Not run in a command substitution: that subshell would keep the PIDS entry to itself,
# and stop_nodes would leave the node running into the next configuration.)
start_node() {
  local data=$1 meta=$2 blobs=$3 id=$4 args=() addr=
  mkdir -p "$data"
  [ -n "$meta" ] && args=(--meta "$meta" --blobs "$blobs" --node-id "$id")
  OSS_ACCESS_KEY_ID=$AK OSS_ACCESS_KEY_SECRET=$SK "$WORK/bin/ossd" --addr 127.0.0.1:0 --data "$data/d" "${args[@]}" >"$data/ossd.log" 2>&1 &
  PIDS+=($!)
  for _ in $(seq 100); do
    addr=$(sed -n 's|^ossd listening on http://||p' "$data/ossd.log" | head -1)
    [ -n "$addr" ] && break
    sleep 0.1
  done
  [ -n "$addr" ] || { echo "ossd did not start:" >&2; cat "$data/ossd.log" >&2; exit 1; }
  EPS+=("$addr")
}
stop_nodes() {
  for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]}"; do for _ in $(seq 200); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done; kill -KILL "$p" 2>/dev/null || true; done
  PIDS=()
}

run_config() { # bbolt1 | pgN
  local cfg=$1 n db url
  EPS=()
  N=$((N + 1)); local dir=$WORK/data-$N
  case "$cfg" in
    bbolt1) start_node "$dir/n0" "" "" "";;
    pg*)
      n=${cfg#pg}; db=bench$N
      psql_ -c "create database $db" >/dev/null
      url="postgres://postgres@127.0.0.1:$PGPORT/$db?sslmode=disable"
      for i in $(seq 0 $((n - 1))); do start_node "$dir/n$i" "$url" "$dir/blobs" "node$i"; done;;
  esac
  local hosts; hosts=$(IFS=,; echo "${EPS[*]}")
  "$WORK/bin/s3setup" -endpoint "http://${EPS[0]}" -ak "$AK" -sk "$SK" mb "$BUCKET"
  echo "== $cfg: ${#EPS[@]} node(s) on $hosts" >&2
  ENDPOINT=$hosts LABEL=$cfg "$SHARED_BENCH/s3-workload.sh" || true
  stop_nodes
  rm -rf "$dir"
}

echo "ossd $(git -C "$REPO" rev-parse --short HEAD), PostgreSQL $PGVER, $(nproc) cores, results in $OUT" >&2
for r in $(seq "$ROUNDS"); do
  order=$CONFIGS; [ $((r % 2)) = 0 ] && order=$(echo "$CONFIGS" | tr ' ' '\n' | tac | tr '\n' ' ')
  for cfg in $order; do run_config "$cfg"; done
done
python3 "$SHARED_BENCH/median-table.py" "$OUT/results.tsv" --base bbolt1
