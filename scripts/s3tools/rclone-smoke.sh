#!/usr/bin/env bash
# Smoke test of rclone's s3 backend against ossd's S3 API.
#
#   OSSD_ENDPOINT=http://127.0.0.1:9800 OSSD_KEY_ID=... OSSD_KEY_SECRET=... \
#     scripts/s3tools/rclone-smoke.sh
#
# Optional: RCLONE=/path/to/rclone, OSSD_REGION (default cn-hangzhou),
# OSSD_RCLONE_PROVIDER (default Other). Never reads ~/.config/rclone: the
# config lives in a temp dir (RCLONE_CONFIG).
set -Eeuo pipefail

: "${OSSD_ENDPOINT:?set OSSD_ENDPOINT, e.g. http://127.0.0.1:9800}"
: "${OSSD_KEY_ID:?set OSSD_KEY_ID}"
: "${OSSD_KEY_SECRET:?set OSSD_KEY_SECRET}"
RCLONE=${RCLONE:-rclone}
REGION=${OSSD_REGION:-cn-hangzhou}
PROVIDER=${OSSD_RCLONE_PROVIDER:-Other}
BUCKET=${OSSD_BUCKET:-rclone-smoke-$RANDOM$RANDOM}

command -v "$RCLONE" >/dev/null || { echo "FAIL: $RCLONE not found (apt-get install rclone)" >&2; exit 2; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
step=""
trap 'rc=$?; [ $rc -ne 0 ] && echo "FAIL: $step (exit $rc)" >&2' ERR

# Settings (README). Multipart: rclone's default upload cutoff is 200 MiB;
# 8 MiB cutoff and chunks make the 20 MiB file go up in 3 parts, and an
# 8 MiB copy cutoff makes the server-side copy of it UploadPartCopy.
export RCLONE_CONFIG=$work/rclone.conf
cat >"$RCLONE_CONFIG" <<EOF
[ossd]
type = s3
provider = $PROVIDER
access_key_id = $OSSD_KEY_ID
secret_access_key = $OSSD_KEY_SECRET
endpoint = $OSSD_ENDPOINT
region = $REGION
force_path_style = true
upload_cutoff = 8Mi
chunk_size = 8Mi
copy_cutoff = 8Mi
EOF
# Keep rclone's cache and any RCLONE_* of the caller out of the way.
export XDG_CACHE_HOME=$work/cache HOME=$work
for v in $(env | grep -o '^RCLONE_[A-Z_]*' | grep -v '^RCLONE_CONFIG$' || true); do unset "$v"; done
# rclone 1.60's aws-sdk-go fails every request with "LoadCustomCABundleError:
# ... unsupported transport, *fshttp.Transport" when AWS_CA_BUNDLE is set
# (use rclone's --ca-cert instead).
unset AWS_CA_BUNDLE AWS_PROFILE AWS_CONFIG_FILE AWS_SHARED_CREDENTIALS_FILE

rc() { "$RCLONE" --low-level-retries 1 --retries 1 "$@"; }
run() { step=$1; shift; echo "--- $step ($SECONDS s)" >&2; "$@"; }
check() { step=$1; shift; echo "--- $step" >&2; "$@" || { echo "FAIL: $step" >&2; exit 1; }; }

"$RCLONE" version | sed -n 1p

mkdir -p "$work/up/sub" "$work/down" "$work/sync"
printf 'hello from rclone\n' >"$work/up/small.txt"
head -c $((20 * 1024 * 1024)) /dev/urandom >"$work/up/big.bin"
printf 'nested\n' >"$work/up/sub/nested.txt"
# A key that needs escaping in URLs, signatures and listings.
mkdir -p "$work/up/sp ace"
printf 'odd\n' >"$work/up/sp ace/ü+%41&=~(x).txt"

R=ossd:$BUCKET
run "mkdir (CreateBucket)" rc mkdir "$R"
run "lsd (ListBuckets)" rc lsd ossd: >"$work/buckets"
check "bucket listed" grep -q " $BUCKET\$" "$work/buckets"

run "copyto small" rc copyto "$work/up/small.txt" "$R/small.txt"
run "copyto big (multipart, 3 parts)" rc copyto -vv --log-file "$work/put.log" "$work/up/big.bin" "$R/big.bin"
check "big went up as multipart" grep -q 'multipart upload starting' "$work/put.log"
run "lsl" rc lsl "$R" >"$work/objects"
cat "$work/objects"
check "small listed" grep -q ' small.txt$' "$work/objects"
check "big listed" grep -Eq '^ *20971520 .* big.bin$' "$work/objects"
run "md5sum (hashes from ETag / metadata)" rc md5sum "$R"

run "copyto small down" rc copyto "$R/small.txt" "$work/down/small.txt"
run "copyto big down" rc copyto "$R/big.bin" "$work/down/big.bin"
check "small round-trips" cmp "$work/up/small.txt" "$work/down/small.txt"
check "big round-trips" cmp "$work/up/big.bin" "$work/down/big.bin"
run "cat (GetObject)" rc cat "$R/small.txt" >"$work/down/cat.txt"
check "cat round-trips" cmp "$work/up/small.txt" "$work/down/cat.txt"

run "server-side copyto small (CopyObject)" rc copyto "$R/small.txt" "$R/copy/small.txt"
run "server-side copyto big (UploadPartCopy)" rc copyto "$R/big.bin" "$R/copy/big.bin"
run "copyto copy down" rc copyto "$R/copy/big.bin" "$work/down/big-copy.bin"
check "copy round-trips" cmp "$work/up/big.bin" "$work/down/big-copy.bin"

run "copy dir up" rc copy "$work/up" "$R/synced"
run "check (compare hashes)" rc check "$work/up" "$R/synced"
run "copy again (nothing to do)" rc copy -v --log-file "$work/recopy.log" "$work/up" "$R/synced"
check "second copy transfers nothing" bash -c "! grep -q 'Copied' '$work/recopy.log' || { cat '$work/recopy.log'; false; }"
run "sync down" rc sync "$R/synced" "$work/sync"
check "sync round-trips" diff -r "$work/up" "$work/sync"

run "link (presigned URL)" rc link --expire 5m "$R/small.txt" >"$work/url"
run "curl presigned URL" curl -fsS -o "$work/down/presigned.txt" "$(cat "$work/url")"
check "presigned GET round-trips" cmp "$work/up/small.txt" "$work/down/presigned.txt"

run "deletefile" rc deletefile "$R/small.txt"
run "delete (all objects)" rc delete "$R"
run "ls after delete" rc ls "$R" >"$work/objects"
check "bucket empty" test ! -s "$work/objects"
run "rmdir (DeleteBucket)" rc rmdir "$R"
run "lsd after rmdir" rc lsd ossd: >"$work/buckets"
check "bucket gone" bash -c "! grep -q ' $BUCKET\$' '$work/buckets'"

echo "rclone smoke: OK (provider $PROVIDER)"
