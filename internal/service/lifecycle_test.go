package service_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/ossd/ossd/internal/accesslog"
	"github.com/ossd/ossd/internal/faultfs"
	"github.com/ossd/ossd/internal/meta"
	"github.com/ossd/ossd/internal/oss"
	"github.com/ossd/ossd/internal/service"
)

// lifecycleService is a service over bbolt wrapped in faultfs.Meta, whose
// clock (for the times objects are written) is *now.
func lifecycleService(t *testing.T, now *time.Time) (*service.Service, *faultfs.Meta) {
	t.Helper()
	m, bs := testStores(t)
	fm := faultfs.NewMeta(m)
	svc := service.New(service.Config{Region: "cn-hangzhou", Now: func() time.Time { return *now }}, fm, bs)
	if err := svc.CreateBucket(context.Background(), service.Principal{Account: service.Account{ID: "1"}}, service.CreateBucketInput{Name: "bkt"}); err != nil {
		t.Fatal(err)
	}
	return svc, fm
}

func expireRule(prefix string, days int) *meta.LifecycleConfig {
	return &meta.LifecycleConfig{Rules: []meta.LifecycleRule{{ID: "r", Prefix: prefix, Status: "Enabled",
		Expiration: &meta.LifecycleExpiration{LifecycleWhen: meta.LifecycleWhen{Days: &days}}}}}
}

func putKey(t *testing.T, svc *service.Service, k string) {
	t.Helper()
	if _, err := svc.PutObject(context.Background(), service.PutInput{Bucket: "bkt", Key: k, Body: strings.NewReader(k), Size: int64(len(k)),
		Template: meta.Version{Owner: "1", StorageClass: "Standard", ACL: "default"}}); err != nil {
		t.Fatal(err)
	}
}

func gone(svc *service.Service, k string) bool {
	_, err := svc.Head(context.Background(), service.GetInput{Bucket: "bkt", Key: k})
	return errors.Is(err, oss.ErrNoSuchKey)
}

// TestLifecycleCrashResume: a run whose metadata commit fails half-way
// (rolled back, or applied yet reported failed, as bbolt can) stops with
// its progress saved. While it is stopped the owner narrows the rule and
// rewrites one object it selects. The resumed run (same clock reading)
// deletes exactly what the rules current at delete time select: none of
// the keys the new rule leaves out, not the rewritten object, all the rest.
func TestLifecycleCrashResume(t *testing.T) {
	ctx := context.Background()
	for _, mode := range []faultfs.CommitMode{faultfs.RolledBack, faultfs.Applied} {
		t.Run(fmt.Sprint("mode ", mode), func(t *testing.T) {
			t0 := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
			clock := t0
			svc, fm := lifecycleService(t, &clock)
			var keys []string
			for _, g := range []string{"a", "b"} {
				for i := range 300 { // more than one scan batch
					keys = append(keys, fmt.Sprintf("log/%s%03d", g, i))
				}
			}
			for _, k := range keys {
				putKey(t, svc, k)
			}
			if err := svc.PutBucketLifecycle(ctx, "bkt", expireRule("log/", 1), false); err != nil {
				t.Fatal(err)
			}
			reading := t0.Add(3 * 24 * time.Hour)
			clock = reading
			// The 100th commit of the run fails: the first saves the
			// run, the next 98 expire "a" keys.
			fm.Inject(faultfs.MetaFault{Nth: 100, Mode: mode})
			if _, err := svc.RunLifecycle(ctx, reading, nil); err == nil {
				t.Fatal("run with a failing commit reported no error")
			}
			fm.Clear()
			done := 0
			for _, k := range keys {
				if gone(svc, k) {
					done++
				}
			}
			if want := map[faultfs.CommitMode]int{faultfs.RolledBack: 98, faultfs.Applied: 99}[mode]; done != want {
				t.Fatalf("%d keys expired before the failure, want %d", done, want)
			}
			if err := svc.PutBucketLifecycle(ctx, "bkt", expireRule("log/b", 1), false); err != nil {
				t.Fatal(err)
			}
			putKey(t, svc, "log/b150")                                           // modified at the run's reading: 0 days old
			st, err := svc.RunLifecycle(ctx, reading.Add(100*24*time.Hour), nil) // the saved reading wins
			if err != nil {
				t.Fatal(err)
			}
			if !st.Resumed || st.Expired != 299 {
				t.Errorf("resumed run: %+v, want resumed with 299 expired", st)
			}
			aKept := 0
			for _, k := range keys {
				switch {
				case strings.HasPrefix(k, "log/a") && !gone(svc, k):
					aKept++
				case k == "log/b150" && gone(svc, k):
					t.Errorf("%s deleted; it was rewritten after the crash", k)
				case k != "log/b150" && strings.HasPrefix(k, "log/b") && !gone(svc, k):
					t.Errorf("%s kept; the rule selects it", k)
				}
			}
			if aKept != 300-done {
				t.Errorf("%d \"a\" keys kept, want the %d the first run did not reach", aKept, 300-done)
			}
			// The next run starts afresh at its own reading.
			if st, err := svc.RunLifecycle(ctx, reading, nil); err != nil || st.Resumed || st.Expired != 0 {
				t.Errorf("next run: %+v, %v", st, err)
			}
		})
	}
}

// TestLifecycleRecheckAtDelete: a candidate the scan found is decided
// again inside the transaction that would delete it: an object rewritten
// between the scan and its deletion is kept.
func TestLifecycleRecheckAtDelete(t *testing.T) {
	ctx := context.Background()
	t0 := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	clock := t0
	svc, fm := lifecycleService(t, &clock)
	putKey(t, svc, "x")
	putKey(t, svc, "y")
	if err := svc.PutBucketLifecycle(ctx, "bkt", expireRule("", 1), false); err != nil {
		t.Fatal(err)
	}
	reading := t0.Add(3 * 24 * time.Hour)
	clock = reading
	calls := 0
	fm.SetHook(func() {
		// Commits: 1 saves the run, 2 expires "x", 3 is about to expire "y".
		if calls++; calls == 3 {
			putKey(t, svc, "y")
		}
	})
	st, err := svc.RunLifecycle(ctx, reading, nil)
	fm.SetHook(nil)
	if err != nil || st.Expired != 1 {
		t.Fatalf("run: %+v, %v; want 1 expired", st, err)
	}
	if !gone(svc, "x") || gone(svc, "y") {
		t.Errorf("x gone=%v (want true), y gone=%v (want false)", gone(svc, "x"), gone(svc, "y"))
	}
}

// TestValidateLifecycle: the rules the service refuses, and the code and
// EC of each refusal (the wire test covers them through the SDK).
func TestValidateLifecycle(t *testing.T) {
	n := func(v int) *int { return &v }
	base := func(f func(r *meta.LifecycleRule)) *meta.LifecycleConfig {
		r := meta.LifecycleRule{ID: "r", Status: "Enabled", Expiration: &meta.LifecycleExpiration{LifecycleWhen: meta.LifecycleWhen{Days: n(10)}}}
		f(&r)
		return &meta.LifecycleConfig{Rules: []meta.LifecycleRule{r}}
	}
	tests := []struct {
		name string
		c    *meta.LifecycleConfig
		ec   string // "" valid
	}{
		{"valid", base(func(*meta.LifecycleRule) {}), ""},
		{"valid delete-marker rule", base(func(r *meta.LifecycleRule) { r.Expiration = &meta.LifecycleExpiration{ExpiredDeleteMarker: true} }), ""},
		{"valid noncurrent only", base(func(r *meta.LifecycleRule) { r.Expiration, r.NoncurrentDays = nil, n(3) }), ""},
		{"no rules", &meta.LifecycleConfig{}, "0014-00000011"},
		{"bad status", base(func(r *meta.LifecycleRule) { r.Status = "enabled" }), "0014-00000011"},
		{"no action", base(func(r *meta.LifecycleRule) { r.Expiration = nil }), "0014-00000026"},
		{"empty expiration", base(func(r *meta.LifecycleRule) { r.Expiration = &meta.LifecycleExpiration{} }), "0014-00000060"},
		{"negative days", base(func(r *meta.LifecycleRule) { r.Expiration.Days = n(-1) }), "0014-00000020"},
		{"noncurrent days 0", base(func(r *meta.LifecycleRule) { r.NoncurrentDays = n(0) }), "0014-00000020"},
		{"abort without days", base(func(r *meta.LifecycleRule) { r.AbortUpload = &meta.LifecycleWhen{} }), "0014-00000020"},
		{"bad date", base(func(r *meta.LifecycleRule) {
			r.Expiration = &meta.LifecycleExpiration{LifecycleWhen: meta.LifecycleWhen{Date: "2026-13-01T00:00:00.000Z"}}
		}), "0014-00000020"},
		{"size bounds crossed", base(func(r *meta.LifecycleRule) {
			a, b := int64(10), int64(5)
			r.SizeGreater, r.SizeLess = &a, &b
		}), "0014-00000020"},
		{"delete marker with tags", base(func(r *meta.LifecycleRule) {
			r.Expiration = &meta.LifecycleExpiration{ExpiredDeleteMarker: true}
			r.Tags = []meta.Tag{{Key: "k", Value: "v"}}
		}), "0014-00000020"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := service.ValidateLifecycle(tc.c)
			var oe *oss.Error
			switch {
			case tc.ec == "" && err != nil:
				t.Errorf("refused: %v", err)
			case tc.ec != "" && (!errors.As(err, &oe) || oe.EC != tc.ec):
				t.Errorf("got %v, want EC %s", err, tc.ec)
			}
		})
	}
}

// TestLifecycleMissedRun: on the daily schedule, a server that was down at
// midnight runs the rules as soon as it starts; one whose last run was
// after the latest midnight, or that never ran them, waits.
func TestLifecycleMissedRun(t *testing.T) {
	t0 := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name    string
		lastRun time.Time // zero: never ran
		start   time.Time
		runNow  bool
	}{
		{"midnight missed", t0, t0.Add(2 * 24 * time.Hour), true},
		{"ran after the latest midnight", t0, t0.Add(time.Hour), false},
		{"never ran", time.Time{}, t0.Add(2 * 24 * time.Hour), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clock := t0
			svc, _ := lifecycleService(t, &clock)
			if !tc.lastRun.IsZero() {
				if _, err := svc.RunLifecycle(context.Background(), tc.lastRun, nil); err != nil {
					t.Fatal(err)
				}
			}
			clk := armedClock{accesslog.NewFakeClock(tc.start), make(chan struct{}, 4)}
			ran := make(chan struct{}, 1)
			ctx, cancel := context.WithCancel(context.Background())
			wait := svc.StartLifecycle(ctx, service.LifecycleSchedule{Clock: clk, Done: func(service.LifecycleStats, error) { ran <- struct{}{} }})
			<-clk.armed // the runner waits for midnight: a run at start is over
			cancel()
			wait()
			select {
			case <-ran:
				if !tc.runNow {
					t.Error("ran at start; nothing was owed")
				}
			default:
				if tc.runNow {
					t.Error("did not run at start; a midnight was missed")
				}
			}
		})
	}
}

// armedClock is a fake clock that signals each timer it arms.
type armedClock struct {
	*accesslog.FakeClock
	armed chan struct{}
}

func (c armedClock) After(d time.Duration) <-chan time.Time {
	ch := c.FakeClock.After(d)
	c.armed <- struct{}{}
	return ch
}
