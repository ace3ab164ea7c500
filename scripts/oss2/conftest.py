# pytest fixtures for the oss2 suite. This file starts nothing: it talks to
# an ossd that is already running, described by the environment:
#
#   OSSD_ENDPOINT         http://127.0.0.1:PORT
#   OSSD_KEY_ID           root access key id (also exported as OSS_ACCESS_KEY_ID
#   OSSD_KEY_SECRET       and OSS_ACCESS_KEY_SECRET, for the documented samples)
#   OSSD_REGION           cn-hangzhou
#   OSSD_SIGN             v1 (oss2.Auth) or v4 (oss2.AuthV4); default v4
#   OSSD_BIN, OSSD_DATA   the ossd binary and the server's data directory, for
#                         `ossd logs flush` (logging tests skip without them)
#   OSSD_USER2_KEY_ID,    a second account (--users), for the ACL tests
#   OSSD_USER2_KEY_SECRET (skipped without it)
#
# e2e/TestClientOSS2 starts ossd and runs this suite in V1 and V4.
import os
import subprocess
import uuid

import pytest

oss2 = pytest.importorskip("oss2")


def _env(name, default=None):
    v = os.environ.get(name, default)
    if v is None:
        pytest.skip("%s is not set: run the suite through e2e/TestClientOSS2 or set it" % name)
    return v


class Env(object):
    def __init__(self):
        self.endpoint = _env("OSSD_ENDPOINT")
        self.key_id = _env("OSSD_KEY_ID")
        self.key_secret = _env("OSSD_KEY_SECRET")
        self.region = os.environ.get("OSSD_REGION", "cn-hangzhou")
        self.sign = os.environ.get("OSSD_SIGN", "v4")
        self.bin = os.environ.get("OSSD_BIN")
        self.data = os.environ.get("OSSD_DATA")
        self.user2 = None
        if os.environ.get("OSSD_USER2_KEY_ID"):
            self.user2 = (os.environ["OSSD_USER2_KEY_ID"], os.environ["OSSD_USER2_KEY_SECRET"])

    def auth(self, key_id=None, key_secret=None):
        key_id, key_secret = key_id or self.key_id, key_secret or self.key_secret
        if self.sign == "v1":
            return oss2.Auth(key_id, key_secret)
        return oss2.AuthV4(key_id, key_secret)

    def bucket(self, name, auth=None):
        return oss2.Bucket(auth or self.auth(), self.endpoint, name, region=self.region, is_path_style=True)

    def service(self, auth=None):
        return oss2.Service(auth or self.auth(), self.endpoint, region=self.region, is_path_style=True)

    def flush_logs(self):
        """Delivers every recorded access-log line now (`ossd logs flush`)."""
        if not self.bin or not self.data:
            pytest.skip("OSSD_BIN/OSSD_DATA not set: cannot run `ossd logs flush`")
        addr = self.endpoint.split("://", 1)[1]
        env = dict(os.environ, OSS_ACCESS_KEY_ID=self.key_id, OSS_ACCESS_KEY_SECRET=self.key_secret)
        out = subprocess.run([self.bin, "logs", "flush", "--addr", addr, "--data", self.data],
                             env=env, capture_output=True, text=True, timeout=60)
        assert out.returncode == 0, "ossd logs flush: %s%s" % (out.stdout, out.stderr)


@pytest.fixture(scope="session")
def env():
    e = Env()
    # The documented samples read credentials with EnvironmentVariableCredentialsProvider.
    os.environ["OSS_ACCESS_KEY_ID"] = e.key_id
    os.environ["OSS_ACCESS_KEY_SECRET"] = e.key_secret
    return e


def new_name(prefix="oss2"):
    return "%s-%s" % (prefix, uuid.uuid4().hex[:12])


def empty_and_delete(b):
    """Removes every version, delete marker and upload, then the bucket."""
    try:
        while True:
            r = b.list_object_versions(max_keys=1000)
            keys = [(v.key, v.versionid) for v in r.versions] + [(m.key, m.versionid) for m in r.delete_marker]
            for k, vid in keys:
                b.delete_object(k, params={"versionId": vid} if vid and vid != "null" else None)
            if not r.is_truncated:
                break
        for u in oss2.MultipartUploadIterator(b):
            b.abort_multipart_upload(u.key, u.upload_id)
        b.delete_bucket()
    except oss2.exceptions.NoSuchBucket:
        pass


@pytest.fixture
def make_bucket(env):
    made = []

    def make(prefix="oss2", auth=None):
        b = env.bucket(new_name(prefix), auth)
        b.create_bucket()
        made.append(b)
        return b

    yield make
    # Records keep the target they were recorded with, and a missing target
    # keeps them pending (flush would then fail): turn logging off and
    # deliver before any bucket goes.
    logged = False
    for b in made:
        try:
            logged = logged or bool(b.get_bucket_logging().target_bucket)
            b.delete_bucket_logging()
        except oss2.exceptions.OssError:
            pass
    if logged:
        env.flush_logs()
    for b in reversed(made):
        empty_and_delete(b)


@pytest.fixture
def bucket(make_bucket):
    return make_bucket()


def lift_block(b):
    """Lets public ACLs take effect: new buckets block them, as on OSS."""
    b.put_bucket_public_access_block(False)
