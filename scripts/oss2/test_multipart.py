# Multipart uploads with oss2, low level and through its resumable helpers.
import hashlib

import pytest
import oss2
from oss2.models import PartInfo

PART = 100 * 1024


def test_multipart_upload(bucket):
    key = 'mp.bin'
    data = [bytes([i]) * PART for i in range(3)]
    up = bucket.init_multipart_upload(key, headers={'x-oss-meta-kind': 'multipart'})
    parts = []
    for n, chunk in enumerate(data, 1):
        r = bucket.upload_part(key, up.upload_id, n, chunk)
        assert r.etag == hashlib.md5(chunk).hexdigest().upper()
        parts.append(PartInfo(n, r.etag))
    done = bucket.complete_multipart_upload(key, up.upload_id, parts)
    # oss2 reads the ETag of the completed object from the ETag header.
    assert done.etag and done.etag.endswith('-3')
    assert bucket.get_object(key).read() == b''.join(data)
    head = bucket.head_object(key)
    assert head.etag == done.etag and head.object_type == 'Multipart'
    assert head.headers['x-oss-meta-kind'] == 'multipart'


def test_complete_all(bucket):
    key = 'all.bin'
    up = bucket.init_multipart_upload(key)
    bucket.upload_part(key, up.upload_id, 1, b'a' * PART)
    bucket.upload_part(key, up.upload_id, 2, b'b')
    done = bucket.complete_multipart_upload(key, up.upload_id, None, headers={'x-oss-complete-all': 'yes'})
    assert done.etag
    assert bucket.get_object(key).read() == b'a' * PART + b'b'


def test_upload_part_wrong_md5(bucket):
    # oss2's test_upload_part_content_md5_bad.
    key = 'md5.bin'
    content = b'x' * PART
    up = bucket.init_multipart_upload(key)
    with pytest.raises(oss2.exceptions.InvalidDigest):
        bucket.upload_part(key, up.upload_id, 1, content, headers={'Content-MD5': oss2.utils.content_md5(content + content)})


def test_abort(bucket):
    up = bucket.init_multipart_upload('gone')
    bucket.upload_part('gone', up.upload_id, 1, b'x')
    bucket.abort_multipart_upload('gone', up.upload_id)
    with pytest.raises(oss2.exceptions.NoSuchUpload):
        bucket.list_parts('gone', up.upload_id)


def test_invalid_part(bucket):
    up = bucket.init_multipart_upload('bad')
    bucket.upload_part('bad', up.upload_id, 1, b'x')
    with pytest.raises(oss2.exceptions.ServerError) as e:
        bucket.complete_multipart_upload('bad', up.upload_id, [PartInfo(1, '0' * 32)])
    assert e.value.status == 400 and e.value.code == 'InvalidPart'


def test_upload_part_copy(bucket, make_bucket):
    src = make_bucket("partcopysrc")
    data = bytes(range(256)) * 1024  # 256 KiB
    src.put_object('source', data)
    key = 'copied'
    up = bucket.init_multipart_upload(key)
    first = bucket.upload_part_copy(src.bucket_name, 'source', (0, PART - 1), key, up.upload_id, 1)
    second = bucket.upload_part_copy(src.bucket_name, 'source', (PART, len(data) - 1), key, up.upload_id, 2)
    # oss2 reads the part's ETag from the ETag header of UploadPartCopy.
    assert first.etag == hashlib.md5(data[:PART]).hexdigest().upper()
    assert second.etag == hashlib.md5(data[PART:]).hexdigest().upper()
    bucket.complete_multipart_upload(key, up.upload_id, [PartInfo(1, first.etag), PartInfo(2, second.etag)])
    assert bucket.get_object(key).read() == data


def test_resumable_upload_and_download(bucket, tmp_path):
    src = tmp_path / 'big.bin'
    src.write_bytes(bytes(range(256)) * 4096)  # 1 MiB
    oss2.resumable_upload(bucket, 'resumable.bin', str(src), store=oss2.ResumableStore(root=str(tmp_path)),
                          multipart_threshold=200 * 1024, part_size=PART, num_threads=2)
    assert bucket.head_object('resumable.bin').object_type == 'Multipart'
    dst = tmp_path / 'back.bin'
    oss2.resumable_download(bucket, 'resumable.bin', str(dst), store=oss2.ResumableDownloadStore(root=str(tmp_path)),
                            multiget_threshold=200 * 1024, part_size=PART, num_threads=2)
    assert dst.read_bytes() == src.read_bytes()


def test_copy_large_object_with_part_copy(bucket):
    # The usual copy of a large object: ranged UploadPartCopy parts.
    data = bytes(range(256)) * 1024
    bucket.put_object('large', data)
    up = bucket.init_multipart_upload('large-copy')
    parts = []
    for n, start in enumerate(range(0, len(data), PART), 1):
        end = min(start + PART, len(data)) - 1
        r = bucket.upload_part_copy(bucket.bucket_name, 'large', (start, end), 'large-copy', up.upload_id, n)
        parts.append(PartInfo(n, r.etag))
    bucket.complete_multipart_upload('large-copy', up.upload_id, parts)
    assert bucket.get_object('large-copy').read() == data
