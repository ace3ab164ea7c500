# The access-logging page of OSS's documentation, end to end with oss2: its
# three samples (enable, query, disable), then what a user does next — make
# requests, wait for the hourly delivery (here `ossd logs flush`), list the
# log objects, read them and parse every line.
import re

import pytest
import oss2
from oss2.credentials import EnvironmentVariableCredentialsProvider
from oss2.models import BucketLogging

from conftest import new_name, empty_and_delete

# An OSS access-log line: bare fields, "quoted" fields, [time]. Quotes and
# spaces inside fields are written \xHH, so no field contains them.
TOKEN = re.compile(r'"[^"]*"|\[[^\]]*\]|\S+')
LOG_NAME = re.compile(r'^(?P<prefix>.*?)(?P<bucket>[a-z0-9-]+?)(?P<time>\d{4}-\d\d-\d\d-\d\d-\d\d-\d\d)-(?P<unique>[0-9A-Z]{16,32})$')

FIELDS = ["remote_ip", "reserved1", "reserved2", "time", "request", "status", "sent_bytes",
          "request_time", "referer", "user_agent", "host", "request_id", "logging_flag",
          "requester_id", "operation", "bucket", "key", "object_size", "server_cost",
          "error_code", "request_length", "owner_id", "delta_data_size", "sync_request",
          "storage_class", "target_storage_class", "acceleration_point", "access_key_id"]


def parse_line(line):
    toks = TOKEN.findall(line)
    assert len(toks) == 28, "want 28 fields, got %d: %r" % (len(toks), line)
    rec = {}
    for name, tok in zip(FIELDS, toks):
        if tok[:1] in '"[':
            tok = tok[1:-1]
        rec[name] = tok
    return rec


def doc_auth(env):
    # The documentation's samples: credentials from OSS_ACCESS_KEY_ID/SECRET.
    provider = EnvironmentVariableCredentialsProvider()
    if env.sign == "v1":
        return oss2.ProviderAuth(provider)
    return oss2.ProviderAuthV4(provider)


def read_logs(env, target, prefix, source):
    """Lists the delivered log objects with both listing APIs, checks their
    names, and returns the parsed lines."""
    env.flush_logs()
    names_v1 = [o.key for o in oss2.ObjectIterator(target, prefix=prefix + source)]
    names_v2 = [o.key for o in oss2.ObjectIteratorV2(target, prefix=prefix + source)]
    assert names_v1 == names_v2
    assert names_v1, "no log object under %s%s" % (prefix, source)
    records = []
    for name in names_v1:
        m = LOG_NAME.match(name)
        assert m and m.group("prefix") == prefix and m.group("bucket") == source, name
        # Named after the start of the hour its requests arrived in.
        assert m.group("time").endswith("-00-00"), name
        meta = target.head_object(name)
        assert meta.content_length > 0
        body = target.get_object(name).read().decode("utf-8")
        assert body.endswith("\n")
        records += [parse_line(l) for l in body.splitlines()]
    return records


def test_documented_logging_flow(env):
    # "Enable logging for a bucket": log objects go to the bucket itself, under log/.
    bucket = oss2.Bucket(doc_auth(env), env.endpoint, new_name("examplebucket"), region=env.region, is_path_style=True)
    bucket.create_bucket()
    try:
        logging = bucket.put_bucket_logging(BucketLogging(bucket.bucket_name, 'log/'))
        assert logging.status == 200
        assert logging.request_id

        # "Query the logging configurations of a bucket"
        logging = bucket.get_bucket_logging()
        assert (logging.target_bucket, logging.target_prefix) == (bucket.bucket_name, 'log/')

        # Requests to log.
        bucket.put_object('a.txt', b'hello')
        assert bucket.get_object('a.txt').read() == b'hello'
        bucket.head_object('a.txt')
        with pytest.raises(oss2.exceptions.NoSuchKey):
            bucket.get_object('missing.txt')
        bucket.list_objects()
        bucket.delete_object('a.txt')

        records = read_logs(env, bucket, 'log/', bucket.bucket_name)
        ops = [(r["operation"], r["key"], r["status"]) for r in records]
        for want in [("PutObject", "a.txt", "200"), ("GetObject", "a.txt", "200"),
                     ("HeadObject", "a.txt", "200"), ("GetObject", "missing.txt", "404"),
                     ("GetBucket", "-", "200"), ("DeleteObject", "a.txt", "204"),
                     ("GetBucketLogging", "-", "200")]:
            assert want in ops, "%s not in %s" % (want, ops)
        for r in records:
            assert r["bucket"] == bucket.bucket_name
            assert r["access_key_id"] == env.key_id
            assert re.match(r'^[0-9A-F]{24}$', r["request_id"]), r
            assert re.match(r'^\d\d/\w{3}/\d{4}:\d\d:\d\d:\d\d [+-]\d{4}$', r["time"]), r
        miss = [r for r in records if r["key"] == "missing.txt"][0]
        assert miss["error_code"] == "NoSuchKey"
        get = [r for r in records if r["operation"] == "GetObject" and r["status"] == "200"][0]
        assert get["object_size"] == "5" and get["sent_bytes"] == "5"
        assert get["request"].startswith("GET /") and "a.txt" in get["request"]

        # "Disable logging for a bucket"
        logging = bucket.delete_bucket_logging()
        assert logging.status == 204
        assert not bucket.get_bucket_logging().target_bucket  # <BucketLoggingStatus/>
        env.flush_logs()  # what was recorded before is still delivered
    finally:
        empty_and_delete(bucket)


def test_logging_to_another_bucket(env, make_bucket):
    source, target = make_bucket("source"), make_bucket("logs")
    source.put_bucket_logging(BucketLogging(target.bucket_name, 'access/'))
    key = 'dir/with space+plus.txt'
    source.put_object(key, b'x' * 100)
    source.get_object(key, byte_range=(0, 9)).read()
    source.copy_object(source.bucket_name, key, 'copy.txt')
    upload = source.init_multipart_upload('mp.bin')
    part = source.upload_part('mp.bin', upload.upload_id, 1, b'part')
    source.complete_multipart_upload('mp.bin', upload.upload_id, [oss2.models.PartInfo(1, part.etag)])
    source.batch_delete_objects(['copy.txt', 'mp.bin'])

    records = read_logs(env, target, 'access/', source.bucket_name)
    by_op = {}
    for r in records:
        assert r["bucket"] == source.bucket_name
        by_op.setdefault(r["operation"], []).append(r)
    for op in ["PutObject", "GetObject", "CopyObject", "InitiateMultipartUpload", "UploadPart",
               "CompleteMultipartUpload", "DeleteMultipleObjects"]:
        assert op in by_op, "%s not logged: %s" % (op, sorted(by_op))
    put = by_op["PutObject"][0]
    # The key field is URL-encoded.
    assert oss2.compat.urlunquote(put["key"]) == key
    assert by_op["GetObject"][0]["status"] == "206"
    assert by_op["GetObject"][0]["sent_bytes"] == "10"
    # The target bucket itself has no logging: nothing about it is delivered.
    assert not list(oss2.ObjectIterator(target, prefix='access/' + target.bucket_name))


def test_logging_validation(env, bucket):
    # PutBucketLogging refuses what OSS refuses, with OSS's codes.
    with pytest.raises(oss2.exceptions.ServerError) as e:
        bucket.put_bucket_logging(BucketLogging(new_name("nosuchtarget"), 'log/'))
    assert e.value.status == 400 and e.value.code == 'InvalidTargetBucketForLogging' and e.value.ec.startswith('0032-')
    with pytest.raises(oss2.exceptions.ServerError) as e:
        bucket.put_bucket_logging(BucketLogging(bucket.bucket_name, '/log'))
    assert e.value.status == 400 and e.value.code == 'InvalidArgument' and e.value.ec == '0032-00000005'
    assert not bucket.get_bucket_logging().target_bucket


def test_logged_fields_of_signed_urls_and_anonymous_requests(env, make_bucket):
    source, target = make_bucket("fields"), make_bucket("fieldlogs")
    source.put_bucket_logging(BucketLogging(target.bucket_name, 'f/'))
    source.put_object('k', b'12345')
    url = source.sign_url('GET', 'k', 60)
    import requests
    assert requests.get(url, headers={'User-Agent': 'presigned-client', 'Referer': 'https://example.com/page'}).content == b'12345'
    anon = oss2.Bucket(oss2.AnonymousAuth(), env.endpoint, source.bucket_name, is_path_style=True)
    with pytest.raises(oss2.exceptions.AccessDenied):
        anon.get_object('k')
    records = read_logs(env, target, 'f/', source.bucket_name)
    put = [r for r in records if r["operation"] == "PutObject"][0]
    assert 'aliyun-sdk-python' in oss2.compat.urlunquote(put["user_agent"]).replace('\\x20', ' ')
    assert put["requester_id"] != "-" and put["owner_id"] == put["requester_id"]
    assert put["object_size"] == "5" and put["delta_data_size"] == "5"
    signed = [r for r in records if r["user_agent"] == "presigned-client"]
    assert len(signed) == 1 and signed[0]["status"] == "200" and signed[0]["referer"] == "https://example.com/page"
    assert signed[0]["access_key_id"] == env.key_id
    denied = [r for r in records if r["status"] == "403"]
    assert len(denied) == 1 and denied[0]["error_code"] == "AccessDenied"
    assert denied[0]["requester_id"] == "-" and denied[0]["access_key_id"] == "-"
