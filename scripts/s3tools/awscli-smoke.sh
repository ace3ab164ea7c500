#!/usr/bin/env bash
# Smoke test of the AWS CLI (`aws s3` and `aws s3api`) against ossd's S3 API.
#
#   OSSD_ENDPOINT=http://127.0.0.1:9800 OSSD_KEY_ID=... OSSD_KEY_SECRET=... \
#     scripts/s3tools/awscli-smoke.sh
#
# Optional: AWS=/path/to/aws (default: aws on PATH), OSSD_REGION (default
# cn-hangzhou; us-east-1 works too), OSSD_BUCKET (default: a random name).
# Never reads ~/.aws: config and credentials live in a temp dir.
set -Eeuo pipefail

: "${OSSD_ENDPOINT:?set OSSD_ENDPOINT, e.g. http://127.0.0.1:9800}"
: "${OSSD_KEY_ID:?set OSSD_KEY_ID}"
: "${OSSD_KEY_SECRET:?set OSSD_KEY_SECRET}"
AWS=${AWS:-aws}
REGION=${OSSD_REGION:-cn-hangzhou}
BUCKET=${OSSD_BUCKET:-awscli-smoke-$RANDOM$RANDOM}

command -v "$AWS" >/dev/null || { echo "FAIL: $AWS not found (apt-get install awscli)" >&2; exit 2; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
step=""
trap 'rc=$?; [ $rc -ne 0 ] && echo "FAIL: $step (exit $rc)" >&2' ERR

# Settings (README): a private config dir, path-style addressing, the
# server's region. Newer CLIs (>= 2.23 / 1.37) add CRC checksums by default;
# ossd verifies them, so when_supported is kept (set when_required to turn
# them off).
export AWS_CONFIG_FILE=$work/config AWS_SHARED_CREDENTIALS_FILE=$work/credentials
export AWS_ACCESS_KEY_ID=$OSSD_KEY_ID AWS_SECRET_ACCESS_KEY=$OSSD_KEY_SECRET
export AWS_DEFAULT_REGION=$REGION AWS_REGION=$REGION
export AWS_EC2_METADATA_DISABLED=true AWS_PAGER=""
unset AWS_PROFILE AWS_SESSION_TOKEN AWS_ENDPOINT_URL
cat >"$work/config" <<EOF
[default]
region = $REGION
s3 =
    addressing_style = path
    multipart_threshold = 8MB
    multipart_chunksize = 8MB
EOF
: >"$work/credentials"

aws() { "$AWS" --endpoint-url "$OSSD_ENDPOINT" "$@"; }
run() { step=$1; shift; echo "--- $step ($SECONDS s)" >&2; "$@"; }
check() { step=$1; shift; echo "--- $step" >&2; "$@" || { echo "FAIL: $step" >&2; exit 1; }; }

"$AWS" --version

# Test files: a small one and one over the multipart threshold (20 MiB ->
# three parts of 8 MiB, 8 MiB, 4 MiB).
mkdir -p "$work/up/sub" "$work/down" "$work/sync"
printf 'hello from awscli\n' >"$work/up/small.txt"
head -c $((20 * 1024 * 1024)) /dev/urandom >"$work/up/big.bin"
printf 'nested\n' >"$work/up/sub/nested.txt"
# A key that needs escaping in URLs, signatures and listings.
mkdir -p "$work/up/sp ace"
printf 'odd\n' >"$work/up/sp ace/ü+%41&=~(x).txt"

run "mb" aws s3 mb "s3://$BUCKET"
run "ls buckets" aws s3 ls >"$work/buckets"
check "bucket listed" grep -q " $BUCKET\$" "$work/buckets"
run "head-bucket" aws s3api head-bucket --bucket "$BUCKET"
run "get-bucket-location" aws s3api get-bucket-location --bucket "$BUCKET"

run "cp small" aws s3 cp --no-progress "$work/up/small.txt" "s3://$BUCKET/small.txt"
run "cp big (multipart)" aws s3 cp --no-progress "$work/up/big.bin" "s3://$BUCKET/big.bin"
run "head-object big" aws s3api head-object --bucket "$BUCKET" --key big.bin >"$work/head.json"
check "big is a multipart object (ETag ends -3)" grep -q '"ETag": "\\"[0-9a-fA-F]*-3\\""' "$work/head.json"
check "big has the right size" grep -q '"ContentLength": 20971520' "$work/head.json"

run "ls objects" aws s3 ls "s3://$BUCKET/" >"$work/objects"
cat "$work/objects"
check "small listed" grep -q ' small.txt$' "$work/objects"
check "big listed" grep -q ' 20971520 big.bin$' "$work/objects"
run "list-objects-v2" aws s3api list-objects-v2 --bucket "$BUCKET" >/dev/null

run "cp small down" aws s3 cp --no-progress "s3://$BUCKET/small.txt" "$work/down/small.txt"
run "cp big down (ranged gets)" aws s3 cp --no-progress "s3://$BUCKET/big.bin" "$work/down/big.bin"
check "small round-trips" cmp "$work/up/small.txt" "$work/down/small.txt"
check "big round-trips" cmp "$work/up/big.bin" "$work/down/big.bin"

run "cp in-bucket (CopyObject)" aws s3 cp --no-progress "s3://$BUCKET/small.txt" "s3://$BUCKET/copy/small.txt"
run "cp big in-bucket (UploadPartCopy)" aws s3 cp --no-progress "s3://$BUCKET/big.bin" "s3://$BUCKET/copy/big.bin"
run "cp copies down" aws s3 cp --no-progress "s3://$BUCKET/copy/big.bin" "$work/down/big-copy.bin"
check "big copy round-trips" cmp "$work/up/big.bin" "$work/down/big-copy.bin"

run "sync up" aws s3 sync --no-progress "$work/up" "s3://$BUCKET/synced"
run "sync again (nothing to do)" aws s3 sync --no-progress "$work/up" "s3://$BUCKET/synced" >"$work/resync"
cat "$work/resync"
check "second sync uploads nothing" test ! -s "$work/resync"
run "sync down" aws s3 sync --no-progress "s3://$BUCKET/synced" "$work/sync"
check "sync round-trips" diff -r "$work/up" "$work/sync"

run "presign" aws s3 presign "s3://$BUCKET/small.txt" --expires-in 300 >"$work/url"
run "curl presigned URL" curl -fsS -o "$work/down/presigned.txt" "$(cat "$work/url")"
check "presigned GET round-trips" cmp "$work/up/small.txt" "$work/down/presigned.txt"

# Lifecycle rules in S3's form (Filter/And/Tag, AbortIncompleteMultipartUpload,
# NoncurrentVersionExpiration), read back, deleted; then S3's 404.
cat >"$work/lifecycle.json" <<'EOF'
{"Rules": [
 {"ID": "logs", "Status": "Enabled", "Filter": {"Prefix": "log/"}, "Expiration": {"Days": 30},
  "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 2}},
 {"ID": "tmp", "Status": "Enabled",
  "Filter": {"And": {"Prefix": "tmp/", "Tags": [{"Key": "class", "Value": "tmp"}]}},
  "Expiration": {"Days": 1}, "NoncurrentVersionExpiration": {"NoncurrentDays": 3}}
]}
EOF
run "put-bucket-lifecycle-configuration" aws s3api put-bucket-lifecycle-configuration --bucket "$BUCKET" \
	--lifecycle-configuration "file://$work/lifecycle.json"
run "get-bucket-lifecycle-configuration" aws s3api get-bucket-lifecycle-configuration --bucket "$BUCKET" >"$work/lc.json"
cat "$work/lc.json"
check "lifecycle rule read back" grep -q '"DaysAfterInitiation": 2' "$work/lc.json"
check "lifecycle And filter read back" grep -q '"Prefix": "tmp/"' "$work/lc.json"
run "delete-bucket-lifecycle" aws s3api delete-bucket-lifecycle --bucket "$BUCKET"
step="get-bucket-lifecycle-configuration after delete"
if aws s3api get-bucket-lifecycle-configuration --bucket "$BUCKET" 2>"$work/lc.err"; then
	echo "FAIL: $step: a configuration is still there" >&2
	exit 1
fi
check "lifecycle gone (NoSuchLifecycleConfiguration)" grep -q NoSuchLifecycleConfiguration "$work/lc.err"

run "rm one" aws s3 rm --only-show-errors "s3://$BUCKET/small.txt"
run "rm recursive (DeleteObjects)" aws s3 rm --only-show-errors --recursive "s3://$BUCKET/"
run "ls after rm" aws s3api list-objects-v2 --no-paginate --bucket "$BUCKET" --query 'KeyCount' --output text >"$work/count"
check "bucket empty" grep -qx 0 "$work/count"
run "rb" aws s3 rb "s3://$BUCKET"
run "ls buckets after rb" aws s3 ls >"$work/buckets"
check "bucket gone" bash -c "! grep -q ' $BUCKET\$' '$work/buckets'"

echo "awscli smoke: OK"
