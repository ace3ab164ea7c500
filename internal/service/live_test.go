package service

import (
	"errors"
	"strings"
	"testing"

	"github.com/ossd/ossd/internal/meta"
	"github.com/ossd/ossd/internal/oss"
)

func ptr(s string) *string { return &s }

// TestNewLiveChannel: OSS's defaults and each validation with its EC.
func TestNewLiveChannel(t *testing.T) {
	hls := func(mod func(*LiveChannelInput)) LiveChannelInput {
		in := LiveChannelInput{Type: "HLS"}
		if mod != nil {
			mod(&in)
		}
		return in
	}
	snap := meta.LiveSnapshot{RoleName: "r", DestBucket: "dest", NotifyTopic: "t", Interval: 1}
	tests := []struct {
		name    string
		channel string
		in      LiveChannelInput
		ec      string // "" = accepted
		check   func(t *testing.T, c *meta.LiveChannel)
	}{
		{"defaults", "ch", hls(nil), "", func(t *testing.T, c *meta.LiveChannel) {
			if c.Status != "enabled" || c.FragDuration != 5 || c.FragCount != 3 || c.PlaylistName != "playlist.m3u8" || c.Snapshot != nil {
				t.Errorf("defaults = %+v", c)
			}
		}},
		{"empty playlist keeps the default (oss2 sends <PlaylistName/>)", "ch", hls(func(in *LiveChannelInput) { in.PlaylistName = ptr("") }), "",
			func(t *testing.T, c *meta.LiveChannel) {
				if c.PlaylistName != "playlist.m3u8" {
					t.Errorf("playlist = %q", c.PlaylistName)
				}
			}},
		{"explicit", "ch", hls(func(in *LiveChannelInput) {
			in.Status, in.FragDuration, in.FragCount, in.PlaylistName = ptr("disabled"), ptr(" 100 "), ptr("1"), ptr("a.m3u8")
			in.Snapshots = []meta.LiveSnapshot{snap}
		}), "", func(t *testing.T, c *meta.LiveChannel) {
			if c.Status != "disabled" || c.FragDuration != 100 || c.FragCount != 1 || c.PlaylistName != "a.m3u8" || c.Snapshot == nil {
				t.Errorf("explicit = %+v", c)
			}
		}},
		{"name with slash", "a/b", hls(nil), oss.ErrInvalidArgument.EC, nil},
		{"description 129 bytes", "ch", hls(func(in *LiveChannelInput) { in.Description = strings.Repeat("x", 129) }), "0044-00000001", nil},
		{"description 128 bytes", "ch", hls(func(in *LiveChannelInput) { in.Description = strings.Repeat("x", 128) }), "", nil},
		{"status", "ch", hls(func(in *LiveChannelInput) { in.Status = ptr("Enabled") }), "0044-00000002", nil},
		{"two snapshots", "ch", hls(func(in *LiveChannelInput) { in.Snapshots = []meta.LiveSnapshot{snap, snap} }), "0044-00000003", nil},
		{"snapshot topic", "ch", hls(func(in *LiveChannelInput) { s := snap; s.NotifyTopic = ""; in.Snapshots = []meta.LiveSnapshot{s} }), "0044-00000006", nil},
		{"snapshot role", "ch", hls(func(in *LiveChannelInput) { s := snap; s.RoleName = ""; in.Snapshots = []meta.LiveSnapshot{s} }), "0044-00000007", nil},
		{"snapshot bucket", "ch", hls(func(in *LiveChannelInput) { s := snap; s.DestBucket = `\/#$`; in.Snapshots = []meta.LiveSnapshot{s} }), "0044-00000008", nil},
		{"no type", "ch", LiveChannelInput{}, "0044-00000013", nil},
		{"frag duration abc", "ch", hls(func(in *LiveChannelInput) { in.FragDuration, in.FragCount = ptr("abc"), ptr("3") }), "0044-00000014", nil},
		{"frag duration 0", "ch", hls(func(in *LiveChannelInput) { in.FragDuration, in.FragCount = ptr("0"), ptr("3") }), "0044-00000014", nil},
		{"frag count abc", "ch", hls(func(in *LiveChannelInput) { in.FragDuration, in.FragCount = ptr("2"), ptr("abc") }), "0044-00000015", nil},
		{"frag count alone", "ch", hls(func(in *LiveChannelInput) { in.FragCount = ptr("3") }), "0044-00000014", nil},
		{"playlist slash", "ch", hls(func(in *LiveChannelInput) { in.PlaylistName = ptr("my/playlist.m3u8") }), "0044-00000016", nil},
		{"playlist short", "ch", hls(func(in *LiveChannelInput) { in.PlaylistName = ptr(".m3u8") }), "0044-00000017", nil},
		{"playlist suffix", "ch", hls(func(in *LiveChannelInput) { in.PlaylistName = ptr("abc.text") }), "0044-00000018", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := NewLiveChannel(tt.channel, tt.in)
			if tt.ec == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				if tt.check != nil {
					tt.check(t, c)
				}
				return
			}
			var oe *oss.Error
			if !errors.As(err, &oe) || oe.EC != tt.ec || oe.Status != 400 || oe.Code != "InvalidArgument" {
				t.Fatalf("err = %v, want InvalidArgument EC %s", err, tt.ec)
			}
		})
	}
}

func TestCheckVodSpan(t *testing.T) {
	tests := []struct {
		start, end, ec string
	}{
		{"1472020031", "1472020226", ""},
		{"1472020031", "1472106431", ""}, // exactly a day
		{"abc", "1472020226", "0044-00000304"},
		{"", "1472020226", "0044-00000304"},
		{"1472020031", "", oss.ErrInvalidArgument.EC},
		{"1472020226", "1472020031", oss.ErrInvalidArgument.EC},
		{"1472020031", "1472020031", oss.ErrInvalidArgument.EC},
		{"1472020031", "1472106432", oss.ErrInvalidArgument.EC}, // a day and a second
	}
	for _, tt := range tests {
		_, _, err := CheckVodSpan(tt.start, tt.end)
		var oe *oss.Error
		switch {
		case tt.ec == "" && err != nil:
			t.Errorf("%s..%s refused: %v", tt.start, tt.end, err)
		case tt.ec != "" && (!errors.As(err, &oe) || oe.EC != tt.ec):
			t.Errorf("%s..%s: err %v, want EC %s", tt.start, tt.end, err, tt.ec)
		}
	}
}
