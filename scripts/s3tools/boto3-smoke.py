#!/usr/bin/env python3
"""Smoke test of boto3 (AWS SDK for Python) against ossd's S3 API.

    OSSD_ENDPOINT=http://127.0.0.1:9800 OSSD_KEY_ID=... OSSD_KEY_SECRET=... \\
        python3 scripts/s3tools/boto3-smoke.py

Optional: OSSD_REGION (default cn-hangzhou), OSSD_BOTO3_SIGS (default
"s3v4 s3": SigV4 and SigV2). Never reads ~/.aws: the client gets explicit
credentials and AWS_CONFIG_FILE / AWS_SHARED_CREDENTIALS_FILE point into a
temp dir. Exits non-zero with a message naming the first failing step.
"""

import hashlib
import logging
import os
import random
import re
import sys
import tempfile
import time
import http.client as http_client
import urllib.parse

ENDPOINT = os.environ.get("OSSD_ENDPOINT")
KEY_ID = os.environ.get("OSSD_KEY_ID")
SECRET = os.environ.get("OSSD_KEY_SECRET")
REGION = os.environ.get("OSSD_REGION", "cn-hangzhou")
SIGS = os.environ.get("OSSD_BOTO3_SIGS", "s3v4 s3").split()

if not (ENDPOINT and KEY_ID and SECRET):
    sys.exit("FAIL: set OSSD_ENDPOINT, OSSD_KEY_ID and OSSD_KEY_SECRET")

work = tempfile.TemporaryDirectory(prefix="boto3-smoke-")
for var in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL",
            "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
    os.environ.pop(var, None)
os.environ["AWS_CONFIG_FILE"] = os.path.join(work.name, "config")
os.environ["AWS_SHARED_CREDENTIALS_FILE"] = os.path.join(work.name, "credentials")
os.environ["AWS_EC2_METADATA_DISABLED"] = "true"

try:
    import boto3
    import botocore
    from boto3.s3.transfer import TransferConfig
    from botocore.config import Config
except ImportError as e:
    sys.exit(f"FAIL: boto3 not importable ({e}): apt-get install python3-boto3")

STEP = ""


class LastStringToSign(logging.Handler):
    """Keeps the last SigV2 StringToSign botocore logged, to tell a client
    signing bug from a server one."""

    last = ""

    def emit(self, record):
        msg = record.getMessage()
        if msg.startswith("StringToSign:"):
            LastStringToSign.last = msg[len("StringToSign:"):].strip("\n")


_auth_log = logging.getLogger("botocore.auth")
_auth_log.setLevel(logging.DEBUG)
_auth_log.propagate = False
_auth_log.addHandler(LastStringToSign())


def step(name):
    global STEP
    STEP = name
    print(f"--- {name}", flush=True)


def check(cond, what):
    if not cond:
        raise AssertionError(what)


def client(sig):
    # Settings (README): endpoint_url, region, path-style addressing.
    return boto3.session.Session().client(
        "s3",
        endpoint_url=ENDPOINT,
        region_name=REGION,
        aws_access_key_id=KEY_ID,
        aws_secret_access_key=SECRET,
        config=Config(signature_version=sig, s3={"addressing_style": "path"},
                      retries={"max_attempts": 1}, connect_timeout=5, read_timeout=30),
    )


class HTTPStatusError(Exception):
    pass


def http(method, url, data=None):
    """Sends exactly method url [data] (no Content-Type: SigV2 signs it)."""
    u = urllib.parse.urlsplit(url)
    conn_cls = http_client.HTTPSConnection if u.scheme == "https" else http_client.HTTPConnection
    conn = conn_cls(u.netloc, timeout=30)
    try:
        conn.request(method, u.path + ("?" + u.query if u.query else ""), body=data)
        resp = conn.getresponse()
        body = resp.read()
    finally:
        conn.close()
    if resp.status // 100 != 2:
        raise HTTPStatusError(f"{method} {url}: HTTP {resp.status}: {body[:600]!r}")
    return resp.status, body


def smoke(sig):
    s3 = client(sig)
    suffix = f"{random.randrange(10**9)}"
    bucket = f"boto3-smoke-{sig}-{suffix}"
    logs = f"boto3-logs-{sig}-{suffix}"
    small = b"hello from boto3\n"
    big_path = os.path.join(work.name, "big.bin")
    down_path = os.path.join(work.name, f"down-{sig}.bin")

    step(f"{sig}: create_bucket")
    kw = {} if REGION == "us-east-1" else {"CreateBucketConfiguration": {"LocationConstraint": REGION}}
    s3.create_bucket(Bucket=bucket, **kw)
    s3.create_bucket(Bucket=logs, **kw)
    step(f"{sig}: list_buckets")
    names = [b["Name"] for b in s3.list_buckets()["Buckets"]]
    check(bucket in names and logs in names, f"{bucket}, {logs} not in {names}")
    step(f"{sig}: head_bucket")
    s3.head_bucket(Bucket=bucket)
    step(f"{sig}: get_bucket_location")
    loc = s3.get_bucket_location(Bucket=bucket)["LocationConstraint"]
    # The server's own region (cn-hangzhou), whichever region the client
    # scoped its signature to.
    check(loc is None or (isinstance(loc, str) and loc), f"location {loc!r}")

    step(f"{sig}: put_object")
    put = s3.put_object(Bucket=bucket, Key="dir/small.txt", Body=small, ContentType="text/plain",
                        Metadata={"color": "blue"})
    check(put["ETag"].strip('"').lower() == hashlib.md5(small).hexdigest(), f"ETag {put['ETag']} is not the MD5")
    step(f"{sig}: get_object")
    got = s3.get_object(Bucket=bucket, Key="dir/small.txt")
    check(got["Body"].read() == small, "body differs")
    meta = got["Metadata"]
    check({k.lower(): v for k, v in meta.items()} == {"color": "blue"}, f"metadata {meta}")
    step(f"{sig}: get_object Range")
    got = s3.get_object(Bucket=bucket, Key="dir/small.txt", Range="bytes=6-9")
    check(got["Body"].read() == small[6:10], "range body differs")
    check(got["ContentRange"] == f"bytes 6-9/{len(small)}", f"Content-Range {got['ContentRange']}")
    step(f"{sig}: head_object")
    head = s3.head_object(Bucket=bucket, Key="dir/small.txt")
    check(head["ContentLength"] == len(small), f"length {head['ContentLength']}")
    check(head["ContentType"] == "text/plain", f"type {head['ContentType']}")
    step(f"{sig}: head_object missing -> 404")
    try:
        s3.head_object(Bucket=bucket, Key="nope")
        check(False, "no error")
    except botocore.exceptions.ClientError as e:
        check(e.response["ResponseMetadata"]["HTTPStatusCode"] == 404, f"{e}")
    step(f"{sig}: get_object missing -> NoSuchKey")
    try:
        s3.get_object(Bucket=bucket, Key="nope")
        check(False, "no error")
    except s3.exceptions.NoSuchKey:
        pass

    step(f"{sig}: copy_object")
    s3.copy_object(Bucket=bucket, Key="copy.txt", CopySource={"Bucket": bucket, "Key": "dir/small.txt"})
    check(s3.get_object(Bucket=bucket, Key="copy.txt")["Body"].read() == small, "copy differs")

    step(f"{sig}: put/get a key that needs escaping")
    odd = "sp ace/\u00fc+%41&=~(x).txt"
    s3.put_object(Bucket=bucket, Key=odd, Body=b"odd")
    check(s3.get_object(Bucket=bucket, Key=odd)["Body"].read() == b"odd", "odd key body differs")

    step(f"{sig}: upload_file multipart (12 MiB, 5 MiB parts)")
    tc = TransferConfig(multipart_threshold=5 * 1024 * 1024, multipart_chunksize=5 * 1024 * 1024,
                        max_concurrency=4)
    s3.upload_file(big_path, bucket, "big.bin", Config=tc)
    head = s3.head_object(Bucket=bucket, Key="big.bin")
    check(head["ETag"].strip('"').endswith("-3"), f"ETag {head['ETag']} is not a 3-part multipart ETag")
    check(head["ContentLength"] == 12 * 1024 * 1024, f"length {head['ContentLength']}")
    step(f"{sig}: download_file (ranged GETs)")
    s3.download_file(bucket, "big.bin", down_path, Config=tc)
    with open(big_path, "rb") as a, open(down_path, "rb") as b:
        check(a.read() == b.read(), "big download differs")
    step(f"{sig}: copy (managed, UploadPartCopy)")
    s3.copy({"Bucket": bucket, "Key": "big.bin"}, bucket, "big-copy.bin", Config=tc)
    check(s3.head_object(Bucket=bucket, Key="big-copy.bin")["ContentLength"] == 12 * 1024 * 1024, "copy size")

    step(f"{sig}: low-level multipart + list_parts + abort")
    up = s3.create_multipart_upload(Bucket=bucket, Key="aborted.bin")
    s3.upload_part(Bucket=bucket, Key="aborted.bin", UploadId=up["UploadId"], PartNumber=1, Body=b"x" * 1024)
    parts = s3.list_parts(Bucket=bucket, Key="aborted.bin", UploadId=up["UploadId"])["Parts"]
    check([p["PartNumber"] for p in parts] == [1], f"parts {parts}")
    uploads = s3.list_multipart_uploads(Bucket=bucket).get("Uploads", [])
    check([u["UploadId"] for u in uploads] == [up["UploadId"]], f"uploads {uploads}")
    s3.abort_multipart_upload(Bucket=bucket, Key="aborted.bin", UploadId=up["UploadId"])

    step(f"{sig}: list_objects_v2")
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]]
    check(keys == ["big-copy.bin", "big.bin", "copy.txt", "dir/small.txt", odd], f"keys {keys}")
    step(f"{sig}: list_objects_v2 delimiter")
    r = s3.list_objects_v2(Bucket=bucket, Delimiter="/")
    check([p["Prefix"] for p in r.get("CommonPrefixes", [])] == ["dir/", "sp ace/"], f"prefixes {r.get('CommonPrefixes')}")
    step(f"{sig}: list_objects_v2 paginator (MaxKeys=1)")
    pages = list(s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, PaginationConfig={"PageSize": 1}))
    keys = [o["Key"] for p in pages for o in p.get("Contents", [])]
    check(len(pages) == 5 and len(keys) == 5, f"{len(pages)} pages, keys {keys}")
    step(f"{sig}: list_objects (v1)")
    keys = [o["Key"] for o in s3.list_objects(Bucket=bucket, Prefix="dir/")["Contents"]]
    check(keys == ["dir/small.txt"], f"keys {keys}")

    step(f"{sig}: presigned GET")
    url = s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "dir/small.txt"}, ExpiresIn=300)
    status, body = http("GET", url)
    check(body == small, "presigned GET body differs")
    step(f"{sig}: presigned PUT")
    url = s3.generate_presigned_url("put_object", Params={"Bucket": bucket, "Key": "presigned.txt"}, ExpiresIn=300)
    http("PUT", url, data=b"put via presigned URL")
    check(s3.get_object(Bucket=bucket, Key="presigned.txt")["Body"].read() == b"put via presigned URL",
          "presigned PUT body differs")

    # New buckets block public access, as on S3 and OSS: a public ACL is
    # refused (OSS's answer) until the block is lifted.
    step(f"{sig}: put_object_acl ACL=public-read while blocked is refused")
    try:
        s3.put_object_acl(Bucket=bucket, Key="dir/small.txt", ACL="public-read")
        refused = None
    except botocore.exceptions.ClientError as e:
        refused = (e.response["ResponseMetadata"]["HTTPStatusCode"], e.response["Error"].get("Code"), e.response["Error"].get("Message"))
    check(refused == (403, "AccessDenied", "Put public object acl is not allowed"), f"public ACL while blocked: {refused}")
    step(f"{sig}: get_public_access_block (new bucket: blocked)")
    cfg = s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"]
    check(cfg.get("BlockPublicAcls") is True and cfg.get("IgnorePublicAcls") is True, f"new bucket's block: {cfg}")
    step(f"{sig}: put_public_access_block (all off)")
    s3.put_public_access_block(Bucket=bucket, PublicAccessBlockConfiguration={
        "BlockPublicAcls": False, "IgnorePublicAcls": False, "BlockPublicPolicy": False, "RestrictPublicBuckets": False})
    cfg = s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"]
    check(not any(cfg.values()), f"block after lifting: {cfg}")
    step(f"{sig}: put_object_acl ACL=public-read (x-amz-acl header)")
    s3.put_object_acl(Bucket=bucket, Key="dir/small.txt", ACL="public-read")
    grants = s3.get_object_acl(Bucket=bucket, Key="dir/small.txt")["Grants"]
    check(any(g["Grantee"].get("URI", "").endswith("/AllUsers") and g["Permission"] == "READ" for g in grants),
          f"no AllUsers READ grant in {grants}")
    step(f"{sig}: put_object_acl AccessControlPolicy (XML body)")
    acl = s3.get_object_acl(Bucket=bucket, Key="dir/small.txt")
    try:
        s3.put_object_acl(Bucket=bucket, Key="dir/small.txt", AccessControlPolicy={
            "Owner": acl["Owner"],
            "Grants": [{"Grantee": {"Type": "CanonicalUser", "ID": acl["Owner"]["ID"]}, "Permission": "FULL_CONTROL"}]})
        xml_acl = None
    except botocore.exceptions.ClientError as e:
        xml_acl = f"HTTP {e.response['ResponseMetadata']['HTTPStatusCode']} {e.response['Error']}"

    step(f"{sig}: put_bucket_logging")
    s3.put_bucket_logging(Bucket=bucket, BucketLoggingStatus={
        "LoggingEnabled": {"TargetBucket": logs, "TargetPrefix": "access/"}})
    step(f"{sig}: get_bucket_logging")
    le = s3.get_bucket_logging(Bucket=bucket).get("LoggingEnabled")
    check(le and le["TargetBucket"] == logs and le["TargetPrefix"] == "access/", f"LoggingEnabled {le}")
    step(f"{sig}: put_bucket_logging {{}} (disable)")
    s3.put_bucket_logging(Bucket=bucket, BucketLoggingStatus={})
    le = s3.get_bucket_logging(Bucket=bucket).get("LoggingEnabled")
    check(le is None, f"logging still enabled: {le}")

    step(f"{sig}: delete_object")
    s3.delete_object(Bucket=bucket, Key="copy.txt")
    step(f"{sig}: delete_objects")
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]]
    r = s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": k} for k in keys]})
    check(sorted(d["Key"] for d in r.get("Deleted", [])) == sorted(keys) and not r.get("Errors"), f"{r}")
    check(s3.list_objects_v2(Bucket=bucket)["KeyCount"] == 0, "bucket not empty")
    step(f"{sig}: delete_bucket")
    s3.delete_bucket(Bucket=bucket)
    s3.delete_bucket(Bucket=logs)
    names = [b["Name"] for b in s3.list_buckets()["Buckets"]]
    check(bucket not in names, f"{bucket} still listed")

    # Conformance details that boto3 itself tolerates, checked after the
    # flow so that they do not hide it; main() reports them at the end.
    md5 = hashlib.md5(small).hexdigest()
    return [
        (f"{sig}: PutObject ETag is lowercase hex, as S3 sends it (s3cmd compares it case-sensitively)",
         put["ETag"] == f'"{md5}"', f'got {put["ETag"]}, S3 sends "{md5}"'),
        (f"{sig}: user metadata keys come back lowercase, as S3 sends x-amz-meta-* (botocore keeps the header's case)",
         meta == {"color": "blue"}, f"got Metadata {meta}, S3 gives {{'color': 'blue'}}"),
        (f"{sig}: PutObjectAcl with an AccessControlPolicy XML body (what s3cmd cp/setacl send)",
         xml_acl is None, f"got {xml_acl}"),
    ]


def main():
    print(f"boto3 {boto3.__version__}, botocore {botocore.__version__}, python {sys.version.split()[0]}")
    with open(os.path.join(work.name, "big.bin"), "wb") as f:
        f.write(os.urandom(12 * 1024 * 1024))
    start = time.time()
    strict = []
    for sig in SIGS:
        try:
            strict += smoke(sig)
        except Exception as e:  # noqa: BLE001 - report any failure with its step
            sts = LastStringToSign.last
            if (sig == "s3" and isinstance(e, botocore.exceptions.ClientError)
                    and e.response["Error"]["Code"] == "SignatureDoesNotMatch"
                    and re.search(r"\?([a-z-]+)\?\1(\n|$)", sts)):
                # botocore 1.29 (Debian 12's python3-botocore) signs SigV2
                # requests whose URI has a subresource (?location, ?uploads,
                # ?delete, ...) over "/bucket?uploads?uploads" when
                # endpoint_url is set; botocore 1.43 signs them right.
                print(f"SKIP: rest of {sig}: client bug: botocore {botocore.__version__} signed "
                      f"{sts.splitlines()[-1]!r} in {STEP}")
                continue
            detail = ""
            if isinstance(e, botocore.exceptions.ClientError):
                md = e.response.get("ResponseMetadata", {})
                detail = f" [HTTP {md.get('HTTPStatusCode')}, {e.response.get('Error')}]"
            print(f"FAIL: {STEP}: {type(e).__name__}: {e}{detail}", file=sys.stderr)
            sys.exit(1)
    bad = [(name, msg) for name, ok, msg in strict if not ok]
    for name, msg in bad:
        print(f"FAIL: {name}: {msg}", file=sys.stderr)
    if bad:
        sys.exit(1)
    print(f"boto3 smoke: OK ({' '.join(SIGS)}) in {time.time() - start:.1f}s")


if __name__ == "__main__":
    main()
