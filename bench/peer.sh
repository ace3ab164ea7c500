#!/usr/bin/env bash
# ossd side by side with MinIO (warp, S3 API), using the shared scripts in ../shared/bench.
#
# Usage (from any directory):
#   bench/peer.sh [compare]   ossd vs PEERS (default minio), interleaved by compare.sh
#   bench/peer.sh logging     ossd with access logging off vs on, fresh ossd each run, interleaved
#   bench/peer.sh policy      ossd without vs with a 20-statement bucket policy (bench/policy20.json) on the bucket
#   bench/peer.sh rss         peak RSS (VmHWM) of ossd during a PUT 64 MiB c32 warp run
#   bench/peer.sh profile     CPU profile of ossd during one warp workload (pprof via go build -overlay)
#   bench/peer.sh all         compare, then logging, then rss (one results directory)
#
# Knobs (env), passed through to compare.sh / s3-workload.sh:
#   ROUNDS=3 PEERS="minio" OPS="put get" SIZES="4KiB 1MiB 64MiB" CONCS="8" DURATION=10s
#   LOGGING=1            compare/rss/profile: access logging on for the benchmark bucket
#   LOG_INTERVAL=10s     --log-delivery-interval, so deliveries run during the benchmark
#   LOG_SYNC=1s          --log-sync: the access-log durability mode (1s is ossd's default; always)
#   LOG_OPS/LOG_SIZES/LOG_CONCS   logging mode workload (default "put get" / 4KiB / 8)
#   RSS_SIZE=64MiB RSS_CONC=32 RSS_OP=put   rss mode workload
#   PROF_OP=put PROF_SIZE=4KiB PROF_CONC=8 PROF_SECONDS=10   profile mode workload
#   SHARED_BENCH=<dir>   default: $(git rev-parse --show-toplevel)/../shared/bench
#   OUT=<dir>            results (results.tsv, warp logs); default a fresh /tmp/ossd-peer.XXXX
#   KEEP=1               keep ossd data dirs and logs
#   OSSD_ENV="K=V ..."   extra environment for ossd only (not warp), e.g. GOMAXPROCS=4
# The access key pair is AK/SK (default benchak / benchsecretkey123), as for the peers.
set -euo pipefail

MODE=${1:-compare}
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(git -C "$HERE" rev-parse --show-toplevel)
SHARED_BENCH=${SHARED_BENCH:-$REPO/../shared/bench}
SHARED_BENCH=$(cd "$SHARED_BENCH" && pwd)
for f in compare.sh s3-workload.sh start-peer.sh median-table.py; do
  [ -e "$SHARED_BENCH/$f" ] || { echo "peer.sh: $SHARED_BENCH/$f missing (set SHARED_BENCH)" >&2; exit 2; }
done

export AK=${AK:-benchak} SK=${SK:-benchsecretkey123}
export ROUNDS=${ROUNDS:-3} PEERS=${PEERS:-minio} OPS=${OPS:-put get} SIZES=${SIZES:-4KiB 1MiB 64MiB}
export CONCS=${CONCS:-8} DURATION=${DURATION:-10s} BUCKET=${BUCKET:-warp-bench}
LOGGING=${LOGGING:-0}; LOG_INTERVAL=${LOG_INTERVAL:-10s}; LOG_SYNC=${LOG_SYNC:-1s}; LOG_BUCKET=${LOG_BUCKET:-warp-logs}
WORK=$(mktemp -d /tmp/ossd-peer.XXXXXX)
export OUT=${OUT:-$WORK/out}
mkdir -p "$OUT"

OSSD_PID=
cleanup() {
  if [ -n "$OSSD_PID" ]; then
    kill -TERM "$OSSD_PID" 2>/dev/null || true
    for _ in $(seq 120); do kill -0 "$OSSD_PID" 2>/dev/null || break; sleep 0.25; done
    kill -KILL "$OSSD_PID" 2>/dev/null || true
  fi
  if [ "${KEEP:-0}" = 1 ]; then echo "kept $WORK" >&2; else rm -rf "$WORK"/data-* "$WORK"/bin "$WORK"/overlay.json; rmdir "$WORK" 2>/dev/null || true; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

BIN=$WORK/bin/ossd; S3SETUP=$WORK/bin/s3setup
build() { # [overlay.json]
  mkdir -p "$WORK/bin"
  local ov=(); [ -n "${1:-}" ] && ov=(-overlay "$1")
  (cd "$REPO" && go build "${ov[@]}" -o "$BIN" ./cmd/ossd && go build -o "$S3SETUP" ./bench/s3setup)
}

# start_ossd LOGGING(0|1) [extra env...]: fresh data dir, free loopback port.
# Sets OSSD_PID, OSSD_ADDR, OSSD_DATA.
N=0
start_ossd() {
  local logging=$1; shift
  N=$((N + 1)); OSSD_DATA=$WORK/data-$N
  mkdir -p "$OSSD_DATA"
  # shellcheck disable=SC2086 # OSSD_ENV is a list of K=V words
  env ${OSSD_ENV:-} "$@" OSS_ACCESS_KEY_ID="$AK" OSS_ACCESS_KEY_SECRET="$SK" \
    "$BIN" --addr 127.0.0.1:0 --data "$OSSD_DATA/d" --log-delivery-interval "$LOG_INTERVAL" --log-sync "$LOG_SYNC" \
    >"$OSSD_DATA/ossd.log" 2>&1 &
  OSSD_PID=$!
  OSSD_ADDR=
  for _ in $(seq 100); do
    OSSD_ADDR=$(sed -n 's|^ossd listening on http://||p' "$OSSD_DATA/ossd.log" | head -1)
    [ -n "$OSSD_ADDR" ] && break
    kill -0 "$OSSD_PID" 2>/dev/null || { echo "ossd died:" >&2; cat "$OSSD_DATA/ossd.log" >&2; exit 1; }
    sleep 0.1
  done
  [ -n "$OSSD_ADDR" ] || { echo "ossd did not start" >&2; exit 1; }
  # warp creates its bucket itself (MakeBucket if missing); create it anyway so that logging
  # can be configured on it before the first warp run.
  s3 mb "$BUCKET"
  if [ "$logging" = 1 ]; then
    s3 mb "$LOG_BUCKET"
    s3 logging "$BUCKET" "$LOG_BUCKET" x/
  fi
  echo "ossd pid $OSSD_PID on $OSSD_ADDR, data $OSSD_DATA/d, logging=$logging (delivery every $LOG_INTERVAL, --log-sync $LOG_SYNC)" >&2
}
s3() { "$S3SETUP" -endpoint "http://$OSSD_ADDR" -ak "$AK" -sk "$SK" "$@"; }
stop_ossd() {
  kill -TERM "$OSSD_PID" 2>/dev/null || true
  for _ in $(seq 200); do kill -0 "$OSSD_PID" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$OSSD_PID" 2>/dev/null || true
  wait "$OSSD_PID" 2>/dev/null || true
  OSSD_PID=
  [ "${KEEP:-0}" = 1 ] || rm -rf "$OSSD_DATA"
}
# log_check: how many log objects ossd delivered on its own during the run, then flush
# and count the delivered lines (every request warp made to the bucket, incl. its cleanup).
log_check() {
  local during lines
  during=$(s3 count "$LOG_BUCKET" | cut -d' ' -f1)
  OSS_ACCESS_KEY_ID=$AK OSS_ACCESS_KEY_SECRET=$SK "$BIN" logs flush --addr "$OSSD_ADDR" >/dev/null
  lines=$(s3 loglines "$LOG_BUCKET")
  echo "access log: $during log objects delivered during the run; $lines lines after flush" >&2
}
vm() { awk -v k="$1:" '$1==k{printf "%.1f", $2/1024}' "/proc/$OSSD_PID/status"; }  # MiB

info() {
  echo "ossd $(git -C "$REPO" rev-parse --short HEAD)$(git -C "$REPO" diff --quiet HEAD -- . ':!bench' ':!docs' || echo '+dirty'), $(go version | cut -d' ' -f3)," \
    "warp $(go version -m "$(go env GOPATH)/bin/warp" 2>/dev/null | awk '$1=="mod"{print $3}'), results in $OUT" >&2
}

mode_compare() {
  local label=ossd; [ "$LOGGING" = 1 ] && label=ossd-logged
  start_ossd "$LOGGING"
  NEW_ENDPOINT=$OSSD_ADDR NEW_AK=$AK NEW_SK=$SK NEW_LABEL=$label "$SHARED_BENCH/compare.sh"
  [ "$LOGGING" = 1 ] && log_check
  stop_ossd
}

mode_logging() {
  local r v order
  local out=$OUT/logging; mkdir -p "$out"
  for r in $(seq "$ROUNDS"); do
    order="0 1"; [ $((r % 2)) = 0 ] && order="1 0"   # ABBA: neither side always goes first
    for v in $order; do
      start_ossd "$v"
      OUT=$out ENDPOINT=$OSSD_ADDR LABEL=ossd-log$([ "$v" = 1 ] && echo on || echo off) \
        OPS=${LOG_OPS:-put get} SIZES=${LOG_SIZES:-4KiB} CONCS=${LOG_CONCS:-8} \
        "$SHARED_BENCH/s3-workload.sh" || true
      [ "$v" = 1 ] && log_check
      stop_ossd
    done
  done
  python3 "$SHARED_BENCH/median-table.py" "$out/results.tsv" --base ossd-logoff
}

mode_policy() {
  local r v order
  local out=$OUT/policy; mkdir -p "$out"
  for r in $(seq "$ROUNDS"); do
    order="0 1"; [ $((r % 2)) = 0 ] && order="1 0"   # ABBA
    for v in $order; do
      start_ossd 0
      [ "$v" = 1 ] && s3 policy "$BUCKET" "$REPO/bench/policy20.json"
      OUT=$out ENDPOINT=$OSSD_ADDR LABEL=ossd-policy$([ "$v" = 1 ] && echo on || echo off) \
        OPS=${POLICY_OPS:-get put} SIZES=4KiB CONCS=${POLICY_CONCS:-8} \
        "$SHARED_BENCH/s3-workload.sh" || true
      stop_ossd
    done
  done
  python3 "$SHARED_BENCH/median-table.py" "$out/results.tsv" --base ossd-policyoff
}

mode_rss() {
  local out=$OUT/rss sampler peak
  mkdir -p "$out"
  start_ossd "$LOGGING"
  echo "before: VmRSS $(vm VmRSS) MiB, VmHWM $(vm VmHWM) MiB" >&2
  # VmHWM is the kernel's own peak; the sampler is a cross-check (max VmRSS every 100 ms).
  ( m=0; while kill -0 "$OSSD_PID" 2>/dev/null; do
      v=$(awk '$1=="VmRSS:"{print $2}' "/proc/$OSSD_PID/status" 2>/dev/null || echo 0)
      [ "${v:-0}" -gt "$m" ] && { m=$v; echo "$m" >"$out/rss-max-kib"; }
      sleep 0.1; done ) &
  sampler=$!
  OUT=$out ENDPOINT=$OSSD_ADDR LABEL=ossd OPS=${RSS_OP:-put} SIZES=${RSS_SIZE:-64MiB} CONCS=${RSS_CONC:-32} \
    "$SHARED_BENCH/s3-workload.sh" || true
  peak=$(vm VmHWM)
  kill "$sampler" 2>/dev/null || true; wait "$sampler" 2>/dev/null || true
  echo "peak RSS during ${RSS_OP:-put} ${RSS_SIZE:-64MiB} c${RSS_CONC:-32}: VmHWM $peak MiB" \
    "(sampled max VmRSS $(awk '{printf "%.1f", $1/1024}' "$out/rss-max-kib" 2>/dev/null) MiB); target <= 256 MiB"
  stop_ossd
}

mode_profile() {
  local out=$OUT/profile pport secs=${PROF_SECONDS:-10} wpid
  mkdir -p "$out"
  printf '{"Replace":{"%s":"%s"}}\n' "$REPO/cmd/ossd/zz_bench_pprof.go" "$HERE/pprof/pprof.go.in" >"$WORK/overlay.json"
  build "$WORK/overlay.json"
  pport=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  start_ossd "$LOGGING" OSSD_BENCH_PPROF="127.0.0.1:$pport"
  DURATION=$((secs + 8))s OUT=$out ENDPOINT=$OSSD_ADDR LABEL=ossd OPS=${PROF_OP:-put} SIZES=${PROF_SIZE:-4KiB} \
    CONCS=${PROF_CONC:-8} "$SHARED_BENCH/s3-workload.sh" &
  wpid=$!
  # let warp upload its GET data set (if any) and ramp up, then profile the steady state
  case "${PROF_OP:-put}" in put) sleep 4;; *) sleep 15;; esac
  curl -s -o "$out/cpu.pprof" "http://127.0.0.1:$pport/debug/pprof/profile?seconds=$secs"
  wait "$wpid" || true
  go tool pprof -top -nodecount=40 "$BIN" "$out/cpu.pprof" 2>/dev/null | tee "$out/top.txt"
  echo "profile: $out/cpu.pprof (go tool pprof -http=: $BIN $out/cpu.pprof; binary kept with KEEP=1)" >&2
  stop_ossd
}

case "$MODE" in
  compare|logging|policy|rss|profile|all) ;;
  *) echo "usage: $0 [compare|logging|policy|rss|profile|all]" >&2; exit 2;;
esac
[ "$MODE" = profile ] || build
info
case "$MODE" in
  compare) mode_compare;;
  logging) mode_logging;;
  policy) mode_policy;;
  rss) mode_rss;;
  profile) mode_profile;;
  all) echo "== ossd vs $PEERS" >&2; mode_compare
       echo "== access logging off vs on" >&2; mode_logging
       echo "== peak RSS" >&2; mode_rss;;
esac
