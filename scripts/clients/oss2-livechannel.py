#!/usr/bin/env python3
"""Python oss2's LiveChannel API against ossd, after oss2's own tests/test_live_channel.py:
create (URLs as OSS forms them), get, stat (Idle), status switches, history (empty), listing
with prefix/marker/max-keys over two pages, VOD playlist refused for want of fragments,
NoSuchLiveChannel, and bucket deletion refused while channels remain. Run by
e2e/TestClientOSS2LiveChannel with OSSD_ENDPOINT, OSSD_KEY_ID, OSSD_KEY_SECRET, OSSD_BUCKET
and OSSD_AUTH (v1 or v4)."""
import os
import time

import oss2
from oss2.exceptions import NoSuchLiveChannel, InvalidArgument, BucketNotEmpty

EP = os.environ["OSSD_ENDPOINT"]
AK, SK = os.environ["OSSD_KEY_ID"], os.environ["OSSD_KEY_SECRET"]
BUCKET = os.environ["OSSD_BUCKET"]
if os.environ.get("OSSD_AUTH") == "v4":
    bucket = oss2.Bucket(oss2.AuthV4(AK, SK), EP, BUCKET, region=os.environ["OSSD_REGION"], is_path_style=True)
else:
    bucket = oss2.Bucket(oss2.Auth(AK, SK), EP, BUCKET, is_path_style=True)
HOST = EP.replace("http://", "").replace("https://", "")


def check(cond, what):
    if not cond:
        raise SystemExit("FAIL: " + what)
    print("ok:", what)


def raises(exc, fn, what):
    try:
        fn()
    except exc as e:
        print("ok:", what, "->", e.code if hasattr(e, "code") else e)
        return
    raise SystemExit("FAIL: %s: no %s" % (what, exc.__name__))


info = oss2.models.LiveChannelInfo(target=oss2.models.LiveChannelInfoTarget(playlist_name="test.m3u8"))
raises(NoSuchLiveChannel, lambda: bucket.get_live_channel("ch"), "get of a missing channel")
r = bucket.create_live_channel("ch", info)
check(r.play_url == "http://%s.%s/ch/test.m3u8" % (BUCKET, HOST), "play url %s" % r.play_url)
check(r.publish_url == "rtmp://%s.%s/live/ch" % (BUCKET, HOST), "publish url %s" % r.publish_url)
g = bucket.get_live_channel("ch")
check(g.status == "enabled" and g.target.type == "HLS" and g.target.frag_duration == "5" and
      g.target.frag_count == "3" and g.target.playlist_name == "test.m3u8", "get_live_channel")
check(bucket.get_live_channel_stat("ch").status == "Idle", "stat Idle")
bucket.put_live_channel_status("ch", "disabled")
check(bucket.get_live_channel("ch").status == "disabled", "status disabled")
bucket.put_live_channel_status("ch", "enabled")
check(bucket.get_live_channel("ch").status == "enabled", "status enabled")
check(len(bucket.get_live_channel_history("ch").records) == 0, "history empty")
end = int(time.time()) - 60
raises(InvalidArgument, lambda: bucket.post_vod_playlist("ch", "vod.m3u8", start_time=end - 3600, end_time=end),
       "post_vod_playlist without fragments")

lr = bucket.list_live_channel()
check(lr.max_keys == 100 and not lr.is_truncated and [c.name for c in lr.channels] == ["ch"], "list one")
check(lr.channels[0].last_modified > 0, "list LastModified parses")
names = ["p%010d" % i for i in range(120)]
for n in names:
    bucket.create_live_channel(n, info)
lr = bucket.list_live_channel(prefix="p")
check(lr.is_truncated and len(lr.channels) == 100 and lr.next_marker == names[99], "page 1")
lr = bucket.list_live_channel(prefix="p", marker=lr.next_marker)
check(not lr.is_truncated and len(lr.channels) == 20, "page 2")
check(len(list(oss2.LiveChannelIterator(bucket, max_keys=1000))) == 121, "LiveChannelIterator")
raises(BucketNotEmpty, bucket.delete_bucket, "delete_bucket with channels")
for c in oss2.LiveChannelIterator(bucket):
    bucket.delete_live_channel(c.name)
raises(NoSuchLiveChannel, lambda: bucket.get_live_channel_stat("ch"), "stat after delete")
bucket.delete_bucket()
print("oss2 live channel: all passed")
