#!/usr/bin/env bash
# Where a logged request's time goes: device flushes, journal syncs and CPU per
# request, with access logging off, in the default mode (--log-sync 1s) and in
# the always mode, under one warp workload (PUT 4 KiB c8 by default).
#
#   bench/logflush.sh                  3 rounds of off / 1s / always (order rotated each round)
#   ROUNDS=5 OP=get CONC=64 bench/logflush.sh
#   MODES="off always always@1002d76" bench/logflush.sh
#                                      a mode@REV runs ossd built from git revision REV:
#                                      an earlier build, interleaved with this one
#
# Each run starts a fresh ossd, runs warp for DURATION and samples between
# START and DURATION-2s (steady state: no bucket preparation, no cleanup):
#   req/s       requests of the workload's operation ossd answered (its metrics)
#   ossd-cpu    ossd's user+sys CPU per request (/proc/PID/stat)
#   host-cpu    the whole machine's busy CPU per request, warp included (/proc/stat)
#   syncs       access-log journal fdatasyncs per request (ossd_accesslog_sync_duration_seconds)
#   sync-ms     their mean duration
#   flushes     cache flushes the data directory's block device completed per request
#               (/proc/diskstats field 19: every fsync/fdatasync that reaches the device)
#   writes      write requests the device completed per request
#   steal       share of the machine's CPU time the hypervisor gave to others (/proc/stat):
#               runs with a high figure are the noisy ones
# Figures are per request and need no peer; compare within one run (the VM's disk
# and CPU vary by 2x from one hour to the next).
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(git -C "$HERE" rev-parse --show-toplevel)
SHARED_BENCH=${SHARED_BENCH:-$REPO/../shared/bench}
ROUNDS=${ROUNDS:-3}; OP=${OP:-put}; SIZE=${SIZE:-4KiB}; CONC=${CONC:-8}; DURATION=${DURATION:-14}; START=${START:-4}
MODES=${MODES:-off 1s always}
AK=${AK:-benchak}; SK=${SK:-benchsecretkey123}
WARP=$(go env GOPATH)/bin/warp
[ -x "$WARP" ] || { echo "logflush.sh: warp missing; bench/peer.sh (../shared/bench/s3-workload.sh) installs it" >&2; exit 2; }
[ "$DURATION" -gt $((START + 4)) ] || { echo "logflush.sh: DURATION must exceed START+4 seconds" >&2; exit 2; }
case $OP in put) METRIC_OP=PutObject;; get) METRIC_OP=GetObject;; *) echo "OP: put or get" >&2; exit 2;; esac

WORK=$(mktemp -d /tmp/ossd-logflush.XXXXXX)
PID=
cleanup() { [ -n "$PID" ] && kill -KILL "$PID" 2>/dev/null; rm -rf "$WORK"; }
trap cleanup EXIT
(cd "$REPO" && go build -o "$WORK/ossd" ./cmd/ossd && go build -o "$WORK/s3setup" ./bench/s3setup)
for m in $MODES; do # builds of other revisions, for mode@REV
  case $m in *@*) rev=${m#*@}
    [ -x "$WORK/ossd@$rev" ] && continue
    mkdir -p "$WORK/src@$rev"
    git -C "$REPO" archive "$rev" | tar -x -C "$WORK/src@$rev"
    (cd "$WORK/src@$rev" && go build -o "$WORK/ossd@$rev" ./cmd/ossd) ;;
  esac
done
DEV=$(basename "$(df --output=source "$WORK" | tail -1)")
grep -q " $DEV " /proc/diskstats || { echo "logflush.sh: no /proc/diskstats line for $DEV (the filesystem of $WORK)" >&2; exit 2; }

# sample: ossd CPU ticks, machine busy and total ticks, requests, journal syncs and their
# seconds, device writes, flushes, stolen ticks
sample() {
  local m; m=$(curl -sf "http://$MON/-/ossd/metrics")
  printf '%s %s %s %s %s %s\n' \
    "$(awk '{print $14+$15}' "/proc/$PID/stat")" \
    "$(awk '$1=="cpu"{print $2+$3+$4+$7+$8+$9, $2+$3+$4+$5+$6+$7+$8+$9}' /proc/stat)" \
    "$(awk -v op="$METRIC_OP" 'index($0, "ossd_requests_total{") == 1 && index($0, "operation=\"" op "\"") {s += $2} END {print s+0}' <<<"$m")" \
    "$(awk '$1=="ossd_accesslog_sync_duration_seconds_count"{c=$2} $1=="ossd_accesslog_sync_duration_seconds_sum"{s=$2} END{print c+0, s+0}' <<<"$m")" \
    "$(awk -v d="$DEV" '$3==d{print $8, $19}' /proc/diskstats) $(awk '$1=="cpu"{print $9}' /proc/stat)"
}

run() { # MODE[@REV]
  local mode=$1 data=$WORK/data sync=1s s0 s1 wpid bin=$WORK/ossd
  rm -rf "$data"; mkdir -p "$data"
  case $mode in *@*) bin=$WORK/ossd@${mode#*@};; esac
  [ "${mode%@*}" = always ] && sync=always
  OSS_ACCESS_KEY_ID=$AK OSS_ACCESS_KEY_SECRET=$SK "$bin" --addr 127.0.0.1:0 --metrics-addr 127.0.0.1:0 \
    --data "$data/d" --log-sync "$sync" >"$data/log" 2>&1 &
  PID=$!
  ADDR=; MON=
  for _ in $(seq 100); do
    ADDR=$(sed -n 's|^ossd listening on http://||p' "$data/log" | head -1)
    MON=$(sed -n 's|.*monitoring: http://\([^/]*\)/.*|\1|p' "$data/log" | head -1)
    [ -n "$ADDR" ] && [ -n "$MON" ] && break
    sleep 0.1
  done
  [ -n "$ADDR" ] || { echo "ossd did not start:" >&2; cat "$data/log" >&2; exit 1; }
  s3() { "$WORK/s3setup" -endpoint "http://$ADDR" -ak "$AK" -sk "$SK" "$@"; }
  s3 mb warp-bench
  if [ "${mode%@*}" != off ]; then s3 mb warp-logs; s3 logging warp-bench warp-logs x/; fi
  local extra=(); [ "$OP" = get ] && extra=(--objects 2500)
  "$WARP" "$OP" --host "$ADDR" --access-key "$AK" --secret-key "$SK" --bucket warp-bench --obj.size "$SIZE" \
    --concurrent "$CONC" --duration "${DURATION}s" --disable-multipart --disable-sha256-payload --no-color \
    --benchdata "$data/w" "${extra[@]}" >"$data/warp.log" 2>&1 &
  wpid=$!
  if [ "$OP" = get ]; then # the window starts once warp's uploads are done
    for _ in $(seq 600); do grep -q '^ossd_requests_total{.*GetObject' <(curl -sf "http://$MON/-/ossd/metrics") && break; sleep 0.1; done
  fi
  sleep "$START"; s0=$(sample); sleep $((DURATION - START - 2)); s1=$(sample)
  wait "$wpid" || { echo "warp failed:" >&2; tail -5 "$data/warp.log" >&2; exit 1; }
  kill -TERM "$PID"; wait "$PID" 2>/dev/null || true; PID=
  # shellcheck disable=SC2086
  awk -v mode="$mode" -v secs=$((DURATION - START - 2)) -v a="$s0" -v b="$s1" 'BEGIN {
    split(a, x, " "); split(b, y, " "); for (i in x) d[i] = y[i] - x[i]
    r = d[4]; if (r <= 0) { print mode, "no requests in the window" > "/dev/stderr"; exit 1 }
    printf "%-15s %8.0f %9.0f %9.0f %6.2f %8.2f %8.2f %7.2f %5.0f%%\n", mode, r / secs, d[1] * 1e6 / 100 / r, d[2] * 1e6 / 100 / r,
      d[5] / r, (d[5] ? d[6] * 1e3 / d[5] : 0), d[8] / r, d[7] / r, 100 * d[9] / d[3] }'
}

echo "ossd $(git -C "$REPO" rev-parse --short HEAD), warp $OP $SIZE c$CONC ${DURATION}s (window ${START}s..$((DURATION - 2))s), device $DEV" >&2
printf '%-15s %8s %9s %9s %6s %8s %8s %7s %6s\n' mode req/s ossd-cpu host-cpu syncs sync-ms flushes writes steal
printf '%-15s %8s %9s %9s %6s %8s %8s %7s %6s\n' "" "" "µs/req" "µs/req" "/req" "" "/req" "/req" ""
for r in $(seq "$ROUNDS"); do
  # rotate the order so that no mode always runs first
  read -ra order <<<"$MODES"
  shift_by=$(( (r - 1) % ${#order[@]} ))
  for m in "${order[@]:shift_by}" "${order[@]:0:shift_by}"; do run "$m" >>"$WORK/rows"; tail -1 "$WORK/rows"; done
done
# Medians per mode (each column's own), and the rate's ratio to logging off's.
med() { # MODE COLUMN
  awk -v m="$1" -v c="$2" '$1 == m {print $c}' "$WORK/rows" | sort -g |
    awk '{v[NR] = $1} END {i = int((NR + 1) / 2); j = int(NR / 2) + 1; print (v[i] + v[j]) / 2}'
}
echo
echo "medians of $ROUNDS rounds:"
off=$(med off 2)
for m in $MODES; do
  r=$(med "$m" 2)
  ratio=-; [ -n "$off" ] && [ "$off" != 0 ] && ratio=$(awk -v a="$r" -v b="$off" 'BEGIN {printf "%.2f", a / b}')
  printf '%-15s %8.0f req/s  %s of off  flushes/req %s  syncs/req %s  ossd-cpu %s µs/req\n' "$m" "$r" "$ratio" "$(med "$m" 7)" "$(med "$m" 5)" "$(med "$m" 3)"
done
