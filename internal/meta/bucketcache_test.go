package meta

import (
	"reflect"
	"testing"
	"time"
)

// mapTx is a Tx over one map, enough for the bucket catalogue.
type mapTx map[string][]byte

func (m mapTx) Get(space string, key []byte) ([]byte, error) { return m[space+"/"+string(key)], nil }
func (m mapTx) Put(space string, key, value []byte) error {
	m[space+"/"+string(key)] = append([]byte(nil), value...)
	return nil
}
func (m mapTx) Delete(space string, key []byte) error {
	delete(m, space+"/"+string(key))
	return nil
}
func (m mapTx) Ascend(string, []byte, func(k, v []byte) bool) error { panic("unused") }

func fullBucket(name string) *Bucket {
	bpa := false
	days, gt := 3, int64(10)
	yes := true
	return &Bucket{Name: name, Owner: "1234", Created: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), Region: "oss-cn-hangzhou",
		ACL: "public-read", Grants: []Grant{{Type: "Group", URI: "http://acs.amazonaws.com/groups/global/AllUsers", Permission: "READ"}}, StorageClass: "Standard", Redundancy: "LRS", Versioning: "Enabled",
		Tags: []Tag{{"a", "1"}, {"b", "2"}}, Logging: &LoggingConfig{TargetBucket: "logs", TargetPrefix: "log/"},
		LogFields: &LogFieldsConfig{Headers: []string{"h1"}, Params: []string{"p1"}}, ResourceGroup: "rg",
		BlockPublicAccess: &bpa, PublicAccessBlock: &PublicAccessBlock{IgnorePublicAcls: true}, Extra: map[string]string{"k": "v"},
		CORS: &CORSConfig{ResponseVary: true, Rules: []CORSRule{{Origins: []string{"*"}, Methods: []string{"GET"},
			Headers: []string{"x-a"}, Expose: []string{"ETag"}, MaxAge: 10}}},
		Lifecycle: &LifecycleConfig{Rules: []LifecycleRule{{ID: "r", Prefix: "log/", Status: "Enabled",
			Tags: []Tag{{"t", "1"}}, Not: []LifecycleNot{{Prefix: "log/x", Tag: &Tag{"n", "1"}}}, SizeGreater: &gt,
			Expiration: &LifecycleExpiration{LifecycleWhen: LifecycleWhen{Days: &days}}, AbortUpload: &LifecycleWhen{Days: &days},
			NoncurrentDays: &days,
			Transitions:    []LifecycleTransition{{LifecycleWhen: LifecycleWhen{Days: &days}, StorageClass: "IA", IsAccessTime: &yes}}}}}}
}

// TestGetBucketDecodeCache: the decoded-bucket cache must be invisible:
// every read gives what the stored bytes say, and what a caller does to
// the bucket it got changes nothing for the next caller.
func TestGetBucketDecodeCache(t *testing.T) {
	tx := mapTx{}
	want := fullBucket("b1")
	if err := PutBucket(tx, want); err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		got, err := GetBucket(tx, "b1")
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, fullBucket("b1")) {
			t.Fatalf("read %d: got %+v", i, got)
		}
		// A caller mutating everything it can reach.
		got.ACL = "private"
		got.Tags[0].Value = "changed"
		got.Grants[0].Permission = "WRITE"
		got.Tags = append(got.Tags, Tag{"c", "3"})
		got.Logging.TargetPrefix = "other/"
		got.LogFields.Headers[0] = "hx"
		*got.BlockPublicAccess = true
		got.PublicAccessBlock.BlockPublicPolicy = true
		got.Extra["k"] = "changed"
		got.CORS.ResponseVary = false
		got.CORS.Rules[0].Origins[0] = "http://changed"
		got.CORS.Rules[0].Expose = append(got.CORS.Rules[0].Expose, "x")
		lr := &got.Lifecycle.Rules[0]
		lr.Tags[0].Value = "changed"
		lr.Not[0].Tag.Key = "changed"
		*lr.SizeGreater = 99
		*lr.Expiration.Days = 99
		*lr.AbortUpload.Days = 99
		*lr.NoncurrentDays = 99
		*lr.Transitions[0].Days = 99
		*lr.Transitions[0].IsAccessTime = false
	}
	// New bytes under the same name are decoded anew.
	next := fullBucket("b1")
	next.Logging = nil
	next.Tags = nil
	if err := PutBucket(tx, next); err != nil {
		t.Fatal(err)
	}
	if got, _ := GetBucket(tx, "b1"); !reflect.DeepEqual(got, next) {
		t.Fatalf("after rewrite: got %+v, want %+v", got, next)
	}
	// Same name, different store (another Tx), different bytes.
	other := mapTx{}
	third := fullBucket("b1")
	third.Owner = "9999"
	PutBucket(other, third)
	if got, _ := GetBucket(other, "b1"); got.Owner != "9999" {
		t.Fatalf("other store: owner %q", got.Owner)
	}
	if got, _ := GetBucket(tx, "b1"); got.Owner != "1234" {
		t.Fatalf("first store after other: owner %q", got.Owner)
	}
	if err := DeleteBucket(tx, "b1"); err != nil {
		t.Fatal(err)
	}
	if got, err := GetBucket(tx, "b1"); got != nil || err != nil {
		t.Fatalf("deleted bucket: %+v, %v", got, err)
	}
}

// BenchmarkGetBucket is the bucket lookup every request makes.
func BenchmarkGetBucket(b *testing.B) {
	tx := mapTx{}
	if err := PutBucket(tx, fullBucket("bench")); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := GetBucket(tx, "bench"); err != nil {
			b.Fatal(err)
		}
	}
}

// TestBucketCloneCoversFields fails when a field that can share memory is
// added to Bucket: clone (and fullBucket above) must learn about it.
func TestBucketCloneCoversFields(t *testing.T) {
	known := map[string]bool{"Tags": true, "Grants": true, "Logging": true, "LogFields": true, "BlockPublicAccess": true, "PublicAccessBlock": true, "CORS": true, "Lifecycle": true, "Extra": true}
	typ := reflect.TypeFor[Bucket]()
	for i := range typ.NumField() {
		f := typ.Field(i)
		switch f.Type.Kind() {
		case reflect.Pointer, reflect.Slice, reflect.Map, reflect.Interface:
			if !known[f.Name] {
				t.Errorf("Bucket.%s (%s) may share memory: deep-copy it in clone and set it in fullBucket", f.Name, f.Type)
			}
		}
	}
}
