# oss2's other signers, whatever OSSD_SIGN says: AuthV2 (the OSS2 signature: HMAC-SHA256,
# every query parameter signed, Range as an additional header) in the Authorization header
# and in signed URLs, and the V1 Auth with an x-oss-date header, which oss2 signs in the
# date line. scripts/clients/oss2-signatures.py (e2e/TestClientOSS2Signatures) covers the
# errors in detail.
import time

import oss2
import pytest
import requests


def test_auth_v2_header_and_url(env, bucket):
    b2 = env.bucket(bucket.bucket_name, oss2.AuthV2(env.key_id, env.key_secret))
    key = "v2/dir/ü key+1.txt"
    b2.put_object(key, b"0123456789", headers={"x-oss-meta-k": "v"})
    assert b2.get_object(key).read() == b"0123456789"
    assert b2.get_object(key, byte_range=(2, 4)).read() == b"234"
    assert [o.key for o in b2.list_objects(prefix="v2/", max_keys=5).object_list] == [key]
    url = b2.sign_url("GET", key, 60, params={"response-content-type": "text/x-v2"})
    assert "x-oss-signature-version=OSS2" in url
    r = requests.get(url)
    assert r.status_code == 200 and r.content == b"0123456789" and r.headers["Content-Type"] == "text/x-v2"
    r = requests.get(b2.sign_url("GET", key, -1))
    assert r.status_code == 403 and b"Request has expired" in r.content
    bad = env.bucket(bucket.bucket_name, oss2.AuthV2(env.key_id, env.key_secret + "x"))
    with pytest.raises(oss2.exceptions.SignatureDoesNotMatch) as e:
        bad.get_object(key)
    assert e.value.details["StringToSign"].endswith("%2Fv2%2Fdir%2F%C3%BC%20key%2B1.txt")


def test_auth_v1_with_x_oss_date(env, bucket):
    b1 = env.bucket(bucket.bucket_name, oss2.Auth(env.key_id, env.key_secret))
    b1.put_object("xdate", b"x", headers={"x-oss-date": oss2.utils.http_date()})
    assert b1.get_object("xdate", headers={"x-oss-date": oss2.utils.http_date()}).read() == b"x"
    with pytest.raises(oss2.exceptions.OssError) as e:
        b1.get_object("xdate", headers={"x-oss-date": oss2.utils.http_date(int(time.time()) - 3600)})
    assert e.value.status == 403 and e.value.code == "RequestTimeTooSkewed"
