#!/usr/bin/env bash
# The AWS CLI against ossd over HTTPS (ossd --tls-self-signed or --tls-cert):
# the certificate is verified — never --no-verify-ssl —, first without
# trusting it (every command must fail certificate verification), then with
# --ca-bundle: bucket, a multipart upload, download compared byte for byte,
# a presigned URL fetched with curl --cacert, deletes. Run by
# e2e/TestTLSClients.
#
#   OSSD_ENDPOINT=https://127.0.0.1:9800 OSSD_CA=<data>/tls/cert.pem \
#     OSSD_KEY_ID=... OSSD_KEY_SECRET=... scripts/s3tools/awscli-https.sh
#
# Optional: AWS=/path/to/aws, OSSD_REGION (default cn-hangzhou). Never
# reads ~/.aws.
set -Eeuo pipefail

: "${OSSD_ENDPOINT:?set OSSD_ENDPOINT, e.g. https://127.0.0.1:9800}"
: "${OSSD_CA:?set OSSD_CA to the certificate ossd serves (PEM)}"
: "${OSSD_KEY_ID:?set OSSD_KEY_ID}"
: "${OSSD_KEY_SECRET:?set OSSD_KEY_SECRET}"
AWS=${AWS:-aws}
REGION=${OSSD_REGION:-cn-hangzhou}
BUCKET=awscli-https-$RANDOM$RANDOM
command -v "$AWS" >/dev/null || { echo "FAIL: $AWS not found (apt-get install awscli)" >&2; exit 2; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export AWS_CONFIG_FILE=$work/config AWS_SHARED_CREDENTIALS_FILE=$work/credentials
export AWS_ACCESS_KEY_ID=$OSSD_KEY_ID AWS_SECRET_ACCESS_KEY=$OSSD_KEY_SECRET
export AWS_DEFAULT_REGION=$REGION AWS_REGION=$REGION
export AWS_EC2_METADATA_DISABLED=true AWS_PAGER=""
unset AWS_PROFILE AWS_SESSION_TOKEN AWS_ENDPOINT_URL AWS_CA_BUNDLE
printf '[default]\nregion = %s\ns3 =\n    addressing_style = path\n    multipart_threshold = 8MB\n    multipart_chunksize = 8MB\n' "$REGION" >"$work/config"
: >"$work/credentials"

fail() { echo "FAIL: $*" >&2; exit 1; }
"$AWS" --version

# Not trusted: refused by the client's certificate check.
if out=$("$AWS" --endpoint-url "$OSSD_ENDPOINT" s3 ls 2>&1); then
	fail "aws s3 ls over https without trusting ossd's certificate succeeded: $out"
fi
grep -q "CERTIFICATE_VERIFY_FAILED\|certificate verify failed" <<<"$out" || fail "untrusted: not a certificate failure: $out"
echo "ok: without --ca-bundle the CLI refuses ossd's certificate"

aws() { "$AWS" --endpoint-url "$OSSD_ENDPOINT" --ca-bundle "$OSSD_CA" "$@"; }
aws s3 mb "s3://$BUCKET" >/dev/null || fail "mb"
head -c $((12 * 1024 * 1024)) /dev/urandom >"$work/big.bin"
aws s3 cp --only-show-errors "$work/big.bin" "s3://$BUCKET/dir/big.bin" || fail "cp up (multipart)"
aws s3 cp --only-show-errors "s3://$BUCKET/dir/big.bin" "$work/back.bin" || fail "cp down"
cmp "$work/big.bin" "$work/back.bin" || fail "downloaded bytes differ"
echo "ok: 12 MiB multipart upload read back byte for byte"
[ "$(aws s3api list-objects-v2 --bucket "$BUCKET" --query 'Contents[].Key' --output text)" = "dir/big.bin" ] || fail "listing"
echo "ok: listing"
url=$(aws s3 presign "s3://$BUCKET/dir/big.bin" --expires-in 300)
case $url in https://*) ;; *) fail "presigned URL not https: $url" ;; esac
curl -fsS --cacert "$OSSD_CA" -o "$work/presigned.bin" "$url" || fail "presigned GET"
cmp "$work/big.bin" "$work/presigned.bin" || fail "presigned bytes differ"
echo "ok: presigned GET over https"
aws s3 rm --only-show-errors "s3://$BUCKET/dir/big.bin" || fail "rm"
aws s3 rb "s3://$BUCKET" >/dev/null || fail "rb"
echo "all passed"
