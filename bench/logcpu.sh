#!/usr/bin/env bash
# CPU per logged request, before and after a change: runs the in-process e2e
# benchmarks (client and server in one process, so CPU is both sides')
# with and without access logging, a fixed number of requests each, under
# /usr/bin/time, and prints CPU µs per request (user+sys ÷ requests; the
# setup — server start, 64 objects — is included and is a few ms).
#
#   bench/logcpu.sh [BEFORE_REV] [N]     default: the merge base with main's first commit of the
#                                        durability modes (e7fcd03), 20000 requests
#
# Run it on a quiet machine: every figure is CPU time, not wall time, but a
# busy machine still inflates it (cache misses, migrations).
set -euo pipefail
REPO=$(cd "$(dirname "$0")/.." && pwd)
BEFORE=${1:-e7fcd03}; N=${2:-20000}; ROUNDS=${ROUNDS:-3}
W=$(mktemp -d /tmp/ossd-logcpu.XXXXXX); trap 'git -C "$REPO" worktree remove --force "$W/before" >/dev/null 2>&1 || true; rm -rf "$W"' EXIT
git -C "$REPO" worktree add --detach "$W/before" "$BEFORE" >/dev/null 2>&1
(cd "$W/before" && go test -c -o "$W/before.test" ./e2e)
(cd "$REPO" && go test -c -o "$W/after.test" ./e2e)
printf '%-8s %-16s %s\n' build benchmark "CPU µs/request (rounds)"
for b in Put4KiB Put4KiBLogged Get4KiB Get4KiBLogged; do
  for side in before after; do
    figs=()
    for _ in $(seq "$ROUNDS"); do
      t=$( { /usr/bin/time -f '%U %S' "$W/$side.test" -test.run '^$' -test.bench "^Benchmark$b\$" \
        -test.benchtime "${N}x" >/dev/null; } 2>&1 | tail -1)
      figs+=("$(awk -v n="$N" '{printf "%.1f", ($1+$2)*1e6/n}' <<<"$t")")
    done
    printf '%-8s %-16s %s\n' "$side" "$b" "${figs[*]}"
  done
done
