// The Go oracle of the template tests: renders templates exactly as Rill does (text/template with Sprig's
// TxtFuncMap minus env/expandenv, missingkey=default). Reads JSON lines {"t", "name", "data"} on stdin and
// writes one JSON line {"out"} or {"error", "phase"} per case on stdout. Data numbers without a fraction or
// exponent are int64, others float64 (Sluice's data model). Built by tests/templating/go_oracle.py.
package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"strings"
	"text/template"
	"time"

	"github.com/Masterminds/sprig"
)

type request struct {
	T    string          `json:"t"`
	Name string          `json:"name"`
	Data json.RawMessage `json:"data"`
}

type response struct {
	Out   *string `json:"out,omitempty"`
	Error string  `json:"error,omitempty"`
	Phase string  `json:"phase,omitempty"`
	Micro int64   `json:"us"`
}

func functions() template.FuncMap {
	fm := sprig.TxtFuncMap()
	delete(fm, "env")
	delete(fm, "expandenv")
	return fm
}

func decode(raw json.RawMessage) (interface{}, error) {
	if len(raw) == 0 {
		return nil, nil
	}
	decoder := json.NewDecoder(bytes.NewReader(raw))
	decoder.UseNumber()
	var value interface{}
	if err := decoder.Decode(&value); err != nil {
		return nil, err
	}
	return convert(value), nil
}

func convert(value interface{}) interface{} {
	switch v := value.(type) {
	case json.Number:
		if !strings.ContainsAny(string(v), ".eE") {
			if i, err := strconv.ParseInt(string(v), 10, 64); err == nil {
				return i
			}
		}
		f, _ := v.Float64()
		return f
	case map[string]interface{}:
		for key, item := range v {
			v[key] = convert(item)
		}
	case []interface{}:
		for index, item := range v {
			v[index] = convert(item)
		}
	}
	return value
}

func render(fm template.FuncMap, req request) (result response) {
	defer func() {
		if r := recover(); r != nil {
			result = response{Error: fmt.Sprint("panic: ", r), Phase: "panic"}
		}
	}()
	data, err := decode(req.Data)
	if err != nil {
		return response{Error: err.Error(), Phase: "data"}
	}
	tmpl, err := template.New(req.Name).Funcs(fm).Option("missingkey=default").Parse(req.T)
	if err != nil {
		return response{Error: err.Error(), Phase: "parse"}
	}
	var out bytes.Buffer
	if err := tmpl.Execute(&out, data); err != nil {
		return response{Error: err.Error(), Phase: "exec"}
	}
	text := out.String()
	return response{Out: &text}
}

func main() {
	fm := functions()
	in := bufio.NewScanner(os.Stdin)
	in.Buffer(make([]byte, 1<<20), 1<<26)
	out := bufio.NewWriter(os.Stdout)
	defer out.Flush()
	encoder := json.NewEncoder(out)
	for in.Scan() {
		var req request
		if err := json.Unmarshal(in.Bytes(), &req); err != nil {
			encoder.Encode(response{Error: err.Error(), Phase: "request"})
			continue
		}
		done := make(chan response, 1)
		start := time.Now()
		go func() { done <- render(fm, req) }()
		select {
		case result := <-done:
			result.Micro = time.Since(start).Microseconds()
			encoder.Encode(result)
		case <-time.After(10 * time.Second):
			encoder.Encode(response{Error: "timeout", Phase: "timeout"})
		}
	}
}
