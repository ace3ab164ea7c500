#!/usr/bin/env python3
"""Python oss2 against ossd over HTTPS (ossd --tls-self-signed): the certificate is verified
(no verify=False anywhere), first without trusting ossd's certificate — every request must fail
certificate verification — then trusting it through REQUESTS_CA_BUNDLE, which oss2's requests
session reads, in V1 and V4: bucket, upload, read back, listing, a presigned URL fetched with
requests, deletes. Run by e2e/TestTLSClients; reads OSSD_ENDPOINT (https://…), OSSD_KEY_ID,
OSSD_KEY_SECRET, OSSD_REGION and OSSD_CA (ossd's certificate, PEM)."""
import os
import uuid

import oss2
import requests

EP = os.environ["OSSD_ENDPOINT"]
AK = os.environ["OSSD_KEY_ID"]
SK = os.environ["OSSD_KEY_SECRET"]
REGION = os.environ["OSSD_REGION"]
CA = os.environ["OSSD_CA"]


def check(cond, what):
    if not cond:
        raise SystemExit("FAIL: " + what)
    print("ok:", what)


def untrusted():
    os.environ.pop("REQUESTS_CA_BUNDLE", None)
    svc = oss2.Service(oss2.Auth(AK, SK), EP)
    try:
        svc.list_buckets()
    except oss2.exceptions.RequestError as e:
        check("CERTIFICATE_VERIFY_FAILED" in str(e) or "certificate verify failed" in str(e),
              "without ossd's certificate trusted, oss2 refuses the connection (%s)" % str(e)[:120])
        return
    raise SystemExit("FAIL: oss2 talked to ossd over https without trusting its certificate")


def flow(name, auth, **kw):
    bucket = "https-%s-%s" % (name, uuid.uuid4().hex[:8])
    b = oss2.Bucket(auth, EP, bucket, is_path_style=True, **kw)
    b.create_bucket()
    data = os.urandom(300 * 1024)
    r = b.put_object("dir/obj.bin", data)
    check(r.status == 200, "%s PutObject over https" % name)
    got = b.get_object("dir/obj.bin").read()
    check(got == data, "%s GetObject reads back %d bytes" % (name, len(data)))
    keys = [o.key for o in oss2.ObjectIteratorV2(b)]
    check(keys == ["dir/obj.bin"], "%s ListObjectsV2: %s" % (name, keys))
    url = b.sign_url("GET", "dir/obj.bin", 60)
    check(url.startswith("https://"), "%s presigned URL is https" % name)
    resp = requests.get(url, verify=CA)
    check(resp.status_code == 200 and resp.content == data, "%s presigned GET over https: %d" % (name, resp.status_code))
    b.delete_object("dir/obj.bin")
    b.delete_bucket()
    check(bucket not in [x.name for x in oss2.Service(auth, EP, **kw).list_buckets().buckets], "%s bucket deleted" % name)


def main():
    untrusted()
    os.environ["REQUESTS_CA_BUNDLE"] = CA
    flow("v1", oss2.Auth(AK, SK))
    flow("v4", oss2.AuthV4(AK, SK), region=REGION)
    print("all passed")


if __name__ == "__main__":
    main()
