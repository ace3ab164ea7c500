package httpapi

import (
	"encoding/xml"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/ossd/ossd/internal/oss"
	"github.com/ossd/ossd/internal/service"
)

// LiveChannel management (PutLiveChannel and its neighbours). The rules are
// in service/live.go; here the XML is parsed and rendered with OSS's
// element names, and the ingest and play URLs are formed as OSS forms
// them from the endpoint the client used:
//
//	rtmp://<bucket>.<endpoint>/live/<channel>
//	http(s)://<bucket>.<endpoint>/<channel>/<playlist>

// liveConfigXML is PutLiveChannel's body and GetLiveChannelInfo's answer.
// Pointers tell an absent element from an empty one on input.
type liveConfigXML struct {
	XMLName     xml.Name          `xml:"LiveChannelConfiguration"`
	Description *string           `xml:"Description"`
	Status      *string           `xml:"Status"`
	Target      *liveTargetXML    `xml:"Target"`
	Snapshot    []liveSnapshotXML `xml:"Snapshot,omitempty"`
}

type liveTargetXML struct {
	Type         string  `xml:"Type"`
	FragDuration *string `xml:"FragDuration"`
	FragCount    *string `xml:"FragCount"`
	PlaylistName *string `xml:"PlaylistName"`
}

type liveSnapshotXML struct {
	RoleName    string `xml:"RoleName"`
	DestBucket  string `xml:"DestBucket"`
	NotifyTopic string `xml:"NotifyTopic"`
	Interval    string `xml:"Interval"`
}

type liveURLsXML struct {
	URL []string `xml:"Url"`
}

type createLiveResultXML struct {
	XMLName     xml.Name    `xml:"CreateLiveChannelResult"`
	PublishUrls liveURLsXML `xml:"PublishUrls"`
	PlayUrls    liveURLsXML `xml:"PlayUrls"`
}

type liveChannelXML struct {
	Name         string      `xml:"Name"`
	Description  string      `xml:"Description"`
	Status       string      `xml:"Status"`
	LastModified string      `xml:"LastModified"`
	PublishUrls  liveURLsXML `xml:"PublishUrls"`
	PlayUrls     liveURLsXML `xml:"PlayUrls"`
}

type listLiveResultXML struct {
	XMLName     xml.Name         `xml:"ListLiveChannelResult"`
	Prefix      string           `xml:"Prefix"`
	Marker      string           `xml:"Marker"`
	MaxKeys     int              `xml:"MaxKeys"`
	IsTruncated bool             `xml:"IsTruncated"`
	NextMarker  string           `xml:"NextMarker"`
	LiveChannel []liveChannelXML `xml:"LiveChannel"`
}

// liveStatXML is GetLiveChannelStat's answer. Without ingest there is no
// connection, so ConnectedTime, RemoteAddr, Video and Audio are absent, as
// OSS leaves them out for a channel that is not Live.
type liveStatXML struct {
	XMLName xml.Name `xml:"LiveChannelStat"`
	Status  string   `xml:"Status"`
}

type liveHistoryXML struct {
	XMLName xml.Name `xml:"LiveChannelHistory"`
}

// liveURLs returns the channel's ingest and play URLs.
func (h *Handler) liveURLs(rq *request, c *service.LiveChannel) (publish, play string) {
	host := rq.bucket + "." + h.endpoint(rq)
	scheme := "http"
	if rq.r.TLS != nil {
		scheme = "https"
	}
	name := url.PathEscape(c.Name)
	return "rtmp://" + host + "/live/" + name, scheme + "://" + host + "/" + name + "/" + url.PathEscape(c.PlaylistName)
}

func (h *Handler) putLiveChannel(rq *request) error {
	var in liveConfigXML
	if err := h.decodeXML(rq, "LiveChannelConfiguration", &in, oss.ErrMalformedXML); err != nil {
		return err
	}
	li := service.LiveChannelInput{Status: in.Status}
	if in.Description != nil {
		li.Description = *in.Description
	}
	if t := in.Target; t != nil {
		li.Type, li.FragDuration, li.FragCount, li.PlaylistName = t.Type, t.FragDuration, t.FragCount, t.PlaylistName
	}
	for _, s := range in.Snapshot {
		snap := service.LiveSnapshot{RoleName: s.RoleName, DestBucket: s.DestBucket, NotifyTopic: s.NotifyTopic, Interval: -1}
		if n, err := strconv.Atoi(strings.TrimSpace(s.Interval)); err == nil {
			snap.Interval = n
		}
		li.Snapshots = append(li.Snapshots, snap)
	}
	c, err := service.NewLiveChannel(rq.key, li)
	if err != nil {
		return err
	}
	if err := h.svc.PutLiveChannel(rq.ctx, rq.bucket, c); err != nil {
		return err
	}
	publish, play := h.liveURLs(rq, c)
	return h.writeXML(rq, http.StatusOK, createLiveResultXML{
		PublishUrls: liveURLsXML{URL: []string{publish}}, PlayUrls: liveURLsXML{URL: []string{play}}})
}

// liveChannel reads the channel the request names.
func (h *Handler) liveChannel(rq *request) (*service.LiveChannel, error) {
	if strings.Contains(rq.key, "/") {
		return nil, oss.ErrNoSuchLiveChannel.With("ChannelName", rq.key)
	}
	return h.svc.LiveChannel(rq.ctx, rq.bucket, rq.key)
}

func (h *Handler) getLiveChannelInfo(rq *request) error {
	if comp := rq.q.get("comp"); rq.q.has("comp") {
		return oss.ErrInvalidArgument.WithMessage("comp must be stat or history.").With("ArgumentName", "comp").With("ArgumentValue", comp)
	}
	c, err := h.liveChannel(rq)
	if err != nil {
		return err
	}
	fd, fc := strconv.Itoa(c.FragDuration), strconv.Itoa(c.FragCount)
	out := liveConfigXML{Description: &c.Description, Status: &c.Status,
		Target: &liveTargetXML{Type: c.Type, FragDuration: &fd, FragCount: &fc, PlaylistName: &c.PlaylistName}}
	if s := c.Snapshot; s != nil {
		out.Snapshot = []liveSnapshotXML{{RoleName: s.RoleName, DestBucket: s.DestBucket, NotifyTopic: s.NotifyTopic, Interval: strconv.Itoa(s.Interval)}}
	}
	return h.writeXML(rq, http.StatusOK, out)
}

func (h *Handler) getLiveChannelStat(rq *request) error {
	c, err := h.liveChannel(rq)
	if err != nil {
		return err
	}
	status := service.LiveIdle
	if c.Status == service.LiveStatusDisabled {
		status = "Disabled"
	}
	return h.writeXML(rq, http.StatusOK, liveStatXML{Status: status})
}

func (h *Handler) getLiveChannelHistory(rq *request) error {
	if _, err := h.liveChannel(rq); err != nil {
		return err
	}
	return h.writeXML(rq, http.StatusOK, liveHistoryXML{})
}

func (h *Handler) putLiveChannelStatus(rq *request) error {
	if strings.Contains(rq.key, "/") {
		return oss.ErrNoSuchLiveChannel.With("ChannelName", rq.key)
	}
	if err := h.svc.SetLiveChannelStatus(rq.ctx, rq.bucket, rq.key, rq.q.get("status")); err != nil {
		return err
	}
	return writeEmpty(rq, http.StatusOK)
}

func (h *Handler) deleteLiveChannel(rq *request) error {
	if strings.Contains(rq.key, "/") {
		return oss.ErrNoSuchLiveChannel.With("ChannelName", rq.key)
	}
	if err := h.svc.DeleteLiveChannel(rq.ctx, rq.bucket, rq.key); err != nil {
		return err
	}
	return writeEmpty(rq, http.StatusNoContent)
}

func (h *Handler) listLiveChannel(rq *request) error {
	maxKeys, err := h.intArg(rq, "max-keys", 100, 1, 1000)
	if err != nil {
		return err
	}
	in := service.ListLiveChannelsInput{Bucket: rq.bucket, Prefix: rq.q.get("prefix"), Marker: rq.q.get("marker"), MaxKeys: maxKeys}
	chans, truncated, err := h.svc.ListLiveChannels(rq.ctx, in)
	if err != nil {
		return err
	}
	out := listLiveResultXML{Prefix: in.Prefix, Marker: in.Marker, MaxKeys: maxKeys, IsTruncated: truncated}
	for _, c := range chans {
		publish, play := h.liveURLs(rq, c)
		out.LiveChannel = append(out.LiveChannel, liveChannelXML{Name: c.Name, Description: c.Description, Status: c.Status,
			LastModified: isoTime(c.Modified), PublishUrls: liveURLsXML{URL: []string{publish}}, PlayUrls: liveURLsXML{URL: []string{play}}})
	}
	if truncated && len(chans) > 0 {
		out.NextMarker = chans[len(chans)-1].Name
	}
	return h.writeXML(rq, http.StatusOK, out)
}

// postVodPlaylist: POST /<channel>/<playlist>.m3u8?vod&startTime&endTime.
func (h *Handler) postVodPlaylist(rq *request) error {
	channel, playlist, ok := strings.Cut(rq.key, "/")
	if !ok || playlist == "" || strings.Contains(playlist, "/") || !strings.HasSuffix(playlist, ".m3u8") {
		return oss.ErrInvalidArgument.WithMessage("The VOD playlist must be named <channel>/<name>.m3u8.").
			With("ArgumentName", "PlaylistName").With("ArgumentValue", rq.key)
	}
	return h.svc.VodPlaylist(rq.ctx, rq.bucket, channel, rq.q.get("startTime"), rq.q.get("endTime"))
}

// getVodPlaylist: GET /<channel>?vod&startTime&endTime.
func (h *Handler) getVodPlaylist(rq *request) error {
	if strings.Contains(rq.key, "/") {
		return oss.ErrNoSuchLiveChannel.With("ChannelName", rq.key)
	}
	return h.svc.VodPlaylist(rq.ctx, rq.bucket, rq.key, rq.q.get("startTime"), rq.q.get("endTime"))
}
