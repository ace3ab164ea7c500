package accesslog

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ossd/ossd/osslog"
)

var rewrite = flag.Bool("rewrite", false, "rewrite the expected output of testdata/*.txt scripts")

// TestScripts runs the delivery scripts in testdata: each block is a
// command, a "----" line, and the expected output up to a blank line.
//
//	open [interval=10s] [maxbatch=N] [buckets=a,b]   a new Log (clock at 10:30:00 UTC+8)
//	append src=S target=T [prefix=P] at=HH:MM:SS ids=a,b,...
//	flush                   Flush; prints the puts, then ok or the error
//	start                   start the delivery loop
//	advance D               move the clock; prints the puts the loop made
//	bucket NAME             create a target bucket
//	crash-at STEP [n=N]     the N-th time delivery reaches STEP, it stops as a crash would
//	restart                 kill -9 and start again (only what was synced survives)
//	status                  Status, one line per source bucket
//	segments                number of journal segment files
//
// Run with -rewrite to regenerate the expected output.
func TestScripts(t *testing.T) {
	files, _ := filepath.Glob("testdata/*.txt")
	if len(files) == 0 {
		t.Fatal("no scripts")
	}
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) { runScript(t, file) })
	}
}

type scriptBlock struct {
	cmd, want, got string
}

func runScript(t *testing.T, file string) {
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var blocks []*scriptBlock
	var pre []string // comments and blank lines before each block
	var pres [][]string
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	for i := 0; i < len(lines); i++ {
		ln := lines[i]
		if ln == "" || strings.HasPrefix(ln, "#") {
			pre = append(pre, ln)
			continue
		}
		if i+1 >= len(lines) || lines[i+1] != "----" {
			t.Fatalf("%s:%d: want ---- after the command", file, i+1)
		}
		b := &scriptBlock{cmd: ln}
		var out []string
		for i += 2; i < len(lines) && lines[i] != ""; i++ {
			out = append(out, lines[i])
		}
		b.want = strings.Join(out, "\n")
		blocks = append(blocks, b)
		pres = append(pres, pre)
		pre = nil
	}

	s := &scriptEnv{t: t}
	defer func() {
		if s.e != nil {
			s.e.l.Close()
		}
	}()
	for _, b := range blocks {
		b.got = strings.TrimRight(s.run(b.cmd), "\n")
		if !*rewrite && b.got != b.want {
			t.Errorf("%s: %s\ngot:\n%s\nwant:\n%s", file, b.cmd, b.got, b.want)
		}
	}
	if *rewrite {
		var out strings.Builder
		for i, b := range blocks {
			for _, p := range pres[i] {
				out.WriteString(p + "\n")
			}
			fmt.Fprintf(&out, "%s\n----\n", b.cmd)
			if b.got != "" {
				out.WriteString(b.got + "\n")
			}
			out.WriteString("\n")
		}
		for _, p := range pre {
			out.WriteString(p + "\n")
		}
		if err := os.WriteFile(file, []byte(out.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

type scriptEnv struct {
	t       *testing.T
	e       *env
	started bool
	puts    int // puts already printed
	crashAt string
	crashN  int
}

func (s *scriptEnv) run(cmd string) string {
	fields := strings.Fields(cmd)
	args := map[string]string{}
	for _, f := range fields[1:] {
		if k, v, ok := strings.Cut(f, "="); ok {
			args[k] = v
		}
	}
	switch fields[0] {
	case "open":
		s.e = newEnv(s.t, func(c *Config) {
			if v := args["interval"]; v != "" {
				c.Interval, _ = time.ParseDuration(v)
			}
			if v := args["maxbatch"]; v != "" {
				fmt.Sscan(v, &c.MaxBatch)
			}
			c.hook = s.hook
		})
		s.e.sink.log = []string{}
		if v := args["buckets"]; v != "" {
			for _, b := range strings.Split(v, ",") {
				s.e.sink.createBucket(b)
			}
		}
		return ""
	case "append":
		hh, mm, ss := 0, 0, 0
		fmt.Sscanf(args["at"], "%d:%d:%d", &hh, &mm, &ss)
		for _, id := range strings.Split(args["ids"], ",") {
			if err := s.e.l.Append(context.Background(), rec(id, args["src"], args["target"], args["prefix"], at(hh, mm, ss))); err != nil {
				return "error: " + err.Error()
			}
		}
		return ""
	case "flush":
		w := s.e.waits()
		err := s.e.l.Flush(context.Background())
		if err != nil && s.started {
			s.e.awaitWaits(w + 1) // the loop has taken the retry time
		}
		out := s.newPuts()
		if err != nil {
			return out + "error: " + err.Error()
		}
		return out + "ok"
	case "start":
		s.e.l.Start(context.Background())
		s.e.awaitWaits(1)
		s.started = true
		return ""
	case "advance":
		d, err := time.ParseDuration(fields[1])
		if err != nil {
			return err.Error()
		}
		w := s.e.waits()
		fires := s.e.clk.dueBy(s.e.clk.Now().Add(d))
		s.e.clk.Advance(d)
		if s.started && fires {
			s.e.awaitWaits(w + 1)
			s.settle()
		}
		return s.newPuts() + "now " + s.e.clk.Now().Format("15:04:05")
	case "bucket":
		s.e.sink.createBucket(fields[1])
		return ""
	case "crash-at":
		s.crashAt, s.crashN = fields[1], 1
		if v := args["n"]; v != "" {
			fmt.Sscan(v, &s.crashN)
		}
		return ""
	case "restart":
		s.crashAt = ""
		s.e.crash()
		if s.started {
			s.e.l.Start(context.Background())
			s.e.awaitWaits(1)
		}
		return ""
	case "status":
		var out []string
		for _, b := range s.e.l.Status() {
			ln := fmt.Sprintf("%s: pending=%d", b.Bucket, b.Pending)
			if !b.OldestPending.IsZero() {
				ln += " oldest=" + b.OldestPending.In(beijing).Format("15:04:05")
			}
			if b.LastObject != "" {
				ln += " last=" + b.LastObject
			}
			if b.LastError != nil {
				ln += fmt.Sprintf(" error=%q next=%s", b.LastError, b.NextAttempt.In(beijing).Format("15:04:05"))
			}
			out = append(out, ln)
		}
		return strings.Join(out, "\n")
	case "segments":
		return fmt.Sprint(len(s.e.fs.segments()))
	}
	return "unknown command " + fields[0]
}

// settle waits until the delivery loop has no retry due: the round after
// a wake-up may leave one due at once, which the loop runs next.
func (s *scriptEnv) settle() {
	l := s.e.l
	for {
		now := s.e.clk.Now()
		l.mu.Lock()
		w, due := l.waits, false
		for _, st := range l.streams {
			due = due || st.lastErr != nil && len(st.chunks) > 0 && !st.nextAttempt.After(now)
		}
		l.mu.Unlock()
		if !due {
			return
		}
		s.e.awaitWaits(w + 1)
	}
}

func (s *scriptEnv) hook(step string) error {
	if s.crashAt == step {
		if s.crashN--; s.crashN == 0 {
			s.crashAt = ""
			return errCrashed
		}
	}
	return nil
}

// newPuts describes the puts since the last call: one line each,
// "put bucket/key: request IDs".
func (s *scriptEnv) newPuts() string {
	sink := s.e.sink
	sink.mu.Lock()
	defer sink.mu.Unlock()
	var b strings.Builder
	for _, p := range sink.log[s.puts:] {
		b.WriteString(p + "\n")
	}
	s.puts = len(sink.log)
	return b.String()
}

// logPut is memSink's record of one put for scripts.
func logPut(bucket, key string, body []byte) string {
	var ids []string
	for _, ln := range strings.Split(strings.TrimSuffix(string(body), "\n"), "\n") {
		l, err := osslog.Parse(ln)
		if err != nil {
			return "put " + bucket + "/" + key + ": bad line: " + err.Error()
		}
		ids = append(ids, l.RequestID)
	}
	return "put " + bucket + "/" + key + ": " + strings.Join(ids, ",")
}
