# Object operations with oss2: put/get/head/meta/delete, append, copy,
# symlinks, tagging, ACLs, signed URLs, multi-delete.
import base64
import hashlib
import socket

import pytest
import requests
import oss2
from oss2.models import Tagging, TaggingRule

from conftest import lift_block


def test_put_get_head_delete(bucket):
    data = b'hello oss2' * 100
    r = bucket.put_object('dir/obj.txt', data, headers={'Content-Type': 'text/plain', 'x-oss-meta-owner': 'me'})
    assert r.status == 200 and r.etag == hashlib.md5(data).hexdigest().upper()
    assert r.crc is not None  # oss2 checks x-oss-hash-crc64ecma against its own CRC
    got = bucket.get_object('dir/obj.txt')
    assert got.read() == data
    assert got.headers['Content-Type'] == 'text/plain'
    assert got.headers['x-oss-meta-owner'] == 'me'
    assert bucket.get_object('dir/obj.txt', byte_range=(2, 5)).read() == data[2:6]
    head = bucket.head_object('dir/obj.txt')
    assert head.content_length == len(data) and head.etag == r.etag
    assert head.last_modified > 0
    meta = bucket.get_object_meta('dir/obj.txt')
    assert meta.content_length == len(data) and meta.etag == r.etag
    assert bucket.object_exists('dir/obj.txt') and not bucket.object_exists('nope')
    bucket.update_object_meta('dir/obj.txt', {'x-oss-meta-owner': 'you'})
    assert bucket.head_object('dir/obj.txt').headers['x-oss-meta-owner'] == 'you'
    assert bucket.delete_object('dir/obj.txt').status == 204
    with pytest.raises(oss2.exceptions.NoSuchKey):
        bucket.get_object('dir/obj.txt')
    with pytest.raises(oss2.exceptions.NotFound):
        bucket.head_object('dir/obj.txt')


def test_put_get_file(bucket, tmp_path):
    src = tmp_path / 'src.bin'
    src.write_bytes(bytes(range(256)) * 1000)
    bucket.put_object_from_file('f.bin', str(src))
    dst = tmp_path / 'dst.bin'
    bucket.get_object_to_file('f.bin', str(dst))
    assert dst.read_bytes() == src.read_bytes()


def test_wrong_content_md5(bucket):
    md5 = base64.b64encode(hashlib.md5(b'other').digest()).decode()
    with pytest.raises(oss2.exceptions.InvalidDigest):
        bucket.put_object('md5', b'data', headers={'Content-MD5': md5})


def test_forbid_overwrite(bucket):
    bucket.put_object('once', b'1')
    with pytest.raises(oss2.exceptions.ServerError) as e:
        bucket.put_object('once', b'2', headers={'x-oss-forbid-overwrite': 'true'})
    assert e.value.code == 'FileAlreadyExists'
    assert bucket.get_object('once').read() == b'1'


def test_append(bucket):
    r = bucket.append_object('app.log', 0, b'line 1\n')
    assert r.next_position == 7
    r = bucket.append_object('app.log', r.next_position, b'line 2\n', init_crc=r.crc)
    assert r.next_position == 14
    with pytest.raises(oss2.exceptions.PositionNotEqualToLength):
        bucket.append_object('app.log', 3, b'x')
    assert bucket.get_object('app.log').read() == b'line 1\nline 2\n'
    assert bucket.head_object('app.log').object_type == 'Appendable'


def test_copy(bucket, make_bucket):
    bucket.put_object('src', b'copy me', headers={'x-oss-meta-a': '1'})
    r = bucket.copy_object(bucket.bucket_name, 'src', 'dst')
    assert r.etag == bucket.head_object('src').etag
    assert bucket.get_object('dst').read() == b'copy me'
    assert bucket.head_object('dst').headers['x-oss-meta-a'] == '1'
    other = make_bucket("copydst")
    other.copy_object(bucket.bucket_name, 'src', 'x', headers={'x-oss-metadata-directive': 'REPLACE', 'x-oss-meta-b': '2'})
    h = other.head_object('x')
    assert h.headers['x-oss-meta-b'] == '2' and 'x-oss-meta-a' not in h.headers
    with pytest.raises(oss2.exceptions.NoSuchKey):
        bucket.copy_object(bucket.bucket_name, 'missing', 'y')


def test_symlink(bucket):
    bucket.put_object('target.txt', b'pointed at')
    bucket.put_symlink('target.txt', 'link', headers={'x-oss-meta-why': 'shortcut', 'Content-Type': 'text/x-link'})
    assert bucket.get_symlink('link').target_key == 'target.txt'
    assert bucket.get_object('link').read() == b'pointed at'
    # oss2's test_put_symlink: HEAD gives the target's length and ETag and
    # the symlink's own user metadata.
    head = bucket.head_object('link')
    assert head.content_length == len(b'pointed at')
    assert head.etag == bucket.head_object('target.txt').etag
    assert head.headers['x-oss-meta-why'] == 'shortcut'
    assert bucket.get_symlink('link').headers['x-oss-meta-why'] == 'shortcut'
    with pytest.raises(oss2.exceptions.NoSuchKey):
        bucket.get_symlink('missing-link')
    with pytest.raises(oss2.exceptions.ServerError) as e:
        bucket.get_symlink('target.txt')
    assert e.value.code == 'NotSymlink'


def test_object_tagging(bucket):
    bucket.put_object('t', b'x', headers={'x-oss-tagging': 'k1=v1&k2=v2&' + oss2.compat.urlquote(' + ') + '=' + oss2.compat.urlquote(u'中文'.encode('utf-8'))})
    assert bucket.get_object_tagging('t').tag_set.tagging_rule == {'k1': 'v1', 'k2': 'v2', ' + ': u'中文'}
    for bad in ['=a&b=a', 'a=b&a=b']:
        with pytest.raises(oss2.exceptions.OssError) as e:
            bucket.put_object('t2', b'x', headers={'x-oss-tagging': bad})
        assert e.value.code == 'InvalidTag'
    rule = TaggingRule()
    rule.add(128 * 'a', 256 * 'b')
    rule.add('+-=._:/ ', '')
    bucket.put_object_tagging('t', Tagging(rule))
    assert bucket.get_object_tagging('t').tag_set.tagging_rule == {128 * 'a': 256 * 'b', '+-=._:/ ': ''}
    assert bucket.head_object('t').headers['x-oss-tagging-count'] == '2'
    bucket.delete_object_tagging('t')
    assert bucket.get_object_tagging('t').tag_set.tagging_rule == {}


@pytest.mark.parametrize("key,value", [
    (129 * 'a', 'v'),   # key too long
    ('%@abc', 'v'),     # characters OSS does not allow in a key
    ('', 'v'),          # empty key
    ('k', 257 * 'a'),   # value too long
    ('k', '%abc'),      # characters OSS does not allow in a value
])
def test_object_tagging_invalid(bucket, key, value):
    # The cases of oss2's own tests (test_object_tagging_wrong_key/_value).
    bucket.put_object('t', b'x')
    tagging = Tagging()
    tagging.tag_set.tagging_rule[key] = value
    with pytest.raises(oss2.exceptions.OssError) as e:
        bucket.put_object_tagging('t', tagging)
    assert e.value.status == 400 and e.value.code == 'InvalidTag', e.value
    assert bucket.get_object_tagging('t').tag_set.tagging_rule == {}


def test_object_tagging_too_many(bucket):
    bucket.put_object('t', b'x')
    rule = TaggingRule()
    for i in range(11):
        rule.add('k%d' % i, 'v')
    with pytest.raises(oss2.exceptions.OssError) as e:
        bucket.put_object_tagging('t', Tagging(rule))
    assert e.value.status == 400


def test_object_acl(env, bucket):
    bucket.put_object('o', b'acl')
    assert bucket.get_object_acl('o').acl == oss2.OBJECT_ACL_DEFAULT
    with pytest.raises(oss2.exceptions.AccessDenied):
        bucket.put_object_acl('o', oss2.OBJECT_ACL_PUBLIC_READ)
    lift_block(bucket)
    bucket.put_object_acl('o', oss2.OBJECT_ACL_PUBLIC_READ)
    assert bucket.get_object_acl('o').acl == oss2.OBJECT_ACL_PUBLIC_READ
    anon = oss2.Bucket(oss2.AnonymousAuth(), env.endpoint, bucket.bucket_name, is_path_style=True)
    assert anon.get_object('o').read() == b'acl'
    bucket.put_object_acl('o', oss2.OBJECT_ACL_PRIVATE)
    with pytest.raises(oss2.exceptions.AccessDenied):
        anon.get_object('o')


def test_signed_urls(env, bucket):
    bucket.put_object('signed.txt', b'signed content')
    url = bucket.sign_url('GET', 'signed.txt', 60)
    r = requests.get(url)
    assert r.status_code == 200 and r.content == b'signed content'
    url = bucket.sign_url('PUT', 'up.txt', 60, headers={'Content-Type': 'text/plain'})
    r = requests.put(url, data=b'uploaded', headers={'Content-Type': 'text/plain'})
    assert r.status_code == 200, r.text
    assert bucket.get_object('up.txt').read() == b'uploaded'
    assert bucket.get_object_with_url(bucket.sign_url('GET', 'up.txt', 60)).read() == b'uploaded'
    # A tampered URL is refused.
    r = requests.get(bucket.sign_url('GET', 'signed.txt', 60).replace('signed.txt', 'up.txt'))
    assert r.status_code == 403
    # An expired one too.
    r = requests.get(bucket.sign_url('GET', 'signed.txt', 1 if env.sign == "v4" else -10))
    if env.sign == "v1":
        assert r.status_code == 403


def test_batch_delete(bucket):
    keys = ['a', 'b/c', 'd e', '中文']
    for k in keys:
        bucket.put_object(k, b'x')
    r = bucket.batch_delete_objects(keys + ['never-existed'])
    assert sorted(r.deleted_keys) == sorted(keys + ['never-existed'])
    assert not list(oss2.ObjectIterator(bucket))


def test_batch_delete_control_character(bucket):
    # oss2's test_chinese: keys with a form feed (\x0C), which XML 1.0 cannot
    # carry; oss2 writes it as a character reference and OSS accepts it.
    key = u'中文!@#$%^&*()-=文件\x0C-1.txt'
    bucket.put_object(key, b'x')
    assert bucket.get_object(key).read() == b'x'
    listed = [o.key for o in oss2.ObjectIterator(bucket)]
    assert listed == [key]
    r = bucket.batch_delete_objects([key, '<hello>'])
    assert sorted(r.deleted_keys) == sorted([key, '<hello>'])
    assert not bucket.object_exists(key)


def test_get_with_unread_body(env, bucket):
    # A GET that announces a body (Content-Length: 9) and never sends it must
    # still be answered: GetObject reads no body.
    bucket.put_object('cl.txt', b'content')
    url = bucket.sign_url('GET', 'cl.txt', 60)
    host_port = env.endpoint.split('://', 1)[1]
    host, port = host_port.rsplit(':', 1)
    path = url.split(host_port, 1)[1]
    s = socket.create_connection((host, int(port)), timeout=10)
    try:
        s.sendall(('GET %s HTTP/1.1\r\nHost: %s\r\nContent-Length: 9\r\n\r\n' % (path, host_port)).encode())
        resp = b''
        while b'\r\n\r\n' not in resp or not resp.endswith(b'content'):
            chunk = s.recv(65536)
            if not chunk:
                break
            resp += chunk
        assert resp.startswith(b'HTTP/1.1 200'), resp
        assert resp.endswith(b'content'), resp
    finally:
        s.close()


def test_versions_batch_delete_and_copy(bucket):
    from oss2.models import BatchDeleteObjectVersion, BatchDeleteObjectVersionList, BucketVersioningConfig
    bucket.put_bucket_versioning(BucketVersioningConfig(oss2.BUCKET_VERSIONING_ENABLE))
    v1 = bucket.put_object('v', b'one').versionid
    v2 = bucket.put_object('v', b'two').versionid
    assert bucket.head_object('v', params={'versionId': v1}).content_length == 3
    r = bucket.copy_object(bucket.bucket_name, 'v', 'v-copy', params={'versionId': v1})
    assert r.versionid and bucket.get_object('v-copy').read() == b'one'
    versions = BatchDeleteObjectVersionList()
    versions.append(BatchDeleteObjectVersion('v', v1))
    versions.append(BatchDeleteObjectVersion('v', v2))
    r = bucket.delete_object_versions(versions)
    assert sorted(d.versionid for d in r.delete_versions) == sorted([v1, v2])
    assert not bucket.object_exists('v')


def test_storage_class_and_stat(bucket):
    bucket.put_object('ia', b'infrequent', headers={'x-oss-storage-class': oss2.BUCKET_STORAGE_CLASS_IA})
    assert bucket.head_object('ia').headers['x-oss-storage-class'] == 'IA'
    assert [o.storage_class for o in bucket.list_objects().object_list] == ['IA']
    bucket.put_object('std', b'x' * 10)
    stat = bucket.get_bucket_stat()
    assert stat.object_count == 2 and stat.storage_size_in_bytes == len(b'infrequent') + 10


def test_anonymous_listing_of_public_bucket(env, bucket):
    bucket.put_object('a', b'x')
    anon = oss2.Bucket(oss2.AnonymousAuth(), env.endpoint, bucket.bucket_name, is_path_style=True)
    with pytest.raises(oss2.exceptions.AccessDenied):
        anon.list_objects()
    lift_block(bucket)
    bucket.put_bucket_acl(oss2.BUCKET_ACL_PUBLIC_READ_WRITE)
    assert [o.key for o in anon.list_objects().object_list] == ['a']
    anon.put_object('from-anon', b'y')
    assert bucket.get_object('from-anon').read() == b'y'


def test_signed_url_put_without_content_type(bucket):
    # oss2's test_put_object_with_sign_url: the server guesses no type.
    url = bucket.sign_url('PUT', 'photo.jpg', 60)
    assert bucket.put_object_with_url(url, b'jpeg').status == 200
    assert bucket.head_object('photo.jpg').content_type == 'application/octet-stream'
    with pytest.raises(oss2.exceptions.SignatureDoesNotMatch):
        bucket.put_object_with_url(url, b'jpeg', headers={'Content-Type': 'image/jpeg'})


def test_signed_url_with_headers(env, bucket):
    # V4 signs the headers named in additional_headers; V1 signs Content-Type.
    url = bucket.sign_url('PUT', 'typed.txt', 60, headers={'Content-Type': 'text/plain', 'x-oss-meta-a': 'b'},
                          additional_headers=['x-oss-meta-a'] if env.sign == 'v4' else None)
    r = requests.put(url, data=b'typed', headers={'Content-Type': 'text/plain', 'x-oss-meta-a': 'b'})
    assert r.status_code == 200, r.text
    h = bucket.head_object('typed.txt')
    assert h.content_type == 'text/plain' and h.headers['x-oss-meta-a'] == 'b'
    # The same URL with another Content-Type does not match its signature.
    r = requests.put(url, data=b'typed', headers={'Content-Type': 'image/png', 'x-oss-meta-a': 'b'})
    assert r.status_code == 403 and '<Code>SignatureDoesNotMatch</Code>' in r.text
