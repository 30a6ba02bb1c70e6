// Command goreference renders templates with Go's text/template and a func map that has confd's semantics
// (confd's resource/template/template_funcs.go and memkv's store functions, written from their documented
// behaviour), for hecd's differential tests (Tests/TemplatesTests/DifferentialTests.swift).
//
// It reads one JSON case per line on standard input:
//
//	{"name": "t.tmpl", "template": "…", "keys": {"/app/x": "1"}, "env": {"A": "b"}, "now": 1709622489, "zone": "UTC", "offset": 0}
//
// and writes one JSON result per line: {"ok": true, "output": "<base64>"} or {"ok": false, "error": "…"}.
// The output is base64 so that bytes that are not UTF-8 survive. As confd does, the template is executed with
// nil data; a failed parse or execution is {"ok": false}.
package main

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"path"
	"sort"
	"strconv"
	"strings"
	"text/template"
	"time"

	"hecd.dev/goreference/memkv"
)

type testCase struct {
	Name     string            `json:"name"`
	Template string            `json:"template"`
	Keys     map[string]string `json:"keys"`
	Env      map[string]string `json:"env"`
	Now      int64             `json:"now"`
	Zone     string            `json:"zone"`
	Offset   int               `json:"offset"`
}

type result struct {
	OK     bool   `json:"ok"`
	Output []byte `json:"output,omitempty"`
	Error  string `json:"error,omitempty"`
}

func main() {
	if len(os.Args) > 1 && os.Args[1] == "-bench" {
		benchMain(os.Args[2:])
		return
	}
	in := bufio.NewReaderSize(os.Stdin, 1<<20)
	out := bufio.NewWriter(os.Stdout)
	defer out.Flush()
	encoder := json.NewEncoder(out)
	for {
		line, err := in.ReadBytes('\n')
		if len(bytes.TrimSpace(line)) > 0 {
			var c testCase
			if jerr := json.Unmarshal(line, &c); jerr != nil {
				fmt.Fprintln(os.Stderr, "goreference: bad case:", jerr)
				os.Exit(2)
			}
			encoder.Encode(render(c))
		}
		if err != nil {
			return
		}
	}
}

func render(c testCase) (r result) {
	defer func() {
		if p := recover(); p != nil {
			r = result{OK: false, Error: fmt.Sprint("panic: ", p)}
		}
	}()
	name := c.Name
	if name == "" {
		name = "t.tmpl"
	}
	os.Clearenv()
	for k, v := range c.Env {
		os.Setenv(k, v)
	}
	zone := time.Local // TZ is unset: /etc/localtime, named "Local", as confd runs
	if c.Zone == "UTC" {
		zone = time.UTC
	} else if c.Zone != "" && c.Zone != "Local" {
		zone = time.FixedZone(c.Zone, c.Offset)
	}
	now := time.Unix(c.Now, 0).In(zone)
	funcs := newFuncMap(now)
	store := newStore(c.Keys)
	for k, v := range store.funcMap() {
		funcs[k] = v
	}
	tmpl, err := template.New(name).Funcs(funcs).Parse(c.Template)
	if err != nil {
		return result{OK: false, Error: err.Error()}
	}
	var buf bytes.Buffer
	if err := tmpl.Execute(&buf, nil); err != nil {
		return result{OK: false, Error: err.Error()}
	}
	return result{OK: true, Output: buf.Bytes()}
}

// MARK: confd's template_funcs.go (the generator asks lookupIP only for names /etc/hosts answers: the tests run
// offline; no lookupSRV).

func newFuncMap(now time.Time) map[string]interface{} {
	m := make(map[string]interface{})
	m["base"] = path.Base
	m["split"] = strings.Split
	m["json"] = unmarshalJSONObject
	m["jsonArray"] = unmarshalJSONArray
	m["dir"] = path.Dir
	m["map"] = createMap
	m["getenv"] = getenv
	m["join"] = strings.Join
	m["datetime"] = func() time.Time { return now }
	m["toUpper"] = strings.ToUpper
	m["toLower"] = strings.ToLower
	m["contains"] = strings.Contains
	m["replace"] = strings.Replace
	m["trimSuffix"] = strings.TrimSuffix
	m["fileExists"] = fileExists
	m["lookupIP"] = lookupIP
	m["lookupIPV4"] = func(data string) []string {
		var addresses []string
		for _, ip := range lookupIP(data) {
			if strings.Contains(ip, ".") {
				addresses = append(addresses, ip)
			}
		}
		return addresses
	}
	m["lookupIPV6"] = func(data string) []string {
		var addresses []string
		for _, ip := range lookupIP(data) {
			if strings.Contains(ip, ":") {
				addresses = append(addresses, ip)
			}
		}
		return addresses
	}
	m["base64Encode"] = func(data string) string { return base64.StdEncoding.EncodeToString([]byte(data)) }
	m["base64Decode"] = func(data string) (string, error) {
		s, err := base64.StdEncoding.DecodeString(data)
		return string(s), err
	}
	m["parseBool"] = strconv.ParseBool
	m["reverse"] = reverse
	m["sortByLength"] = sortByLength
	m["sortKVByLength"] = sortKVByLength
	m["add"] = func(a, b int) int { return a + b }
	m["sub"] = func(a, b int) int { return a - b }
	m["div"] = func(a, b int) int { return a / b }
	m["mod"] = func(a, b int) int { return a % b }
	m["mul"] = func(a, b int) int { return a * b }
	m["seq"] = seq
	m["atoi"] = strconv.Atoi
	return m
}

func lookupIP(data string) []string {
	ips, err := net.LookupIP(data)
	if err != nil {
		return nil
	}
	ipStrings := make([]string, len(ips))
	for i, ip := range ips {
		ipStrings[i] = ip.String()
	}
	sort.Strings(ipStrings)
	return ipStrings
}

func fileExists(key string) bool {
	_, err := os.Stat(key)
	return err == nil || !os.IsNotExist(err)
}

func seq(first, last int) []int {
	var arr []int
	for i := first; i <= last; i++ {
		arr = append(arr, i)
	}
	return arr
}

// KVPair and KVPairs are memkv's types: `gets` returns KVPairs, which `reverse` does not recognise.
type KVPair = memkv.KVPair
type KVPairs = memkv.KVPairs

type byLengthKV []KVPair

func (s byLengthKV) Len() int           { return len(s) }
func (s byLengthKV) Swap(i, j int)      { s[i], s[j] = s[j], s[i] }
func (s byLengthKV) Less(i, j int) bool { return len(s[i].Key) < len(s[j].Key) }

func sortKVByLength(values []KVPair) []KVPair {
	sort.Sort(byLengthKV(values))
	return values
}

type byLength []string

func (s byLength) Len() int           { return len(s) }
func (s byLength) Swap(i, j int)      { s[i], s[j] = s[j], s[i] }
func (s byLength) Less(i, j int) bool { return len(s[i]) < len(s[j]) }

func sortByLength(values []string) []string {
	sort.Sort(byLength(values))
	return values
}

func reverse(values interface{}) interface{} {
	switch v := values.(type) {
	case []string:
		for left, right := 0, len(v)-1; left < right; left, right = left+1, right-1 {
			v[left], v[right] = v[right], v[left]
		}
	case []KVPair:
		for left, right := 0, len(v)-1; left < right; left, right = left+1, right-1 {
			v[left], v[right] = v[right], v[left]
		}
	}
	return values
}

func getenv(key string, v ...string) string {
	defaultValue := ""
	if len(v) > 0 {
		defaultValue = v[0]
	}
	value := os.Getenv(key)
	if value == "" {
		return defaultValue
	}
	return value
}

func createMap(values ...interface{}) (map[string]interface{}, error) {
	if len(values)%2 != 0 {
		return nil, errors.New("invalid map call")
	}
	dict := make(map[string]interface{}, len(values)/2)
	for i := 0; i < len(values); i += 2 {
		key, ok := values[i].(string)
		if !ok {
			return nil, errors.New("map keys must be strings")
		}
		dict[key] = values[i+1]
	}
	return dict, nil
}

func unmarshalJSONObject(data string) (map[string]interface{}, error) {
	var ret map[string]interface{}
	err := json.Unmarshal([]byte(data), &ret)
	return ret, err
}

func unmarshalJSONArray(data string) ([]interface{}, error) {
	var ret []interface{}
	err := json.Unmarshal([]byte(data), &ret)
	return ret, err
}

// MARK: memkv's store functions.

type store struct{ m map[string]KVPair }

func newStore(keys map[string]string) store {
	s := store{m: make(map[string]KVPair, len(keys))}
	for k, v := range keys {
		s.m[k] = KVPair{k, v}
	}
	return s
}

func (s store) funcMap() map[string]interface{} {
	return map[string]interface{}{
		"exists": s.exists,
		"ls":     s.list,
		"lsdir":  s.listDir,
		"get":    s.get,
		"gets":   s.getAll,
		"getv":   s.getValue,
		"getvs":  s.getAllValues,
	}
}

type keyError struct {
	Key string
	Err error
}

func (e *keyError) Error() string { return e.Err.Error() + ": " + e.Key }

var errNotExist = errors.New("key does not exist")

func (s store) exists(key string) bool {
	_, err := s.get(key)
	return err == nil
}

func (s store) get(key string) (KVPair, error) {
	kv, ok := s.m[key]
	if !ok {
		return kv, &keyError{key, errNotExist}
	}
	return kv, nil
}

func (s store) getValue(key string, v ...string) (string, error) {
	kv, err := s.get(key)
	if err != nil {
		if len(v) > 0 {
			return v[0], nil
		}
		return "", err
	}
	return kv.Value, nil
}

func (s store) getAll(pattern string) (KVPairs, error) {
	ks := make(KVPairs, 0)
	for _, kv := range s.m {
		m, err := path.Match(pattern, kv.Key)
		if err != nil {
			return nil, err
		}
		if m {
			ks = append(ks, kv)
		}
	}
	if len(ks) == 0 {
		return ks, nil
	}
	sort.Sort(ks)
	return ks, nil
}

func (s store) getAllValues(pattern string) ([]string, error) {
	vs := make([]string, 0)
	ks, err := s.getAll(pattern)
	if err != nil {
		return vs, err
	}
	if len(ks) == 0 {
		return vs, nil
	}
	for _, kv := range ks {
		vs = append(vs, kv.Value)
	}
	sort.Strings(vs)
	return vs, nil
}

func (s store) list(filePath string) []string {
	vs := make([]string, 0)
	m := make(map[string]bool)
	prefix := pathToTerms(filePath)
	for _, kv := range s.m {
		if kv.Key == filePath {
			m[path.Base(kv.Key)] = true
			continue
		}
		target := pathToTerms(path.Dir(kv.Key))
		if samePrefixTerms(prefix, target) {
			m[strings.Split(stripKey(kv.Key, filePath), "/")[0]] = true
		}
	}
	for k := range m {
		vs = append(vs, k)
	}
	sort.Strings(vs)
	return vs
}

func (s store) listDir(filePath string) []string {
	vs := make([]string, 0)
	m := make(map[string]bool)
	prefix := pathToTerms(filePath)
	for _, kv := range s.m {
		if strings.HasPrefix(kv.Key, filePath) {
			items := pathToTerms(path.Dir(kv.Key))
			if samePrefixTerms(prefix, items) && (len(items)-len(prefix) >= 1) {
				m[items[len(prefix):][0]] = true
			}
		}
	}
	for k := range m {
		vs = append(vs, k)
	}
	sort.Strings(vs)
	return vs
}

func stripKey(key, prefix string) string {
	return strings.TrimPrefix(strings.TrimPrefix(key, prefix), "/")
}

func pathToTerms(filePath string) []string {
	return strings.Split(path.Clean(filePath), "/")
}

func samePrefixTerms(prefix, test []string) bool {
	if len(test) < len(prefix) {
		return false
	}
	for i := 0; i < len(prefix); i++ {
		if prefix[i] != test[i] {
			return false
		}
	}
	return true
}

// benchMain: goreference -bench TEMPLATE KEYS.tsv RUNS OUTPUT, the Go side of bench/templates.py (hecd's is
// hecd-template-bench, same arguments and output). Each run builds the store, parses and executes, as a confd
// render does; the last output goes to OUTPUT; one JSON line to stdout.
func benchMain(args []string) {
	if len(args) != 4 {
		fmt.Fprintln(os.Stderr, "usage: goreference -bench TEMPLATE KEYS.tsv RUNS OUTPUT")
		os.Exit(2)
	}
	text, err := os.ReadFile(args[0])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	raw, err := os.ReadFile(args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	keys := map[string]string{}
	for _, line := range strings.Split(strings.TrimSuffix(string(raw), "\n"), "\n") {
		key, value, ok := strings.Cut(line, "\t")
		if !ok {
			fmt.Fprintln(os.Stderr, "a line without a tab")
			os.Exit(2)
		}
		keys[key] = value
	}
	runs, err := strconv.Atoi(args[2])
	if err != nil || runs < 1 {
		fmt.Fprintln(os.Stderr, "RUNS must be a positive number")
		os.Exit(2)
	}
	var times []int64
	var buf bytes.Buffer
	for i := 0; i < runs; i++ {
		start := time.Now()
		funcs := newFuncMap(start)
		store := newStore(keys)
		for k, v := range store.funcMap() {
			funcs[k] = v
		}
		tmpl, err := template.New("bench.tmpl").Funcs(funcs).Parse(string(text))
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		buf.Reset()
		if err := tmpl.Execute(&buf, nil); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		times = append(times, time.Since(start).Nanoseconds())
	}
	if err := os.WriteFile(args[3], buf.Bytes(), 0o644); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	// VmHWM, not getrusage's Maxrss: that one keeps the high-water mark of the process before exec.
	peak := -1
	if status, err := os.ReadFile("/proc/self/status"); err == nil {
		for _, line := range strings.Split(string(status), "\n") {
			if fields := strings.Fields(line); len(fields) >= 2 && fields[0] == "VmHWM:" {
				peak, _ = strconv.Atoi(fields[1])
			}
		}
	}
	encoded, _ := json.Marshal(map[string]interface{}{"ns": times, "bytes": buf.Len(), "maxrss_kb": peak})
	fmt.Println(string(encoded))
}
