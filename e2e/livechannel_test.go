package e2e

import (
	"fmt"
	"strings"
	"testing"
	"time"

	v1 "github.com/aliyun/aliyun-oss-go-sdk/oss"

	"github.com/ossd/ossd/ossdtest"
)

// wantV1Error checks a Go SDK v1 error's code, status and (when given) EC.
func wantV1Error(t *testing.T, what string, err error, code string, status int, ec string) v1.ServiceError {
	t.Helper()
	se, ok := err.(v1.ServiceError)
	if !ok {
		t.Fatalf("%s: err = %v, want %s", what, err, code)
	}
	if se.Code != code || se.StatusCode != status || (ec != "" && se.Ec != ec) || se.RequestID == "" {
		t.Fatalf("%s: got %s %d EC %q (%s), want %s %d EC %q", what, se.Code, se.StatusCode, se.Ec, se.Message, code, status, ec)
	}
	return se
}

// TestLiveChannelSDKv1 drives the Go SDK v1's whole LiveChannel API in
// every mode (V1/V4 × path/virtual host): create with defaults and with
// explicit fragments, info, stat (always Idle, Disabled when disabled),
// history (empty), status switches, listing with prefix, marker and
// max-keys over more than one page, the VOD calls (refused: no fragments
// are ever recorded), OSS's validation errors, BucketNotEmpty while a
// channel remains, and the SDK's own bucket clean-up pattern.
func TestLiveChannelSDKv1(t *testing.T) {
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			srv := ossdtest.Start(t)
			c := v1Client(t, srv, m)
			name := randName("live")
			if err := c.CreateBucket(name); err != nil {
				t.Fatal(err)
			}
			b, _ := c.Bucket(name)
			ep := srv.Endpoint
			if m.virtual {
				ep = srv.VirtualHostEndpoint()
			}
			host := name + "." + strings.TrimPrefix(ep, "http://")

			lr, err := b.ListLiveChannel()
			if err != nil || lr.Prefix != "" || lr.Marker != "" || lr.MaxKeys != 100 || lr.IsTruncated || len(lr.LiveChannel) != 0 || lr.NextMarker != "" {
				t.Fatalf("empty ListLiveChannel = %+v, %v", lr, err)
			}

			res, err := b.CreateLiveChannel("ch-1", v1.LiveChannelConfiguration{Description: "for test", Status: "enabled",
				Target: v1.LiveChannelTarget{Type: "HLS", PlaylistName: "ch-1.m3u8"}})
			if err != nil {
				t.Fatalf("CreateLiveChannel: %v", err)
			}
			if len(res.PublishUrls) != 1 || res.PublishUrls[0] != "rtmp://"+host+"/live/ch-1" ||
				len(res.PlayUrls) != 1 || res.PlayUrls[0] != "http://"+host+"/ch-1/ch-1.m3u8" {
				t.Errorf("CreateLiveChannel URLs = %+v", res)
			}
			info, err := b.GetLiveChannelInfo("ch-1")
			if err != nil || info.Description != "for test" || info.Status != "enabled" || info.Target.Type != "HLS" ||
				info.Target.FragDuration != 5 || info.Target.FragCount != 3 || info.Target.PlaylistName != "ch-1.m3u8" {
				t.Errorf("GetLiveChannelInfo = %+v, %v", info, err)
			}
			if _, err := b.CreateLiveChannel("ch-2", v1.LiveChannelConfiguration{
				Target: v1.LiveChannelTarget{Type: "HLS", FragDuration: 10, FragCount: 4}}); err != nil {
				t.Fatalf("CreateLiveChannel ch-2: %v", err)
			}
			info, err = b.GetLiveChannelInfo("ch-2")
			if err != nil || info.Status != "enabled" || info.Target.FragDuration != 10 || info.Target.FragCount != 4 || info.Target.PlaylistName != "playlist.m3u8" {
				t.Errorf("GetLiveChannelInfo ch-2 = %+v, %v", info, err)
			}

			stat, err := b.GetLiveChannelStat("ch-1")
			if err != nil || stat.Status != "Idle" {
				t.Errorf("GetLiveChannelStat = %+v, %v", stat, err)
			}
			if err := b.PutLiveChannelStatus("ch-1", "disabled"); err != nil {
				t.Fatalf("PutLiveChannelStatus: %v", err)
			}
			if info, _ := b.GetLiveChannelInfo("ch-1"); info.Status != "disabled" {
				t.Errorf("status after disabling = %q", info.Status)
			}
			if stat, _ := b.GetLiveChannelStat("ch-1"); stat.Status != "Disabled" {
				t.Errorf("stat of a disabled channel = %q", stat.Status)
			}
			if err := b.PutLiveChannelStatus("ch-1", "enabled"); err != nil {
				t.Fatal(err)
			}
			hist, err := b.GetLiveChannelHistory("ch-1")
			if err != nil || len(hist.Record) != 0 {
				t.Errorf("GetLiveChannelHistory = %+v, %v", hist, err)
			}

			end := time.Now().Add(-time.Minute)
			err = b.PostVodPlaylist("ch-1", "vod.m3u8", end.Add(-time.Hour), end)
			wantV1Error(t, "PostVodPlaylist", err, "InvalidArgument", 400, "")
			_, err = b.GetVodPlaylist("ch-1", end.Add(-time.Hour), end)
			wantV1Error(t, "GetVodPlaylist", err, "InvalidArgument", 400, "")
			_, err = b.GetVodPlaylist("ch-1", end, end.Add(-time.Hour))
			wantV1Error(t, "GetVodPlaylist reversed span", err, "InvalidArgument", 400, "")
			err = b.PostVodPlaylist("nope", "vod.m3u8", end.Add(-time.Hour), end)
			wantV1Error(t, "PostVodPlaylist of a missing channel", err, "NoSuchLiveChannel", 404, "")

			// Errors, as OSS answers them.
			_, err = b.GetLiveChannelInfo("nope")
			wantV1Error(t, "GetLiveChannelInfo missing", err, "NoSuchLiveChannel", 404, "")
			_, err = b.GetLiveChannelStat("nope")
			wantV1Error(t, "GetLiveChannelStat missing", err, "NoSuchLiveChannel", 404, "")
			_, err = b.GetLiveChannelHistory("nope")
			wantV1Error(t, "GetLiveChannelHistory missing", err, "NoSuchLiveChannel", 404, "")
			wantV1Error(t, "DeleteLiveChannel missing", b.DeleteLiveChannel(strings.Repeat("x", 65)), "NoSuchLiveChannel", 404, "")
			wantV1Error(t, "PutLiveChannelStatus invalid", b.PutLiveChannelStatus("ch-1", "paused"), "InvalidArgument", 400, "")
			wantV1Error(t, "PutLiveChannelStatus missing", b.PutLiveChannelStatus("nope", "enabled"), "NoSuchLiveChannel", 404, "")
			_, err = b.ListLiveChannel(v1.MaxKeys(-1))
			wantV1Error(t, "ListLiveChannel max-keys -1", err, "InvalidArgument", 400, "")
			for _, tc := range []struct {
				what string
				cfg  v1.LiveChannelConfiguration
				ec   string
			}{
				{"type", v1.LiveChannelConfiguration{Target: v1.LiveChannelTarget{Type: "DASH"}}, "0044-00000013"},
				{"status", v1.LiveChannelConfiguration{Status: "on", Target: v1.LiveChannelTarget{Type: "HLS"}}, "0044-00000002"},
				{"description", v1.LiveChannelConfiguration{Description: strings.Repeat("d", 129), Target: v1.LiveChannelTarget{Type: "HLS"}}, "0044-00000001"},
				{"frag duration", v1.LiveChannelConfiguration{Target: v1.LiveChannelTarget{Type: "HLS", FragDuration: 101, FragCount: 3}}, "0044-00000014"},
				{"frag count", v1.LiveChannelConfiguration{Target: v1.LiveChannelTarget{Type: "HLS", FragDuration: 5, FragCount: 101}}, "0044-00000015"},
				{"frag duration alone", v1.LiveChannelConfiguration{Target: v1.LiveChannelTarget{Type: "HLS", FragDuration: 5}}, "0044-00000015"},
				{"playlist suffix", v1.LiveChannelConfiguration{Target: v1.LiveChannelTarget{Type: "HLS", PlaylistName: "abc.text"}}, "0044-00000018"},
				{"playlist slash", v1.LiveChannelConfiguration{Target: v1.LiveChannelTarget{Type: "HLS", PlaylistName: "my/list.m3u8"}}, "0044-00000016"},
				{"playlist length", v1.LiveChannelConfiguration{Target: v1.LiveChannelTarget{Type: "HLS", PlaylistName: strings.Repeat("p", 130) + ".m3u8"}}, "0044-00000017"},
				{"snapshot role", v1.LiveChannelConfiguration{Target: v1.LiveChannelTarget{Type: "HLS"},
					Snapshot: &v1.LiveChannelSnapshot{DestBucket: "dest", NotifyTopic: "topic", Interval: 1}}, "0044-00000007"},
			} {
				_, err := b.CreateLiveChannel("bad", tc.cfg)
				wantV1Error(t, "CreateLiveChannel "+tc.what, err, "InvalidArgument", 400, tc.ec)
			}
			if _, err := b.GetLiveChannelInfo("bad"); err == nil {
				t.Error("a refused channel was stored")
			}

			// More than a page: max-keys, marker and prefix as OSS pages.
			const n = 110
			for i := 0; i < n; i++ {
				if _, err := b.CreateLiveChannel(fmt.Sprintf("p-%03d", i), v1.LiveChannelConfiguration{Target: v1.LiveChannelTarget{Type: "HLS"}}); err != nil {
					t.Fatal(err)
				}
			}
			lr, err = b.ListLiveChannel(v1.Prefix("p-"))
			if err != nil || lr.Prefix != "p-" || lr.MaxKeys != 100 || !lr.IsTruncated || len(lr.LiveChannel) != 100 || lr.NextMarker != "p-099" {
				t.Fatalf("ListLiveChannel page 1: truncated %v, %d channels, next %q, %v", lr.IsTruncated, len(lr.LiveChannel), lr.NextMarker, err)
			}
			if ch := lr.LiveChannel[0]; ch.Name != "p-000" || ch.Status != "enabled" || ch.LastModified.IsZero() ||
				len(ch.PublishUrls) != 1 || ch.PublishUrls[0] != "rtmp://"+host+"/live/p-000" || ch.PlayUrls[0] != "http://"+host+"/p-000/playlist.m3u8" {
				t.Errorf("listed channel = %+v", ch)
			}
			lr, err = b.ListLiveChannel(v1.Prefix("p-"), v1.Marker(lr.NextMarker))
			if err != nil || lr.Marker != "p-099" || lr.IsTruncated || len(lr.LiveChannel) != n-100 || lr.NextMarker != "" {
				t.Fatalf("ListLiveChannel page 2: %+v, %v", lr.LiveChannel, err)
			}
			lr, err = b.ListLiveChannel(v1.MaxKeys(1000))
			if err != nil || lr.MaxKeys != 1000 || lr.IsTruncated || len(lr.LiveChannel) != n+2 {
				t.Fatalf("ListLiveChannel max-keys 1000: %d channels, %v", len(lr.LiveChannel), err)
			}
			lr, err = b.ListLiveChannel(v1.Prefix("zz"))
			if err != nil || len(lr.LiveChannel) != 0 || lr.IsTruncated {
				t.Fatalf("ListLiveChannel prefix zz: %+v, %v", lr, err)
			}

			// GetBucketStat counts them (the SDK's BucketStat.LiveChannelCount).
			if st, err := c.GetBucketStat(name); err != nil || st.LiveChannelCount != n+2 {
				t.Errorf("GetBucketStat LiveChannelCount = %d, %v; want %d", st.LiveChannelCount, err, n+2)
			}

			// A bucket with channels is not empty.
			wantV1Error(t, "DeleteBucket with channels", c.DeleteBucket(name), "BucketNotEmpty", 409, "0015-00000301")

			// The SDK's own clean-up (client_test.go's deleteBucket):
			// list live channels page by page, delete each, then the bucket.
			marker := ""
			for {
				r, err := b.ListLiveChannel(v1.Marker(marker))
				if err != nil {
					t.Fatal(err)
				}
				for _, ch := range r.LiveChannel {
					if err := b.DeleteLiveChannel(ch.Name); err != nil {
						t.Fatal(err)
					}
				}
				if !r.IsTruncated {
					break
				}
				marker = r.NextMarker
			}
			if err := c.DeleteBucket(name); err != nil {
				t.Fatalf("DeleteBucket after clean-up: %v", err)
			}
		})
	}
}

// TestLiveChannelAccessLog: the LiveChannel operations are logged under
// OSS's operation names.
func TestLiveChannelAccessLog(t *testing.T) {
	srv := ossdtest.Start(t)
	c2 := v2Client(srv, modes[0])
	src, dst := newBucket(t, c2), newBucket(t, c2)
	enableLogging(t, c2, src, dst, "log/")
	c := v1Client(t, srv, modes[2])
	b, _ := c.Bucket(src)
	if _, err := b.CreateLiveChannel("ch", v1.LiveChannelConfiguration{Target: v1.LiveChannelTarget{Type: "HLS"}}); err != nil {
		t.Fatal(err)
	}
	b.ListLiveChannel()
	b.GetLiveChannelInfo("ch")
	b.GetLiveChannelStat("ch")
	b.GetLiveChannelHistory("ch")
	b.PutLiveChannelStatus("ch", "disabled")
	end := time.Now()
	b.PostVodPlaylist("ch", "v.m3u8", end.Add(-time.Hour), end)
	b.GetVodPlaylist("ch", end.Add(-time.Hour), end)
	if err := b.DeleteLiveChannel("ch"); err != nil {
		t.Fatal(err)
	}
	if err := srv.FlushLogs(); err != nil {
		t.Fatal(err)
	}
	seen := map[string]int{}
	for _, l := range readLogLines(t, c2, dst, "log/", src) {
		seen[l.Operation] = l.HTTPStatus
	}
	for op, status := range map[string]int{"PutLiveChannel": 200, "ListLiveChannel": 200, "GetLiveChannelInfo": 200,
		"GetLiveChannelStat": 200, "GetLiveChannelHistory": 200, "PutLiveChannelStatus": 200, "PostVodPlaylist": 400,
		"GetVodPlaylist": 400, "DeleteLiveChannel": 204} {
		if seen[op] != status {
			t.Errorf("access log: %s logged with status %d, want %d (seen %v)", op, seen[op], status, seen)
		}
	}
}
