package service

import (
	"context"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/ossd/ossd/internal/meta"
	"github.com/ossd/ossd/internal/oss"
)

// LiveChannel rules, as OSS documents PutLiveChannel and its neighbours.
// ossd keeps channels' configuration and answers every management call;
// it does not ingest RTMP, so a channel is always Idle, has no push
// history and records no fragments.
const (
	LiveStatusEnabled  = "enabled"
	LiveStatusDisabled = "disabled"
	// LiveIdle is the only stream status a channel reports (no ingest).
	LiveIdle = "Idle"

	DefaultFragDuration = 5
	DefaultFragCount    = 3
	DefaultPlaylistName = "playlist.m3u8"

	maxLiveDescription = 128
	// MaxVodSpan is the longest startTime..endTime span of a VOD playlist.
	MaxVodSpan = 24 * time.Hour
)

// LiveChannelInput is PutLiveChannel's body as the client sent it; a nil
// field was absent.
type LiveChannelInput struct {
	Description  string
	Status       *string
	Type         string
	FragDuration *string
	FragCount    *string
	PlaylistName *string
	// Snapshots holds every Snapshot node (OSS allows one).
	Snapshots []meta.LiveSnapshot
}

// ValidateChannelName checks a channel name as part of a request path: an
// object name (checked by the HTTP layer) without '/'.
func ValidateChannelName(name string) error {
	if name == "" || strings.Contains(name, "/") {
		return oss.ErrInvalidArgument.WithMessage("Invalid live channel name %q: it must be a valid object name without '/'.", name).
			With("ArgumentName", "ChannelName").With("ArgumentValue", name)
	}
	return nil
}

// NewLiveChannel validates in and returns the channel it describes, with
// OSS's defaults: enabled, FragDuration 5 and FragCount 3 when neither is
// given (one without the other is refused), playlist.m3u8.
func NewLiveChannel(name string, in LiveChannelInput) (*meta.LiveChannel, error) {
	if err := ValidateChannelName(name); err != nil {
		return nil, err
	}
	c := &meta.LiveChannel{Name: name, Description: in.Description, Status: LiveStatusEnabled, Type: in.Type,
		FragDuration: DefaultFragDuration, FragCount: DefaultFragCount, PlaylistName: DefaultPlaylistName}
	if len(in.Description) > maxLiveDescription {
		return nil, oss.ErrLiveDescriptionTooLong
	}
	if in.Status != nil {
		if *in.Status != LiveStatusEnabled && *in.Status != LiveStatusDisabled {
			return nil, oss.ErrLiveInvalidStatus.With("Status", *in.Status)
		}
		c.Status = *in.Status
	}
	if c.Type != "HLS" {
		return nil, oss.ErrLiveInvalidType.With("Type", in.Type)
	}
	switch {
	case in.FragDuration != nil && in.FragCount == nil:
		return nil, oss.ErrLiveInvalidFragCount.WithMessage("FragCount must be given with FragDuration.")
	case in.FragDuration == nil && in.FragCount != nil:
		return nil, oss.ErrLiveInvalidFragDuration.WithMessage("FragDuration must be given with FragCount.")
	case in.FragDuration != nil:
		var ok bool
		if c.FragDuration, ok = fragValue(*in.FragDuration); !ok {
			return nil, oss.ErrLiveInvalidFragDuration.With("FragDuration", *in.FragDuration)
		}
		if c.FragCount, ok = fragValue(*in.FragCount); !ok {
			return nil, oss.ErrLiveInvalidFragCount.With("FragCount", *in.FragCount)
		}
	}
	if p := in.PlaylistName; p != nil && *p != "" {
		switch n := utf8.RuneCountInString(*p); {
		case strings.Contains(*p, "/"):
			return nil, oss.ErrLivePlaylistSlash
		case n < 6 || n > 128:
			return nil, oss.ErrLivePlaylistLength
		case !strings.HasSuffix(*p, ".m3u8"):
			return nil, oss.ErrLivePlaylistSuffix
		}
		c.PlaylistName = *p
	}
	switch len(in.Snapshots) {
	case 0:
	case 1:
		s := in.Snapshots[0]
		switch {
		case s.RoleName == "":
			return nil, oss.ErrLiveSnapshotRoleName
		case !oss.ValidBucketName(s.DestBucket):
			return nil, oss.ErrLiveSnapshotDestBucket
		case s.NotifyTopic == "":
			return nil, oss.ErrLiveSnapshotNotifyTopic
		case s.Interval < 1 || s.Interval > 100:
			return nil, oss.ErrInvalidArgument.WithMessage("Interval of Snapshot should be an integer in [1, 100].")
		}
		c.Snapshot = &s
	default:
		return nil, oss.ErrLiveRedundantSnapshot
	}
	return c, nil
}

// fragValue reads FragDuration or FragCount: an integer in [1, 100].
func fragValue(s string) (int, bool) {
	n, err := strconv.Atoi(strings.TrimSpace(s))
	return n, err == nil && n >= 1 && n <= 100
}

// PutLiveChannel stores c in bucket, replacing a channel of that name.
func (s *Service) PutLiveChannel(ctx context.Context, bucket string, c *meta.LiveChannel) error {
	c.Modified = s.now()
	return s.meta.Update(ctx, func(tx meta.Tx) error {
		if err := requireBucket(tx, bucket); err != nil {
			return err
		}
		return meta.PutLiveChannel(tx, bucket, c)
	})
}

// LiveChannel returns a channel, or NoSuchLiveChannel.
func (s *Service) LiveChannel(ctx context.Context, bucket, name string) (*meta.LiveChannel, error) {
	var c *meta.LiveChannel
	err := s.meta.View(ctx, func(tx meta.Tx) error {
		var err error
		c, err = meta.GetLiveChannel(tx, bucket, name)
		return err
	})
	if err != nil {
		return nil, internalErr("get live channel", err)
	}
	if c == nil {
		return nil, oss.ErrNoSuchLiveChannel.With("ChannelName", name)
	}
	return c, nil
}

// SetLiveChannelStatus switches a channel between enabled and disabled.
func (s *Service) SetLiveChannelStatus(ctx context.Context, bucket, name, status string) error {
	if status != LiveStatusEnabled && status != LiveStatusDisabled {
		return oss.ErrInvalidArgument.WithMessage("Status of live channel should be enabled or disabled.").
			With("ArgumentName", "status").With("ArgumentValue", status)
	}
	return s.meta.Update(ctx, func(tx meta.Tx) error {
		c, err := meta.GetLiveChannel(tx, bucket, name)
		if err != nil {
			return err
		}
		if c == nil {
			return oss.ErrNoSuchLiveChannel.With("ChannelName", name)
		}
		c.Status = status
		c.Modified = s.now()
		return meta.PutLiveChannel(tx, bucket, c)
	})
}

// DeleteLiveChannel removes a channel, or answers NoSuchLiveChannel.
func (s *Service) DeleteLiveChannel(ctx context.Context, bucket, name string) error {
	return s.meta.Update(ctx, func(tx meta.Tx) error {
		c, err := meta.GetLiveChannel(tx, bucket, name)
		if err != nil {
			return err
		}
		if c == nil {
			return oss.ErrNoSuchLiveChannel.With("ChannelName", name)
		}
		return meta.DeleteLiveChannel(tx, bucket, name)
	})
}

// ListLiveChannelsInput selects a page of channels.
type ListLiveChannelsInput struct {
	Bucket, Prefix, Marker string
	MaxKeys                int
}

// ListLiveChannels returns the channels whose name starts with Prefix and
// sorts after Marker, at most MaxKeys of them, and whether more follow.
func (s *Service) ListLiveChannels(ctx context.Context, in ListLiveChannelsInput) ([]*meta.LiveChannel, bool, error) {
	var out []*meta.LiveChannel
	truncated := false
	from := max(in.Prefix, in.Marker)
	err := s.meta.View(ctx, func(tx meta.Tx) error {
		return meta.ScanLiveChannels(tx, in.Bucket, from, func(c *meta.LiveChannel) bool {
			if c.Name <= in.Marker {
				return true
			}
			if !strings.HasPrefix(c.Name, in.Prefix) {
				return false
			}
			if len(out) == in.MaxKeys {
				truncated = true
				return false
			}
			out = append(out, c)
			return true
		})
	})
	if err != nil {
		return nil, false, internalErr("list live channels", err)
	}
	return out, truncated, nil
}

// CheckVodSpan validates a VOD playlist's startTime and endTime (Unix
// seconds): both given, end after start, at most a day apart.
func CheckVodSpan(start, end string) (time.Time, time.Time, error) {
	st, ok := unixArg(start)
	if !ok {
		return time.Time{}, time.Time{}, oss.ErrLiveInvalidStartTime.With("ArgumentName", "startTime").With("ArgumentValue", start)
	}
	et, ok := unixArg(end)
	if !ok {
		return time.Time{}, time.Time{}, oss.ErrInvalidArgument.WithMessage("Invalid endTime: it must be a Unix time in seconds.").
			With("ArgumentName", "endTime").With("ArgumentValue", end)
	}
	if !et.After(st) || et.Sub(st) > MaxVodSpan {
		return time.Time{}, time.Time{}, oss.ErrInvalidArgument.WithMessage("endTime must be after startTime and at most one day later.").
			With("ArgumentName", "endTime").With("ArgumentValue", end)
	}
	return st, et, nil
}

func unixArg(s string) (time.Time, bool) {
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 {
		return time.Time{}, false
	}
	return time.Unix(n, 0), true
}

// VodPlaylist answers PostVodPlaylist and GetVodPlaylist: the channel must
// exist and the span be valid; then, since ossd records no fragments,
// there is nothing to put in a playlist, which OSS refuses as it does for
// a span with no fragments.
func (s *Service) VodPlaylist(ctx context.Context, bucket, channel, start, end string) error {
	if _, _, err := CheckVodSpan(start, end); err != nil {
		return err
	}
	if _, err := s.LiveChannel(ctx, bucket, channel); err != nil {
		return err
	}
	return oss.ErrLiveNoTsFile
}

// requireBucket answers NoSuchBucket inside a transaction.
func requireBucket(tx meta.Tx, bucket string) error {
	b, err := meta.GetBucket(tx, bucket)
	if err != nil {
		return err
	}
	if b == nil {
		return oss.ErrNoSuchBucket.With("BucketName", bucket)
	}
	return nil
}
