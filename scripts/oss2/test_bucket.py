# Service and bucket operations with oss2.
import pytest
import oss2
from oss2.models import (BucketCors, BucketCreateConfig, BucketVersioningConfig, CorsRule,
                         Tagging, TaggingRule)

from conftest import lift_block, new_name


def test_list_buckets(env, make_bucket):
    b1, b2 = make_bucket("lsa"), make_bucket("lsb")
    service = env.service()
    names = [b.name for b in oss2.BucketIterator(service)]
    assert b1.bucket_name in names and b2.bucket_name in names
    result = service.list_buckets(prefix=b1.bucket_name)
    assert [b.name for b in result.buckets] == [b1.bucket_name]
    info = result.buckets[0]
    assert info.location == "oss-" + env.region
    assert info.region == env.region
    assert info.storage_class == "Standard"
    assert info.creation_date > 0  # parsed from <CreationDate> (…T…:…:….000Z)
    assert result.owner.id
    # Paging with max_keys and the marker.
    page = service.list_buckets(prefix="ls", max_keys=1)
    assert len(page.buckets) == 1 and page.is_truncated and page.next_marker


def test_list_buckets_region_list(env, bucket):
    # oss2's sample for "the buckets of one region" (examples/bucket.py).
    result = env.service().list_buckets(params={'regionList': ''})
    assert result.status == 200
    assert bucket.bucket_name in [b.name for b in result.buckets]
    assert all(b.region == env.region for b in result.buckets)


def test_list_buckets_by_tag(env, make_bucket):
    tagged, other = make_bucket("tagged"), make_bucket("untagged")
    rule = TaggingRule()
    rule.add('team', 'logs')
    tagged.put_bucket_tagging(Tagging(rule))
    result = env.service().list_buckets(params={'tag-key': 'team', 'tag-value': 'logs'})
    names = [b.name for b in result.buckets]
    assert tagged.bucket_name in names and other.bucket_name not in names


def test_describe_regions(env):
    result = env.service().describe_regions()
    assert [r.region for r in result.regions] == ["oss-" + env.region]
    one = env.service().describe_regions("oss-" + env.region)
    assert one.regions[0].internet_endpoint == "oss-%s.aliyuncs.com" % env.region
    with pytest.raises(oss2.exceptions.ServerError) as e:
        env.service().describe_regions("oss-nowhere-1")
    assert e.value.code == "NoSuchRegion"


def test_create_bucket_and_info(env):
    b = env.bucket(new_name("info"))
    b.create_bucket(oss2.BUCKET_ACL_PRIVATE, BucketCreateConfig(oss2.BUCKET_STORAGE_CLASS_IA))
    try:
        info = b.get_bucket_info()
        assert info.name == b.bucket_name
        assert info.storage_class == oss2.BUCKET_STORAGE_CLASS_IA
        assert info.location == "oss-" + env.region
        assert info.acl.grant == oss2.BUCKET_ACL_PRIVATE
        assert info.owner.id
        assert info.creation_date.endswith(".000Z")
        # No default encryption configured: OSS writes <SSEAlgorithm>None</SSEAlgorithm>.
        assert info.bucket_encryption_rule.sse_algorithm is None  # oss2 maps "None" to None
        assert info.versioning_status is None or info.versioning_status in ("", "Suspended")
        assert b.get_bucket_location().location == "oss-" + env.region
        stat = b.get_bucket_stat()
        assert stat.object_count == 0 and stat.storage_size_in_bytes == 0
        if env.user2:
            # Bucket names are global: another account cannot take it.
            with pytest.raises(oss2.exceptions.ServerError) as e:
                env.bucket(b.bucket_name, env.auth(*env.user2)).create_bucket()
            assert e.value.status == 409 and e.value.code == 'BucketAlreadyExists'
    finally:
        b.delete_bucket()
    with pytest.raises(oss2.exceptions.NoSuchBucket):
        b.get_bucket_info()


def test_delete_bucket_not_empty(bucket):
    bucket.put_object('k', b'v')
    with pytest.raises(oss2.exceptions.BucketNotEmpty):
        bucket.delete_bucket()


def test_bucket_acl(env, bucket):
    assert bucket.get_bucket_acl().acl == oss2.BUCKET_ACL_PRIVATE
    # New buckets block public ACLs, as on OSS: lift the block first.
    with pytest.raises(oss2.exceptions.AccessDenied):
        bucket.put_bucket_acl(oss2.BUCKET_ACL_PUBLIC_READ)
    assert bucket.get_bucket_public_access_block().block_public_access is True
    lift_block(bucket)
    assert bucket.get_bucket_public_access_block().block_public_access is False
    bucket.put_bucket_acl(oss2.BUCKET_ACL_PUBLIC_READ)
    assert bucket.get_bucket_acl().acl == oss2.BUCKET_ACL_PUBLIC_READ
    bucket.put_object('pub.txt', b'public')
    anon = oss2.Bucket(oss2.AnonymousAuth(), env.endpoint, bucket.bucket_name, is_path_style=True)
    assert anon.get_object('pub.txt').read() == b'public'
    with pytest.raises(oss2.exceptions.AccessDenied):
        anon.put_object('x', b'no')
    if env.user2:
        other = env.bucket(bucket.bucket_name, env.auth(*env.user2))
        assert other.get_object('pub.txt').read() == b'public'
        with pytest.raises(oss2.exceptions.AccessDenied):
            other.get_bucket_acl()
    bucket.put_bucket_acl(oss2.BUCKET_ACL_PRIVATE)
    with pytest.raises(oss2.exceptions.AccessDenied):
        anon.get_object('pub.txt')


def test_second_account(env, bucket):
    if not env.user2:
        pytest.skip("no second account (OSSD_USER2_KEY_ID)")
    other = env.bucket(bucket.bucket_name, env.auth(*env.user2))
    with pytest.raises(oss2.exceptions.AccessDenied):
        other.put_object('x', b'no')
    with pytest.raises(oss2.exceptions.AccessDenied):
        other.list_objects()
    names = [b.name for b in oss2.BucketIterator(env.service(env.auth(*env.user2)))]
    assert bucket.bucket_name not in names


def test_bucket_tagging(bucket):
    rule = TaggingRule()
    rule.add('k1', 'v1')
    rule.add('k2', '')
    bucket.put_bucket_tagging(Tagging(rule))
    assert bucket.get_bucket_tagging().tag_set.tagging_rule == {'k1': 'v1', 'k2': ''}
    bucket.delete_bucket_tagging()
    assert bucket.get_bucket_tagging().tag_set.tagging_rule == {}


def test_bucket_versioning(bucket):
    assert bucket.get_bucket_versioning().status is None
    bucket.put_bucket_versioning(BucketVersioningConfig(oss2.BUCKET_VERSIONING_ENABLE))
    assert bucket.get_bucket_versioning().status == oss2.BUCKET_VERSIONING_ENABLE
    v1 = bucket.put_object('v', b'one').versionid
    v2 = bucket.put_object('v', b'two').versionid
    assert v1 and v2 and v1 != v2
    assert bucket.get_object('v', params={'versionId': v1}).read() == b'one'
    d = bucket.delete_object('v')
    assert d.delete_marker
    with pytest.raises(oss2.exceptions.NoSuchKey):
        bucket.get_object('v')
    bucket.put_bucket_versioning(BucketVersioningConfig(oss2.BUCKET_VERSIONING_SUSPEND))
    assert bucket.get_bucket_versioning().status == oss2.BUCKET_VERSIONING_SUSPEND


def test_bucket_cors(env, bucket):
    rule = CorsRule(allowed_origins=['https://*.example.com'], allowed_methods=['GET', 'PUT'],
                    allowed_headers=['x-oss-meta-*'], expose_headers=['ETag'], max_age_seconds=100)
    bucket.put_bucket_cors(BucketCors([rule]))
    got = bucket.get_bucket_cors().rules
    assert len(got) == 1
    assert got[0].allowed_origins == ['https://*.example.com']
    assert got[0].allowed_methods == ['GET', 'PUT']
    assert got[0].expose_headers == ['ETag']
    assert got[0].max_age_seconds == 100
    bucket.put_object('c.txt', b'cors')
    import requests
    url = "%s/%s/c.txt" % (env.endpoint, bucket.bucket_name)
    pre = requests.options(url, headers={'Origin': 'https://a.example.com', 'Access-Control-Request-Method': 'PUT',
                                         'Access-Control-Request-Headers': 'x-oss-meta-a'})
    assert pre.status_code == 200
    assert pre.headers['Access-Control-Allow-Origin'] == 'https://a.example.com'
    bad = requests.options(url, headers={'Origin': 'https://evil.com', 'Access-Control-Request-Method': 'GET'})
    assert bad.status_code == 403
    bucket.delete_bucket_cors()
    with pytest.raises(oss2.exceptions.NoSuchCors):
        bucket.get_bucket_cors()
