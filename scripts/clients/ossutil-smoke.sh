#!/usr/bin/env bash
# Smoke test of ossutil (Alibaba Cloud's OSS CLI, 1.7.x pinned in
# scripts/clients/ossutil/go.mod) against a running ossd, path-style, with V4
# and V1 signatures.
#
#   (cd scripts/clients/ossutil && go install tool)   # -> $(go env GOPATH)/bin/ossutil
#   OSSD_ENDPOINT=http://127.0.0.1:9800 OSSD_KEY_ID=... OSSD_KEY_SECRET=... \
#     bash scripts/clients/ossutil-smoke.sh
#
# Environment:
#   OSSD_ENDPOINT    http://host:port of ossd (required)
#   OSSD_KEY_ID      access key id (required)
#   OSSD_KEY_SECRET  access key secret (required)
#   OSSD_REGION      region ossd answers as (default cn-hangzhou)
#   OSSD_BUCKET      bucket name prefix (default ossutil-smoke-<random>);
#                    "-<sign>" is appended per run
#   OSSD_SIGN        "v4", "v1" or "v4 v1" (default)
#   OSSUTIL          ossutil binary (default: ossutil in PATH, else
#                    $(go env GOPATH)/bin/ossutil)
#
# Per signature version: mb, ls (buckets), cp up, ls (objects), stat, cp down
# + compare, multipart cp up/down of 350 KiB with 100 KiB parts + compare,
# logging put/get/delete, rm -r (objects), rm -b (bucket), ls (bucket gone).
# Exit status: 0 all passed, 1 on the first failing step (its command and
# output are printed), 2 on a setup error (missing env or binary).
#
# The working flags against ossd (ossutil 1.7.x):
#   ossutil -e http://127.0.0.1:PORT -i ID -k SECRET --region cn-hangzhou \
#     --sign-version v4 --force-path-style -c /dev/null <command>
# --sign-version v1 works too (then --region is not needed). For an IP endpoint
# the SDK under ossutil 1.x already uses path-style; --force-path-style is what
# makes http://localhost:PORT work. ossutil 1.x has no --addressing-style
# (that is ossutil 2.x).
set -uo pipefail

die() { echo "ossutil-smoke: $*" >&2; exit 2; }

: "${OSSD_ENDPOINT:?}" 2>/dev/null || die "OSSD_ENDPOINT is not set"
: "${OSSD_KEY_ID:?}" 2>/dev/null || die "OSSD_KEY_ID is not set"
: "${OSSD_KEY_SECRET:?}" 2>/dev/null || die "OSSD_KEY_SECRET is not set"
region=${OSSD_REGION:-cn-hangzhou}
prefix=${OSSD_BUCKET:-ossutil-smoke-$(od -An -N4 -tx1 /dev/urandom | tr -d ' \n')}
signs=${OSSD_SIGN:-v4 v1}

ossutil=${OSSUTIL:-}
if [[ -z $ossutil ]]; then
	if command -v ossutil >/dev/null; then
		ossutil=$(command -v ossutil)
	elif command -v go >/dev/null && [[ -x "$(go env GOPATH)/bin/ossutil" ]]; then
		ossutil="$(go env GOPATH)/bin/ossutil"
	fi
fi
[[ -n $ossutil && -x $ossutil ]] || die "ossutil not found: run (cd scripts/clients/ossutil && go install tool), or set OSSUTIL"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work" || die "cannot cd to $work"
: >"$work/ossutilconfig" # an empty config, so that no ~/.ossutilconfig is read

echo "$("$ossutil" --version 2>&1 | head -1) against $OSSD_ENDPOINT (region $region, path-style; $signs)"

out=$work/out.txt
sign=
# run STEP ARGS...: run ossutil with the connection flags; fail on non-zero.
# It runs in $work, where cp keeps .ossutil_checkpoint and ossutil_output.
run() {
	local step=$1
	shift
	local t0=$SECONDS
	if ! "$ossutil" "$@" -c "$work/ossutilconfig" -e "$OSSD_ENDPOINT" -i "$OSSD_KEY_ID" -k "$OSSD_KEY_SECRET" \
		--region "$region" --sign-version "$sign" --force-path-style >"$out" 2>&1; then
		echo "FAIL $sign $step: ossutil $* exited non-zero; output:" >&2
		sed 's/^/    /' "$out" >&2
		exit 1
	fi
	echo "ok   $sign $step ($((SECONDS - t0)) s)"
}
# expect STEP PATTERN: the last command's output must match the ERE.
expect() {
	if ! grep -Eq -- "$2" "$out"; then
		echo "FAIL $sign $1: output does not match /$2/:" >&2
		sed 's/^/    /' "$out" >&2
		exit 1
	fi
}
# reject STEP PATTERN: the last command's output must not match the ERE.
reject() {
	if grep -Eq -- "$2" "$out"; then
		echo "FAIL $sign $1: output matches /$2/:" >&2
		sed 's/^/    /' "$out" >&2
		exit 1
	fi
}
same() {
	if ! cmp -s "$2" "$3"; then
		echo "FAIL $sign $1: $3 differs from what was uploaded ($(wc -c <"$3") bytes, want $(wc -c <"$2"))" >&2
		exit 1
	fi
	echo "ok   $sign $1"
}

printf 'hello from ossutil\n' >small.txt
head -c $((350 * 1024)) /dev/urandom >big.bin

for sign in $signs; do
	case $sign in v1 | v4) ;; *) die "OSSD_SIGN: unknown signature version $sign" ;; esac
	b="$prefix-$sign"
	run "mb" mb "oss://$b"
	run "ls buckets" ls -s
	expect "ls buckets" "^oss://$b\$"
	run "cp up" cp small.txt "oss://$b/dir/hello world.txt"
	run "ls objects" ls -s "oss://$b/dir/"
	expect "ls objects" "^oss://$b/dir/hello world.txt\$"
	run "stat" stat "oss://$b/dir/hello world.txt"
	expect "stat" "Content-Length +: $(wc -c <small.txt)\$"
	run "cp down" cp "oss://$b/dir/hello world.txt" small.down -f
	same "cp down content" small.txt small.down
	run "cp up multipart" cp big.bin "oss://$b/big.bin" --bigfile-threshold=102400 --part-size=102400
	run "stat multipart" stat "oss://$b/big.bin"
	expect "stat multipart" "Etag +: [0-9A-F]{32}-4\$"
	run "cp down multipart" cp "oss://$b/big.bin" big.down -f --bigfile-threshold=102400 --part-size=102400
	same "cp down multipart content" big.bin big.down
	run "logging put" logging --method put "oss://$b" "oss://$b/smoke-log/"
	run "logging get" logging --method get "oss://$b"
	expect "logging get" "<TargetPrefix>smoke-log/</TargetPrefix>"
	run "logging delete" logging --method delete "oss://$b"
	run "rm object" rm "oss://$b/dir/hello world.txt" -f
	run "rm -r" rm -r -f "oss://$b"
	run "rm -b" rm -b -f "oss://$b"
	run "ls buckets after rb" ls -s
	reject "ls buckets after rb" "^oss://$b\$"
done
echo "ossutil smoke: all steps passed"
