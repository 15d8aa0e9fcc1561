// Package oteltest is the OpenTelemetry SDK for this module's tests: an
// in-memory span recorder (sdk/trace/tracetest) and a manual metric reader
// (sdk/metric), the span tree rendered for assertions, and a scan of every
// exported span and metric for secrets. Only tests import it, so the SDK
// stays out of the library's own imports (TestLibraryImportsTheAPIOnly).
package oteltest

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
)

// Harness is a tracer provider and a meter provider that keep everything
// in memory.
type Harness struct {
	Recorder *tracetest.SpanRecorder
	Tracer   *sdktrace.TracerProvider
	Reader   *sdkmetric.ManualReader
	Meter    *sdkmetric.MeterProvider
}

// New returns a Harness that samples every span; it is shut down when the
// test ends.
func New(t testing.TB) *Harness {
	t.Helper()
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec), sdktrace.WithSampler(sdktrace.AlwaysSample()))
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	t.Cleanup(func() {
		_ = tp.Shutdown(context.Background())
		_ = mp.Shutdown(context.Background())
	})
	return &Harness{Recorder: rec, Tracer: tp, Reader: reader, Meter: mp}
}

// Spans returns the spans ended so far, in the order they ended.
func (h *Harness) Spans() []sdktrace.ReadOnlySpan { return h.Recorder.Ended() }

// Named returns the ended spans called name, in the order they ended.
func (h *Harness) Named(name string) []sdktrace.ReadOnlySpan {
	var out []sdktrace.ReadOnlySpan
	for _, s := range h.Spans() {
		if s.Name() == name {
			out = append(out, s)
		}
	}
	return out
}

// One returns the only ended span called name, failing the test otherwise.
func (h *Harness) One(t testing.TB, name string) sdktrace.ReadOnlySpan {
	t.Helper()
	s := h.Named(name)
	if len(s) != 1 {
		t.Fatalf("want one span %q, have %d; the tree:\n%s", name, len(s), h.Tree())
	}
	return s[0]
}

// Children returns the ended spans whose parent is span, in start order.
func (h *Harness) Children(span sdktrace.ReadOnlySpan) []sdktrace.ReadOnlySpan {
	var out []sdktrace.ReadOnlySpan
	for _, s := range h.Spans() {
		if s.Parent().SpanID() == span.SpanContext().SpanID() && s.Parent().TraceID() == span.SpanContext().TraceID() {
			out = append(out, s)
		}
	}
	slices.SortStableFunc(out, func(a, b sdktrace.ReadOnlySpan) int { return a.StartTime().Compare(b.StartTime()) })
	return out
}

// Attr returns the value of span's attribute key, and whether it is set.
func Attr(span sdktrace.ReadOnlySpan, key attribute.Key) (attribute.Value, bool) {
	for _, kv := range span.Attributes() {
		if kv.Key == key {
			return kv.Value, true
		}
	}
	return attribute.Value{}, false
}

// Str returns span's attribute key as a string ("" when unset).
func Str(span sdktrace.ReadOnlySpan, key attribute.Key) string {
	v, _ := Attr(span, key)
	return v.String()
}

// Tree renders the spans of every trace as an indented tree, one span a
// line: its name, its kind unless internal, and the attributes named in
// keys (all of this module's marketplace.* and the HTTP ones when none).
func (h *Harness) Tree(keys ...attribute.Key) string {
	spans := h.Spans()
	ids := map[trace.SpanID]bool{}
	for _, s := range spans {
		ids[s.SpanContext().SpanID()] = true
	}
	var b strings.Builder
	var walk func(s sdktrace.ReadOnlySpan, depth int)
	walk = func(s sdktrace.ReadOnlySpan, depth int) {
		b.WriteString(strings.Repeat("  ", depth))
		b.WriteString(Line(s, keys...))
		b.WriteByte('\n')
		for _, c := range h.Children(s) {
			walk(c, depth+1)
		}
	}
	roots := []sdktrace.ReadOnlySpan{}
	for _, s := range spans {
		if !ids[s.Parent().SpanID()] {
			roots = append(roots, s)
		}
	}
	slices.SortStableFunc(roots, func(a, b sdktrace.ReadOnlySpan) int { return a.StartTime().Compare(b.StartTime()) })
	for _, r := range roots {
		walk(r, 0)
	}
	return b.String()
}

// Line renders one span as Tree does.
func Line(s sdktrace.ReadOnlySpan, keys ...attribute.Key) string {
	var b strings.Builder
	b.WriteString(s.Name())
	if s.SpanKind() != trace.SpanKindInternal {
		fmt.Fprintf(&b, " [%s]", s.SpanKind())
	}
	for _, kv := range s.Attributes() {
		if len(keys) > 0 && !slices.Contains(keys, kv.Key) {
			continue
		}
		fmt.Fprintf(&b, " %s=%s", kv.Key, kv.Value.String())
	}
	if s.Status().Code.String() == "Error" {
		fmt.Fprintf(&b, " !%s", s.Status().Description)
	}
	return b.String()
}

// Collect reads every metric recorded so far.
func (h *Harness) Collect(t testing.TB) metricdata.ResourceMetrics {
	t.Helper()
	var rm metricdata.ResourceMetrics
	if err := h.Reader.Collect(context.Background(), &rm); err != nil {
		t.Fatalf("collect metrics: %v", err)
	}
	return rm
}

// Metric returns the metric called name, and whether there is one.
func Metric(rm metricdata.ResourceMetrics, name string) (metricdata.Metrics, bool) {
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			if m.Name == name {
				return m, true
			}
		}
	}
	return metricdata.Metrics{}, false
}

// Point is one data point of a counter or histogram: its attributes and
// its value (the sum of a counter, the count of a histogram).
type Point struct {
	Attrs attribute.Set
	Value float64
	Sum   float64 // a histogram's sum
}

// Points returns the data points of the metric called name.
func Points(rm metricdata.ResourceMetrics, name string) []Point {
	m, ok := Metric(rm, name)
	if !ok {
		return nil
	}
	var out []Point
	switch d := m.Data.(type) {
	case metricdata.Sum[int64]:
		for _, p := range d.DataPoints {
			out = append(out, Point{Attrs: p.Attributes, Value: float64(p.Value)})
		}
	case metricdata.Sum[float64]:
		for _, p := range d.DataPoints {
			out = append(out, Point{Attrs: p.Attributes, Value: p.Value})
		}
	case metricdata.Histogram[float64]:
		for _, p := range d.DataPoints {
			out = append(out, Point{Attrs: p.Attributes, Value: float64(p.Count), Sum: p.Sum})
		}
	}
	return out
}

// Sum adds the values of the points of name whose attributes include
// every one of match.
func Sum(rm metricdata.ResourceMetrics, name string, match ...attribute.KeyValue) float64 {
	var total float64
	for _, p := range Points(rm, name) {
		ok := true
		for _, kv := range match {
			if v, has := p.Attrs.Value(kv.Key); !has || v != kv.Value {
				ok = false
				break
			}
		}
		if ok {
			total += p.Value
		}
	}
	return total
}

// AssertNoSecrets fails the test when any secret appears anywhere in what
// the harness recorded: span names, attributes, status descriptions,
// events and their attributes, links, and every metric's name,
// description and data point attributes. Empty secrets are ignored.
func (h *Harness) AssertNoSecrets(t testing.TB, secrets ...string) {
	t.Helper()
	var texts []string
	attrs := func(where string, kvs []attribute.KeyValue) {
		for _, kv := range kvs {
			texts = append(texts, where+" "+string(kv.Key)+"="+kv.Value.String())
		}
	}
	for _, s := range h.Spans() {
		where := "span " + s.Name()
		texts = append(texts, where, where+" status "+s.Status().Description)
		attrs(where, s.Attributes())
		for _, e := range s.Events() {
			texts = append(texts, where+" event "+e.Name)
			attrs(where+" event "+e.Name, e.Attributes)
		}
		for _, l := range s.Links() {
			attrs(where+" link", l.Attributes)
		}
		attrs(where+" resource", s.Resource().Attributes())
	}
	rm := h.Collect(t)
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			where := "metric " + m.Name
			texts = append(texts, where+" "+m.Description+" "+m.Unit)
			for _, set := range pointAttrs(m) {
				attrs(where, set.ToSlice())
			}
		}
	}
	if len(texts) == 0 {
		t.Fatalf("nothing was recorded to scan")
	}
	for _, sec := range secrets {
		if sec == "" {
			continue
		}
		for _, text := range texts {
			if strings.Contains(text, sec) {
				t.Errorf("a secret (%d characters, starting %q) is in the telemetry: %s", len(sec), sec[:min(3, len(sec))], text)
			}
		}
	}
}

func pointAttrs(m metricdata.Metrics) []attribute.Set {
	var out []attribute.Set
	switch d := m.Data.(type) {
	case metricdata.Sum[int64]:
		for _, p := range d.DataPoints {
			out = append(out, p.Attributes)
		}
	case metricdata.Sum[float64]:
		for _, p := range d.DataPoints {
			out = append(out, p.Attributes)
		}
	case metricdata.Histogram[float64]:
		for _, p := range d.DataPoints {
			out = append(out, p.Attributes)
		}
	case metricdata.Histogram[int64]:
		for _, p := range d.DataPoints {
			out = append(out, p.Attributes)
		}
	case metricdata.Gauge[int64]:
		for _, p := range d.DataPoints {
			out = append(out, p.Attributes)
		}
	case metricdata.Gauge[float64]:
		for _, p := range d.DataPoints {
			out = append(out, p.Attributes)
		}
	}
	return out
}
