#!/usr/bin/env bash
# Smoke test of s3cmd against ossd's S3 API, with AWS SigV4 and SigV2.
#
#   OSSD_ENDPOINT=http://127.0.0.1:9800 OSSD_KEY_ID=... OSSD_KEY_SECRET=... \
#     scripts/s3tools/s3cmd-smoke.sh
#
# Optional: S3CMD=/path/to/s3cmd, OSSD_REGION (default cn-hangzhou),
# OSSD_S3CMD_SIGS (default "v4 v2": the signature versions to run).
# Never reads ~/.s3cfg: the config lives in a temp dir.
set -Eeuo pipefail

: "${OSSD_ENDPOINT:?set OSSD_ENDPOINT, e.g. http://127.0.0.1:9800}"
: "${OSSD_KEY_ID:?set OSSD_KEY_ID}"
: "${OSSD_KEY_SECRET:?set OSSD_KEY_SECRET}"
S3CMD=${S3CMD:-s3cmd}
REGION=${OSSD_REGION:-cn-hangzhou}
SIGS=${OSSD_S3CMD_SIGS:-v4 v2}

command -v "$S3CMD" >/dev/null || { echo "FAIL: $S3CMD not found (apt-get install s3cmd)" >&2; exit 2; }
case $OSSD_ENDPOINT in
http://*) hostport=${OSSD_ENDPOINT#http://} https=False ;;
https://*) hostport=${OSSD_ENDPOINT#https://} https=True ;;
*) echo "FAIL: OSSD_ENDPOINT must start with http:// or https://" >&2; exit 2 ;;
esac
hostport=${hostport%/}

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
step=""
trap 'rc=$?; [ $rc -ne 0 ] && echo "FAIL: $step (exit $rc)" >&2' ERR

run() { step=$1; shift; echo "--- $step ($SECONDS s)" >&2; "$@"; }
check() { step=$1; shift; echo "--- $step" >&2; "$@" || { echo "FAIL: $step" >&2; exit 1; }; }

"$S3CMD" --version

# Test files: a small one and a 12 MiB one, uploaded in 5 MiB parts
# (--multipart-chunk-size-mb=5: parts of 5, 5 and 2 MiB).
mkdir -p "$work/up/sub"
printf 'hello from s3cmd\n' >"$work/up/small.txt"
head -c $((12 * 1024 * 1024)) /dev/urandom >"$work/up/big.bin"
printf 'nested\n' >"$work/up/sub/nested.txt"
# A key that needs escaping in URLs, signatures and listings.
mkdir -p "$work/up/sp ace"
printf 'odd\n' >"$work/up/sp ace/ü+%41&=~(x).txt"

for sig in $SIGS; do
	case $sig in
	v4) v2=False ;;
	v2) v2=True ;;
	*) echo "FAIL: unknown signature version $sig (v4 or v2)" >&2; exit 2 ;;
	esac
	bucket=s3cmd-smoke-$sig-$RANDOM$RANDOM
	down=$work/down-$sig
	mkdir -p "$down"
	# Settings (README): path style is host_bucket without %(bucket)s.
	cat >"$work/s3cfg-$sig" <<EOF
[default]
access_key = $OSSD_KEY_ID
secret_key = $OSSD_KEY_SECRET
host_base = $hostport
host_bucket = $hostport
use_https = $https
check_ssl_certificate = False
signature_v2 = $v2
bucket_location = $REGION
EOF
	s3() { "$S3CMD" -c "$work/s3cfg-$sig" "$@"; }
	echo "=== s3cmd, signature $sig" >&2

	run "$sig: mb" s3 mb "s3://$bucket"
	run "$sig: ls buckets" s3 ls >"$work/buckets"
	check "$sig: bucket listed" grep -q " s3://$bucket\$" "$work/buckets"
	run "$sig: info bucket" s3 info "s3://$bucket"

	run "$sig: put small" s3 put "$work/up/small.txt" "s3://$bucket/small.txt"
	run "$sig: put big (multipart, 5 MiB parts)" s3 put --progress --multipart-chunk-size-mb=5 "$work/up/big.bin" "s3://$bucket/big.bin" >"$work/put"
	grep -a '^upload:' "$work/put"
	check "$sig: big went up in 3 parts" grep -q 'part 3 of 3' "$work/put"
	run "$sig: info big" s3 info "s3://$bucket/big.bin"

	run "$sig: ls objects" s3 ls "s3://$bucket/" >"$work/objects"
	cat "$work/objects"
	check "$sig: small listed" grep -q " s3://$bucket/small.txt\$" "$work/objects"
	check "$sig: big listed" grep -Eq " 12582912 +s3://$bucket/big.bin\$| 12M +s3://$bucket/big.bin\$" "$work/objects"

	run "$sig: get small" s3 get "s3://$bucket/small.txt" "$down/small.txt"
	run "$sig: get big" s3 get "s3://$bucket/big.bin" "$down/big.bin"
	check "$sig: small round-trips" cmp "$work/up/small.txt" "$down/small.txt"
	check "$sig: big round-trips" cmp "$work/up/big.bin" "$down/big.bin"

	# --acl-private: copy without s3cmd's GET ?acl / PUT ?acl round trip,
	# which is exercised on its own below.
	run "$sig: cp (CopyObject)" s3 cp --acl-private "s3://$bucket/big.bin" "s3://$bucket/copy/big.bin"
	run "$sig: get copy" s3 get "s3://$bucket/copy/big.bin" "$down/big-copy.bin"
	check "$sig: copy round-trips" cmp "$work/up/big.bin" "$down/big-copy.bin"

	run "$sig: sync up" s3 sync --multipart-chunk-size-mb=5 "$work/up/" "s3://$bucket/synced/"
	run "$sig: sync again (nothing to do)" s3 sync "$work/up/" "s3://$bucket/synced/" >"$work/resync"
	cat "$work/resync"
	check "$sig: second sync uploads nothing" bash -c "! grep -q upload: '$work/resync'"
	run "$sig: sync down" s3 sync "s3://$bucket/synced/" "$down/synced/"
	check "$sig: sync round-trips" diff -r "$work/up" "$down/synced"

	run "$sig: signurl" s3 signurl "s3://$bucket/small.txt" +300 >"$work/url"
	run "$sig: curl signed URL" curl -fsS -o "$down/signed.txt" "$(cat "$work/url")"
	check "$sig: signed URL GET round-trips" cmp "$work/up/small.txt" "$down/signed.txt"

	# ACLs: s3cmd sends PutObjectAcl with an AccessControlPolicy XML body.
	run "$sig: cp keeping the ACL (GET ?acl, CopyObject, PUT ?acl with XML body)" s3 cp "s3://$bucket/small.txt" "s3://$bucket/copy/small.txt"
	# New buckets block public access (OSS's default, S3's too): a public
	# ACL is refused until the block is lifted. s3cmd has no command for
	# that; curl signs S3's PutPublicAccessBlock itself.
	check "$sig: setacl --acl-public refused while blocked" bash -c \
		"! \"\$0\" -c '$work/s3cfg-$sig' setacl --acl-public 's3://$bucket/small.txt' >'$work/refused' 2>&1" "$S3CMD"
	check "$sig: refusal is OSS's" grep -q 'AccessDenied.*Put public object acl is not allowed' "$work/refused"
	# (curl 7.88 signs the body's SHA-256 whatever x-amz-content-sha256
	# says, so the header carries that hash; and it signs "?name" as
	# "name" where SigV4 wants "name=", so the URL spells it "?name=".)
	pab='<PublicAccessBlockConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><BlockPublicAcls>false</BlockPublicAcls><IgnorePublicAcls>false</IgnorePublicAcls><BlockPublicPolicy>false</BlockPublicPolicy><RestrictPublicBuckets>false</RestrictPublicBuckets></PublicAccessBlockConfiguration>'
	run "$sig: lift the block (PutPublicAccessBlock, curl --aws-sigv4)" curl -fsS -X PUT \
		--aws-sigv4 "aws:amz:$REGION:s3" --user "$OSSD_KEY_ID:$OSSD_KEY_SECRET" \
		-H "x-amz-content-sha256: $(printf '%s' "$pab" | sha256sum | cut -d' ' -f1)" --data-binary "$pab" \
		"$OSSD_ENDPOINT/$bucket?publicAccessBlock="
	run "$sig: setacl --acl-public (PUT ?acl with XML body)" s3 setacl --acl-public "s3://$bucket/small.txt"
	run "$sig: info after setacl" s3 info "s3://$bucket/small.txt" >"$work/info"
	check "$sig: ACL has anonymous READ" grep -q 'ACL: *\*anon\*: READ' "$work/info"

	run "$sig: del one" s3 del "s3://$bucket/small.txt"
	run "$sig: del recursive" s3 del --recursive --force "s3://$bucket/"
	run "$sig: ls after del" s3 ls --recursive "s3://$bucket/" >"$work/objects"
	check "$sig: bucket empty" test ! -s "$work/objects"
	run "$sig: rb" s3 rb "s3://$bucket"
	run "$sig: ls buckets after rb" s3 ls >"$work/buckets"
	check "$sig: bucket gone" bash -c "! grep -q ' s3://$bucket\$' '$work/buckets'"
done

echo "s3cmd smoke: OK ($SIGS)"
