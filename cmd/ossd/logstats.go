package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"sync"
	"time"

	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss"
	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss/credentials"

	"github.com/ossd/ossd/osslog/stats"
)

// nameSlack widens each log object's hour when deciding by its name whether
// it may hold lines of the window: the name's hour is in the delivering
// server's log time zone, and a reader given the wrong --log-timezone, or a
// server that files a line late, should cost an extra object read, not
// missing lines. Lines are filtered by their own time in any case.
const nameSlack = time.Hour

// statsOptions are the flags of `ossd logs stats` and `ossd logs report`.
type statsOptions struct {
	bucket, prefix, source string
	endpoint, addr, data   string
	region                 string
	pathStyle              bool
	since                  time.Duration
	from, to               string
	format, out            string
	top, parallel          int
	zone                   *time.Location
}

const statsUsage = `usage: ossd logs stats  --bucket LOGBUCKET [--prefix log/] [--source B] [--since 24h | --from T --to T] [--format table|json|csv]
       ossd logs report --bucket LOGBUCKET [same flags] --out report.html

Reads the delivered log objects <prefix><source>YYYY-mm-DD-HH-MM-SS-<id> of
LOGBUCKET through the OSS API (ossd or OSS itself), streams and parses every
line, and prints requests, errors and bytes by operation, status and error
code; top keys, remote IPs, user agents, requesters and access keys;
request-time percentiles by operation; requests per hour. report writes the
same figures as one self-contained HTML file.

Credentials: OSS_ACCESS_KEY_ID/OSS_ACCESS_KEY_SECRET, else <data>/credentials.json.
Against OSS: --endpoint https://oss-cn-hangzhou.aliyuncs.com --region cn-hangzhou.
Times (--from, --to): RFC 3339, or 2006-01-02[T15:04] in --log-timezone.

Flags:`

func parseStatsFlags(cmd string, args []string, stderr io.Writer) (*statsOptions, error) {
	o := &statsOptions{}
	fs := flag.NewFlagSet("ossd logs "+cmd, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprintln(stderr, statsUsage); fs.PrintDefaults() }
	fs.StringVar(&o.bucket, "bucket", "", "the log bucket (the logging target bucket); required")
	fs.StringVar(&o.prefix, "prefix", "", "the logging target prefix, e.g. log/")
	fs.StringVar(&o.source, "source", "", "only the logs of this source bucket")
	fs.StringVar(&o.endpoint, "endpoint", "", "OSS endpoint, e.g. https://oss-cn-hangzhou.aliyuncs.com (default: http://<addr>, path style)")
	fs.StringVar(&o.addr, "addr", "127.0.0.1:9800", "address of a running ossd (when --endpoint is not given)")
	fs.StringVar(&o.data, "data", "./ossd-data", "data directory of the running ossd (for its credentials)")
	fs.StringVar(&o.region, "region", "cn-hangzhou", "region the requests are signed for (V4)")
	fs.BoolVar(&o.pathStyle, "path-style", false, "address the bucket in the path (always on with --addr)")
	fs.DurationVar(&o.since, "since", 0, "only lines of the last duration, e.g. 24h")
	fs.StringVar(&o.from, "from", "", "only lines at or after this time")
	fs.StringVar(&o.to, "to", "", "only lines before this time")
	if cmd == "stats" {
		fs.StringVar(&o.format, "format", "table", "table, json or csv")
	} else {
		fs.StringVar(&o.out, "out", "report.html", "the HTML file to write")
	}
	fs.IntVar(&o.top, "top", 10, "entries per top list")
	fs.IntVar(&o.parallel, "parallel", 4, "log objects read at once")
	zone := fs.String("log-timezone", "+0800", "time zone of the log object names and of the hours shown (±hhmm or IANA name; the server's --log-timezone)")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	if o.bucket == "" {
		return nil, errors.New("--bucket is required")
	}
	if o.format != "" && o.format != "table" && o.format != "json" && o.format != "csv" {
		return nil, fmt.Errorf("--format %q: want table, json or csv", o.format)
	}
	if o.since != 0 && (o.from != "" || o.to != "") {
		return nil, errors.New("--since and --from/--to exclude each other")
	}
	if o.since < 0 || o.top < 1 || o.parallel < 1 || o.parallel > 64 {
		return nil, errors.New("--since and --top must be positive, --parallel from 1 to 64")
	}
	loc, err := parseZone(*zone)
	if err != nil {
		return nil, err
	}
	o.zone = loc
	return o, nil
}

// window turns --since or --from/--to into [from, to) (zero: open).
func (o *statsOptions) window(now time.Time) (from, to time.Time, err error) {
	if o.since > 0 {
		return now.Add(-o.since), time.Time{}, nil
	}
	if from, err = parseWhen(o.from, o.zone); err != nil {
		return from, to, fmt.Errorf("--from: %w", err)
	}
	if to, err = parseWhen(o.to, o.zone); err != nil {
		return from, to, fmt.Errorf("--to: %w", err)
	}
	if !from.IsZero() && !to.IsZero() && !from.Before(to) {
		return from, to, errors.New("--from must be before --to")
	}
	return from, to, nil
}

func parseWhen(s string, loc *time.Location) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	for _, layout := range []string{"2006-01-02T15:04:05", "2006-01-02T15:04", "2006-01-02"} {
		if t, err := time.ParseInLocation(layout, s, loc); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("%q: want RFC 3339 or 2006-01-02[T15:04[:05]]", s)
}

// logsStatsCommand implements `ossd logs stats` and `ossd logs report`.
func logsStatsCommand(cmd string, args []string, stdout, stderr io.Writer) int {
	o, err := parseStatsFlags(cmd, args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintf(stderr, "ossd logs %s: %v\n", cmd, err)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	rep, err := collectStats(ctx, o, time.Now())
	if err != nil {
		fmt.Fprintf(stderr, "ossd logs %s: %v\n", cmd, err)
		return 1
	}
	if cmd == "report" {
		err = writeReportFile(o.out, rep)
		if err == nil {
			fmt.Fprintf(stdout, "wrote %s: %d objects, %d requests\n", o.out, rep.Objects, rep.Total.Requests)
		}
	} else {
		w := bufio.NewWriter(stdout)
		switch o.format {
		case "json":
			err = stats.WriteJSON(w, rep)
		case "csv":
			err = stats.WriteCSV(w, rep)
		default:
			err = stats.WriteTable(w, rep)
		}
		if ferr := w.Flush(); err == nil {
			err = ferr
		}
	}
	if err != nil {
		fmt.Fprintf(stderr, "ossd logs %s: %v\n", cmd, err)
		return 1
	}
	return 0
}

// writeReportFile writes the HTML report next to path and renames it into
// place, so that a reader never sees half a report.
func writeReportFile(path string, rep *stats.Report) error {
	tmp := path + ".tmp"
	f, err := os.Create(tmp)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(f)
	err = stats.WriteHTML(w, rep)
	if ferr := w.Flush(); err == nil {
		err = ferr
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return nil
}

// statsClient builds a Go SDK v2 client from the flags: an ossd at --addr
// (path style, credentials from the environment or its data directory), or
// any OSS endpoint with the environment's credentials.
func statsClient(o *statsOptions) (*oss.Client, error) {
	id, secret := os.Getenv("OSS_ACCESS_KEY_ID"), os.Getenv("OSS_ACCESS_KEY_SECRET")
	if id == "" || secret == "" {
		root, err := readCredentials(o.data)
		if err != nil {
			return nil, err
		}
		id, secret = root.AccessKeyID, root.AccessKeySecret
	}
	endpoint, pathStyle := o.endpoint, o.pathStyle
	if endpoint == "" {
		endpoint, pathStyle = o.addr, true
		if !strings.Contains(endpoint, "://") {
			endpoint = "http://" + endpoint
		}
	}
	cfg := oss.LoadDefaultConfig().
		WithCredentialsProvider(credentials.NewStaticCredentialsProvider(id, secret)).
		WithEndpoint(endpoint).WithRegion(o.region).WithUsePathStyle(pathStyle)
	if o.endpoint == "" && strings.HasPrefix(endpoint, "https://") {
		// An HTTPS ossd: trust its self-signed certificate too, as ossd logs
		// flush|status|tail do.
		hc, err := logsClient(o.data, "", false)
		if err != nil {
			return nil, err
		}
		cfg = cfg.WithHttpClient(hc)
	}
	return oss.NewClient(cfg), nil
}

// collectStats lists the log objects, skips those whose name puts them
// outside the window or under another source, and streams the rest, each
// a line at a time, through --parallel workers with an Aggregator each
// (downloads overlap, and parsing uses every core); their counts are
// merged at the end.
func collectStats(ctx context.Context, o *statsOptions, now time.Time) (*stats.Report, error) {
	from, to, err := o.window(now)
	if err != nil {
		return nil, err
	}
	client, err := statsClient(o)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	opt := stats.Options{From: from, To: to, TopN: o.top, Location: o.zone}
	keys := make(chan string)
	aggs := make([]*stats.Aggregator, o.parallel)
	var wg sync.WaitGroup
	for i := range aggs {
		aggs[i] = stats.New(opt)
		wg.Add(1)
		go func(agg *stats.Aggregator) {
			defer wg.Done()
			for key := range keys {
				if err := readLogObject(ctx, client, o.bucket, key, agg); err != nil {
					cancel(err)
				}
			}
		}(aggs[i])
	}
	objects, err := listLogObjects(ctx, client, o, from, to, keys)
	close(keys)
	wg.Wait()
	if cause := context.Cause(ctx); cause != nil && err == nil {
		err = cause
	}
	if err != nil {
		return nil, err
	}
	for _, a := range aggs[1:] {
		aggs[0].Merge(a)
	}
	rep := aggs[0].Report()
	rep.Objects = objects
	return rep, nil
}

// listLogObjects sends the keys of the log objects to read to keys and
// returns how many it sent.
func listLogObjects(ctx context.Context, client *oss.Client, o *statsOptions, from, to time.Time, keys chan<- string) (int, error) {
	objects := 0
	p := client.NewListObjectsV2Paginator(&oss.ListObjectsV2Request{
		Bucket: oss.Ptr(o.bucket), Prefix: oss.Ptr(o.prefix + o.source),
	})
	for p.HasNext() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return objects, fmt.Errorf("listing oss://%s/%s: %w", o.bucket, o.prefix+o.source, err)
		}
		for _, obj := range page.Contents {
			key := oss.ToString(obj.Key)
			n, ok := stats.ParseObjectName(o.prefix, key, o.zone)
			if !ok || o.source != "" && n.Source != o.source || !n.MayOverlap(from, to, nameSlack) {
				continue
			}
			select {
			case keys <- key:
				objects++
			case <-ctx.Done():
				return objects, context.Cause(ctx)
			}
		}
	}
	return objects, nil
}

func readLogObject(ctx context.Context, client *oss.Client, bucket, key string, agg *stats.Aggregator) error {
	res, err := client.GetObject(ctx, &oss.GetObjectRequest{Bucket: oss.Ptr(bucket), Key: oss.Ptr(key)})
	if err != nil {
		return fmt.Errorf("reading oss://%s/%s: %w", bucket, key, err)
	}
	defer res.Body.Close()
	if err := agg.AddReader(res.Body); err != nil {
		return fmt.Errorf("reading oss://%s/%s: %w", bucket, key, err)
	}
	return nil
}
