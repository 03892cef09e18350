// consumer: the application of vault-eso-lab's pod scenarios. It reads a Secret the way applications do (an
// environment variable, a mounted file) and reports each reading on stdout as one JSON line, with its own
// timestamps and a short SHA-256 of the value — never the value. The harness follows this stream through the
// Kubernetes log API (no exec polling), which gives the last hops of a rotation: the file changed in the pod
// (its mtime, written by the kubelet) and the application read it (readAt).
//
//	consumer [--env NAME]... [--file PATH]... [--interval 100ms] [--heartbeat 2s]
//
// It is also a tiny multi-call binary for `kubectl exec`: invoked as `cat` it prints files, as `printenv`
// environment variables (the image links /bin/cat and /bin/printenv to it).
package main

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

type report struct {
	Consumer  int     `json:"consumer"`
	Event     string  `json:"event"`  // initial | changed | same
	Source    string  `json:"source"` // env:NAME | file:PATH
	SHA256    *string `json:"sha256"`
	ReadAt    string  `json:"readAt"`
	WrittenAt string  `json:"writtenAt,omitempty"`
	Error     string  `json:"error,omitempty"`
	Seq       int     `json:"seq"`
}

type list []string

func (l *list) String() string     { return strings.Join(*l, ",") }
func (l *list) Set(v string) error { *l = append(*l, v); return nil }

func shortHash(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])[:8]
}

type reading struct {
	hash      *string
	writtenAt time.Time
	err       string
}

func read(source string) reading {
	if name, ok := strings.CutPrefix(source, "env:"); ok {
		v, present := os.LookupEnv(name)
		if !present {
			return reading{err: "not set"}
		}
		h := shortHash([]byte(v))
		return reading{hash: &h}
	}
	path := strings.TrimPrefix(source, "file:")
	b, err := os.ReadFile(path)
	if err != nil {
		return reading{err: err.Error()}
	}
	h := shortHash(b)
	r := reading{hash: &h}
	if st, err := os.Stat(path); err == nil { // follows the kubelet's ..data symlinks to the written file
		r.writtenAt = st.ModTime()
	}
	return r
}

func same(a, b *string) bool {
	if a == nil || b == nil {
		return a == b
	}
	return *a == *b
}

func main() {
	switch filepath.Base(os.Args[0]) {
	case "cat":
		os.Exit(cat(os.Args[1:]))
	case "printenv":
		os.Exit(printenv(os.Args[1:]))
	}
	var envs, files list
	flag.Var(&envs, "env", "environment variable to report (repeatable)")
	flag.Var(&files, "file", "file to report (repeatable)")
	interval := flag.Duration("interval", 100*time.Millisecond, "how often the files are read")
	heartbeat := flag.Duration("heartbeat", 2*time.Second, "how often an unchanged reading is reported again")
	flag.Parse()
	var sources []string
	for _, e := range envs {
		sources = append(sources, "env:"+e)
	}
	for _, f := range files {
		sources = append(sources, "file:"+f)
	}
	if len(sources) == 0 {
		fmt.Fprintln(os.Stderr, "consumer: nothing to read (--env NAME, --file PATH)")
		os.Exit(2)
	}
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGTERM, syscall.SIGINT)
	enc := json.NewEncoder(os.Stdout)
	last := map[string]reading{}
	lastSaid := map[string]time.Time{}
	seq := 0
	tick := time.NewTicker(*interval)
	defer tick.Stop()
	for {
		now := time.Now()
		for _, s := range sources {
			r := read(s)
			prev, seen := last[s]
			event := "same"
			switch {
			case !seen:
				event = "initial"
			case !same(prev.hash, r.hash) || prev.err != r.err:
				event = "changed"
			case now.Sub(lastSaid[s]) < *heartbeat:
				continue
			}
			seq++
			out := report{Consumer: 1, Event: event, Source: s, SHA256: r.hash, ReadAt: now.UTC().Format(time.RFC3339Nano), Error: r.err, Seq: seq}
			if !r.writtenAt.IsZero() {
				out.WrittenAt = r.writtenAt.UTC().Format(time.RFC3339Nano)
			}
			_ = enc.Encode(out)
			last[s] = r
			lastSaid[s] = now
		}
		select {
		case <-stop:
			return
		case <-tick.C:
		}
	}
}

func cat(paths []string) int {
	code := 0
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			fmt.Fprintf(os.Stderr, "cat: %v\n", err)
			code = 1
			continue
		}
		os.Stdout.Write(b)
	}
	return code
}

func printenv(names []string) int {
	if len(names) == 0 {
		for _, kv := range os.Environ() {
			fmt.Println(kv)
		}
		return 0
	}
	code := 0
	for _, n := range names {
		v, ok := os.LookupEnv(n)
		if !ok {
			code = 1
			continue
		}
		fmt.Println(v)
	}
	return code
}
