# Listings with oss2: ListObjects (v1), ListObjectsV2, ListObjectVersions,
# ListMultipartUploads, ListParts, and oss2's iterators over each. Every one
# of them parses <LastModified>/<Initiated> with oss2's strict ISO 8601 parser.
import time

import oss2
from oss2.models import BucketVersioningConfig

KEYS = ['a.txt', 'dir/b.txt', 'dir/c.txt', 'dir/sub/d.txt', 'e f.txt', '中文.txt']


def fill(bucket):
    for k in KEYS:
        bucket.put_object(k, k.encode('utf-8'))


def test_list_objects_v1(bucket):
    fill(bucket)
    r = bucket.list_objects()
    assert [o.key for o in r.object_list] == sorted(KEYS, key=lambda k: k.encode('utf-8'))
    o = r.object_list[0]
    assert o.size == len(b'a.txt') and o.etag and o.type == 'Normal' and o.storage_class == 'Standard'
    assert abs(o.last_modified - time.time()) < 3600
    r = bucket.list_objects(delimiter='/')
    assert r.prefix_list == ['dir/']
    assert [o.key for o in r.object_list] == ['a.txt', 'e f.txt', '中文.txt']
    r = bucket.list_objects(prefix='dir/', delimiter='/')
    assert r.prefix_list == ['dir/sub/'] and [o.key for o in r.object_list] == ['dir/b.txt', 'dir/c.txt']
    page = bucket.list_objects(max_keys=2)
    assert page.is_truncated and page.next_marker == 'dir/b.txt'
    rest = bucket.list_objects(marker=page.next_marker)
    assert [o.key for o in rest.object_list][0] == 'dir/c.txt'
    assert [o.key for o in oss2.ObjectIterator(bucket, max_keys=1)] == [o.key for o in bucket.list_objects().object_list]


def test_list_objects_v2(bucket):
    fill(bucket)
    r = bucket.list_objects_v2(fetch_owner=True)
    assert sorted(o.key for o in r.object_list) == sorted(KEYS)
    assert r.object_list[0].owner.id
    page = bucket.list_objects_v2(max_keys=2)
    assert page.is_truncated and page.next_continuation_token
    nxt = bucket.list_objects_v2(continuation_token=page.next_continuation_token)
    assert nxt.object_list[0].key == 'dir/c.txt'
    r = bucket.list_objects_v2(start_after='dir/sub/d.txt')
    assert [o.key for o in r.object_list] == ['e f.txt', '中文.txt']
    r = bucket.list_objects_v2(prefix='dir/', delimiter='/')
    assert r.prefix_list == ['dir/sub/']
    assert sorted(o.key for o in oss2.ObjectIteratorV2(bucket, max_keys=1)) == sorted(KEYS)


def test_list_object_versions(bucket):
    bucket.put_bucket_versioning(BucketVersioningConfig(oss2.BUCKET_VERSIONING_ENABLE))
    v1 = bucket.put_object('k', b'1').versionid
    v2 = bucket.put_object('k', b'2').versionid
    bucket.delete_object('k')
    r = bucket.list_object_versions()
    assert [(v.key, v.versionid, v.is_latest) for v in r.versions] == [('k', v2, False), ('k', v1, False)]
    assert len(r.delete_marker) == 1 and r.delete_marker[0].is_latest
    assert all(v.last_modified > 0 for v in r.versions + r.delete_marker)
    page = bucket.list_object_versions(max_keys=1)
    assert page.is_truncated and page.next_key_marker == 'k'
    rest = bucket.list_object_versions(key_marker=page.next_key_marker, versionid_marker=page.next_versionid_marker)
    assert len(rest.versions) + len(rest.delete_marker) == 2


def test_list_uploads_and_parts(bucket):
    up1 = bucket.init_multipart_upload('big/one').upload_id
    up2 = bucket.init_multipart_upload('big/two').upload_id
    for n in (1, 2, 3):
        bucket.upload_part('big/one', up1, n, b'%d' % n * (100 * 1024))
    r = bucket.list_multipart_uploads()
    assert [(u.key, u.upload_id) for u in r.upload_list] == [('big/one', up1), ('big/two', up2)]
    assert all(u.initiation_date > 0 for u in r.upload_list)
    r = bucket.list_multipart_uploads(max_uploads=1)
    assert r.is_truncated and r.next_key_marker == 'big/one'
    assert len(list(oss2.MultipartUploadIterator(bucket, max_uploads=1))) == 2
    assert [u.upload_id for u in oss2.ObjectUploadIterator(bucket, 'big/one')] == [up1]
    parts = bucket.list_parts('big/one', up1)
    assert [p.part_number for p in parts.parts] == [1, 2, 3]
    assert all(p.size == 100 * 1024 and p.etag and p.last_modified > 0 for p in parts.parts)
    page = bucket.list_parts('big/one', up1, max_parts=2)
    assert page.is_truncated and page.next_marker == '2'
    assert [p.part_number for p in oss2.PartIterator(bucket, 'big/one', up1, max_parts=1)] == [1, 2, 3]
