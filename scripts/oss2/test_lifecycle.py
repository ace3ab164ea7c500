# Bucket lifecycle rules with oss2: OSS's documented samples' shapes
# (expiration by days and by date, delete markers, aborted uploads,
# noncurrent versions, tags and Filter/Not), read back as oss2 parses them.
import datetime

import pytest
import oss2
from oss2.models import (AbortMultipartUpload, BucketLifecycle, FilterNot, FilterNotTag, LifecycleExpiration,
                         LifecycleFilter, LifecycleRule, NoncurrentVersionExpiration, StorageTransition, Tagging,
                         TaggingRule)


def test_lifecycle_round_trip(bucket):
    with pytest.raises(oss2.exceptions.NoSuchLifecycle) as e:
        bucket.get_bucket_lifecycle()
    assert e.value.status == 404

    tags = TaggingRule()
    tags.add('class', 'tmp')
    rules = [
        LifecycleRule('logs', 'log/', status=LifecycleRule.ENABLED,
                      expiration=LifecycleExpiration(days=30),
                      storage_transitions=[StorageTransition(days=10, storage_class=oss2.BUCKET_STORAGE_CLASS_IA)],
                      filter=LifecycleFilter(filter_not=[FilterNot(prefix='log/keep/', tag=FilterNotTag('keep', 'yes'))])),
        LifecycleRule('by-date', 'old/', status=LifecycleRule.ENABLED,
                      expiration=LifecycleExpiration(created_before_date=datetime.date(2026, 1, 1))),
        # oss2 writes the boolean as Python does: "True".
        LifecycleRule('markers', 'v/', status=LifecycleRule.ENABLED,
                      expiration=LifecycleExpiration(expired_detete_marker=True),
                      noncurrent_version_expiration=NoncurrentVersionExpiration(7)),
        LifecycleRule('uploads', 'up/', status=LifecycleRule.DISABLED,
                      abort_multipart_upload=AbortMultipartUpload(days=2)),
        LifecycleRule('tagged', 'tmp/', status=LifecycleRule.ENABLED,
                      expiration=LifecycleExpiration(days=1), tagging=Tagging(tags)),
    ]
    assert bucket.put_bucket_lifecycle(BucketLifecycle(rules)).status == 200

    got = {r.id: r for r in bucket.get_bucket_lifecycle().rules}
    assert sorted(got) == ['by-date', 'logs', 'markers', 'tagged', 'uploads']
    logs = got['logs']
    assert logs.prefix == 'log/' and logs.status == 'Enabled' and logs.expiration.days == 30
    assert logs.storage_transitions[0].days == 10 and logs.storage_transitions[0].storage_class == 'IA'
    assert logs.filter.filter_not[0].prefix == 'log/keep/' and logs.filter.filter_not[0].tag.key == 'keep'
    assert got['by-date'].expiration.created_before_date == datetime.date(2026, 1, 1)
    assert got['markers'].expiration.expired_detete_marker is True
    assert got['markers'].noncurrent_version_expiration.noncurrent_days == 7
    assert got['uploads'].status == 'Disabled' and got['uploads'].abort_multipart_upload.days == 2
    assert got['tagged'].tagging.tag_set.tagging_rule == {'class': 'tmp'}

    assert bucket.delete_bucket_lifecycle().status == 204
    with pytest.raises(oss2.exceptions.NoSuchLifecycle):
        bucket.get_bucket_lifecycle()


def test_lifecycle_refused(bucket):
    # Days and CreatedBeforeDate mixed in one rule: OSS's InvalidRequest.
    rule = LifecycleRule('mixed', 'a/', status=LifecycleRule.ENABLED,
                         expiration=LifecycleExpiration(days=30),
                         storage_transitions=[StorageTransition(created_before_date=datetime.date(2026, 1, 1),
                                                                storage_class=oss2.BUCKET_STORAGE_CLASS_IA)])
    with pytest.raises(oss2.exceptions.ServerError) as e:
        bucket.put_bucket_lifecycle(BucketLifecycle([rule]))
    assert e.value.status == 400 and e.value.code == 'InvalidRequest' and e.value.ec == '0014-00000080'
