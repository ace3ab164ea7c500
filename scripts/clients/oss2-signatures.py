#!/usr/bin/env python3
"""Python oss2 against ossd with the OSS2 (V2) signature and with V1 requests that carry
x-oss-date: header-signed and presigned requests that must verify, and the errors ossd must
answer as OSS does. Run by e2e/TestClientOSS2Signatures; reads OSSD_ENDPOINT, OSSD_KEY_ID,
OSSD_KEY_SECRET and OSSD_BUCKET (an existing bucket of that account)."""
import os
import sys
import time

import oss2
import requests

EP = os.environ["OSSD_ENDPOINT"]
AK = os.environ["OSSD_KEY_ID"]
SK = os.environ["OSSD_KEY_SECRET"]
BUCKET = os.environ["OSSD_BUCKET"]


def check(cond, what):
    if not cond:
        raise SystemExit("FAIL: " + what)
    print("ok:", what)


def expect_error(fn, code, what):
    try:
        fn()
    except oss2.exceptions.OssError as e:
        check(e.code == code, "%s: %s (got %s %s)" % (what, code, e.code, e.details))
        return e
    raise SystemExit("FAIL: %s: accepted, want %s" % (what, code))


def v2_flow():
    auth = oss2.AuthV2(AK, SK)
    svc = oss2.Service(auth, EP, is_path_style=True)
    names = [b.name for b in svc.list_buckets().buckets]
    check(BUCKET in names, "V2 ListBuckets (service-level resource %2F)")
    b = oss2.Bucket(auth, EP, BUCKET, is_path_style=True)
    key = "v2/dir/ü key+1.txt"
    data = b"0123456789" * 100
    b.put_object(key, data, headers={"x-oss-meta-color": "blue", "Content-Type": "text/plain"})
    check(b.get_object(key).read() == data, "V2 PutObject/GetObject, key with '/', space, '+', non-ASCII")
    # oss2's AuthV2 signs Range (an additional header by default).
    check(b.get_object(key, byte_range=(2, 5)).read() == b"2345", "V2 ranged GET (AdditionalHeaders:range)")
    meta = b.head_object(key)
    check(meta.headers.get("x-oss-meta-color") == "blue", "V2 HeadObject")
    # Every query parameter is signed in V2: list with prefix, delimiter, max-keys.
    res = b.list_objects(prefix="v2/", delimiter="/", max_keys=10)
    check(res.prefix_list == ["v2/dir/"], "V2 ListObjects with plain query parameters")
    b.put_object_acl(key, oss2.OBJECT_ACL_PRIVATE)
    check(b.get_object_acl(key).acl == "private", "V2 sub-resource ?acl")

    # URL form.
    url = b.sign_url("GET", key, 300)
    check("x-oss-signature-version=OSS2" in url and "x-oss-signature=" in url, "V2 sign_url has the OSS2 parameters")
    r = requests.get(url)
    check(r.status_code == 200 and r.content == data, "V2 presigned GET (%d)" % r.status_code)
    url = b.sign_url("GET", key, 300, params={"response-content-type": "application/x-test"})
    r = requests.get(url)
    check(r.status_code == 200 and r.headers.get("Content-Type") == "application/x-test",
          "V2 presigned GET with response-content-type (%d)" % r.status_code)
    url = b.sign_url("GET", key, 300, headers={"Range": "bytes=0-3"}, additional_headers=["range"])
    check("x-oss-additional-headers=range" in url, "V2 sign_url lists x-oss-additional-headers")
    r = requests.get(url, headers={"Range": "bytes=0-3"})
    check(r.status_code == 206 and r.content == b"0123", "V2 presigned ranged GET (%d)" % r.status_code)
    r = requests.get(url, headers={"Range": "bytes=0-4"})
    check(r.status_code == 403 and b"SignatureDoesNotMatch" in r.content, "V2 presigned URL with a changed signed header refused")
    r = requests.get(url)
    check(r.status_code == 400 and b"0002-00000112" in r.content, "V2 presigned URL without its additional header: 0002-00000112")
    put_url = b.sign_url("PUT", "v2/put", 300, headers={"Content-Type": "text/plain", "x-oss-meta-k": "v"})
    r = requests.put(put_url, data=b"via url", headers={"Content-Type": "text/plain", "x-oss-meta-k": "v"})
    check(r.status_code == 200, "V2 presigned PUT (%d %s)" % (r.status_code, r.text[:200]))
    check(b.get_object("v2/put").read() == b"via url", "V2 presigned PUT stored the body")
    expired = b.sign_url("GET", key, -10)
    r = requests.get(expired)
    check(r.status_code == 403 and b"Request has expired" in r.content, "V2 expired URL refused (%d)" % r.status_code)
    tampered = url.replace("x-oss-expires=", "x-oss-expires=1")
    r = requests.get(tampered, headers={"Range": "bytes=0-3"})
    check(r.status_code == 403 and b"SignatureDoesNotMatch" in r.content, "V2 URL with a changed x-oss-expires refused")

    # Errors: wrong secret gives SignatureDoesNotMatch with the server's StringToSign.
    bad = oss2.Bucket(oss2.AuthV2(AK, SK + "x"), EP, BUCKET, is_path_style=True)
    e = expect_error(lambda: bad.get_object(key), "SignatureDoesNotMatch", "V2 wrong secret")
    sts = e.details.get("StringToSign", "")
    check(sts.startswith("GET\n") and sts.endswith("%2F" + BUCKET + "%2Fv2%2Fdir%2F%C3%BC%20key%2B1.txt"),
          "V2 error shows the V2 StringToSign: %r" % sts)
    check(e.ec == "0002-00000040", "V2 SignatureDoesNotMatch EC %s" % e.ec)
    unknown = oss2.Bucket(oss2.AuthV2("nobody", SK), EP, BUCKET, is_path_style=True)
    expect_error(lambda: unknown.get_object(key), "InvalidAccessKeyId", "V2 unknown access key")
    for k in (key, "v2/put"):
        b.delete_object(k)


def v1_x_oss_date():
    b = oss2.Bucket(oss2.Auth(AK, SK), EP, BUCKET, is_path_style=True)
    # oss2's Auth signs x-oss-date in place of Date when the request carries it.
    hdr = {"x-oss-date": oss2.utils.http_date()}
    b.put_object("v1/xdate", b"x-oss-date", headers=hdr)
    check(b.get_object("v1/xdate", headers={"x-oss-date": oss2.utils.http_date()}).read() == b"x-oss-date",
          "V1 with x-oss-date (oss2 signs it in the date line)")
    old = oss2.utils.http_date(int(time.time()) - 3600)
    expect_error(lambda: b.get_object("v1/xdate", headers={"x-oss-date": old}), "RequestTimeTooSkewed",
                 "V1 x-oss-date an hour old")
    b.delete_object("v1/xdate")


v2_flow()
v1_x_oss_date()
print("oss2 signatures: all passed")
sys.exit(0)
