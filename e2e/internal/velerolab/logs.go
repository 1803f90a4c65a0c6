package velerolab

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/sirupsen/logrus"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
)

// VeleroContainer is the container whose logs the double writes: Velero's server, in Velero's own
// deployment and in the AKS Backup extension's agent.
const VeleroContainer = "velero"

// KwokLogsResource is kwok's per-pod Logs object (kwok runs with --enable-crds=Logs).
var KwokLogsResource = schema.GroupVersionResource{Group: "kwok.x-k8s.io", Version: "v1alpha1", Resource: "logs"}

// CRIWriter appends whole lines to a container log file in the CRI format kubelet writes and kwok
// reads back for `kubectl logs`: "<RFC3339Nano> stdout F <line>".
type CRIWriter struct {
	mu   sync.Mutex
	f    *os.File
	tee  io.Writer
	now  func() time.Time
	part []byte
}

// OpenCRIWriter opens (appending) a log file; tee, when set, gets a copy of every line.
func OpenCRIWriter(path string, tee io.Writer) (*CRIWriter, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	return &CRIWriter{f: f, tee: tee, now: time.Now}, nil
}

// Write implements io.Writer; an unterminated tail waits for the rest of its line.
func (w *CRIWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.part = append(w.part, p...)
	var out bytes.Buffer
	for {
		i := bytes.IndexByte(w.part, '\n')
		if i < 0 {
			break
		}
		out.WriteString(CRILine(w.now(), "stdout", string(w.part[:i])))
		if w.tee != nil {
			_, _ = w.tee.Write(w.part[:i+1])
		}
		w.part = w.part[i+1:]
	}
	if out.Len() > 0 {
		if _, err := w.f.Write(out.Bytes()); err != nil {
			return 0, err
		}
	}
	return len(p), nil
}

// Close closes the file.
func (w *CRIWriter) Close() error { return w.f.Close() }

// CRILine is one full (tag F) CRI log line.
func CRILine(t time.Time, stream, line string) string {
	return t.UTC().Format(time.RFC3339Nano) + " " + stream + " F " + line + "\n"
}

// NewLogger is a logrus logger writing Velero's text format: time="<RFC3339 UTC>" level=... msg=...
// and then the fields in sorted order, at Velero's default level, info.
func NewLogger(out io.Writer) *logrus.Logger {
	return NewLoggerWithFormat(out, LogFormatText)
}

// Velero's --log-format values.
const (
	LogFormatText = "text"
	LogFormatJSON = "json"
)

// NewLoggerWithFormat is a logrus logger writing Velero's text or JSON format. Velero's JSON format
// (pkg/util/logging, --log-format=json) is logrus's JSONFormatter: one object per line, keys in
// sorted order, "level", "msg" and "time" (RFC 3339), the fields as they are, and the error at
// "error.message" rather than "error" (Velero sets logrus.ErrorKey so for JSON).
func NewLoggerWithFormat(out io.Writer, format string) *logrus.Logger {
	l := logrus.New()
	l.Out = out
	l.Formatter = &logrus.TextFormatter{DisableColors: true, FullTimestamp: true, TimestampFormat: time.RFC3339}
	if format == LogFormatJSON {
		// logrus.ErrorKey is global and this process also writes text logs, so the key is
		// renamed per entry instead.
		l.Formatter = jsonFormatter{&logrus.JSONFormatter{TimestampFormat: time.RFC3339}}
	}
	l.Level = logrus.InfoLevel
	l.Hooks.Add(utcHook{})
	return l
}

// jsonFormatter writes an entry's error under "error.message", as Velero's JSON logs do.
type jsonFormatter struct{ json *logrus.JSONFormatter }

func (f jsonFormatter) Format(e *logrus.Entry) ([]byte, error) {
	if v, ok := e.Data[logrus.ErrorKey]; ok {
		data := make(logrus.Fields, len(e.Data))
		for k, x := range e.Data {
			data[k] = x
		}
		delete(data, logrus.ErrorKey)
		if err, isErr := v.(error); isErr {
			v = err.Error()
		}
		data["error.message"] = v
		copied := *e
		copied.Data = data
		e = &copied
	}
	return f.json.Format(e)
}

// PodLogFormat is the format the pod's velero container asks for with Velero's --log-format flag
// (in its command or args); text when it does not say.
func PodLogFormat(pod *corev1.Pod) string {
	format := LogFormatText
	for _, c := range pod.Spec.Containers {
		if c.Name != VeleroContainer {
			continue
		}
		words := append(append([]string(nil), c.Command...), c.Args...)
		for i, w := range words {
			switch {
			case strings.HasPrefix(w, "--log-format="):
				format = strings.TrimPrefix(w, "--log-format=")
			case w == "--log-format" && i+1 < len(words):
				format = words[i+1]
			}
		}
	}
	if format != LogFormatJSON {
		return LogFormatText
	}
	return format
}

// utcHook stamps entries in UTC, as Velero's container (TZ unset) does.
type utcHook struct{}

func (utcHook) Levels() []logrus.Level { return logrus.AllLevels }

func (utcHook) Fire(e *logrus.Entry) error {
	e.Time = e.Time.UTC()
	return nil
}

// podLogs keeps one log file per pod's velero container, and the kwok Logs object serving it.
type podLogs struct {
	dir  string
	dyn  dynamic.Interface
	mu   sync.Mutex
	pods map[string]*podLog // by pod UID
}

type podLog struct {
	path   string
	w      *CRIWriter
	logger *logrus.Logger
	served bool
}

// LogFile is where a pod's velero container log lives: one file per pod, so a pod created by a
// rollout starts with fresh logs.
func LogFile(dir string, pod *corev1.Pod) string {
	return filepath.Join(dir, fmt.Sprintf("%s_%s_%s", pod.Namespace, pod.Name, pod.UID), VeleroContainer+".log")
}

// get returns the pod's logger, creating its file and kwok Logs object on first use.
func (l *podLogs) get(ctx context.Context, pod *corev1.Pod) (*podLog, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	pl, ok := l.pods[string(pod.UID)]
	if !ok {
		path := LogFile(l.dir, pod)
		w, err := OpenCRIWriter(path, nil)
		if err != nil {
			return nil, err
		}
		pl = &podLog{path: path, w: w, logger: NewLoggerWithFormat(w, PodLogFormat(pod))}
		l.pods[string(pod.UID)] = pl
	}
	if !pl.served {
		if err := l.serve(ctx, pod, pl.path); err != nil {
			return pl, err
		}
		pl.served = true
	}
	return pl, nil
}

// serve creates the kwok Logs object for the pod, owned by the pod so it goes with it.
func (l *podLogs) serve(ctx context.Context, pod *corev1.Pod, path string) error {
	obj := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "kwok.x-k8s.io/v1alpha1",
		"kind":       "Logs",
		"metadata": map[string]any{
			"name": pod.Name, "namespace": pod.Namespace,
			"labels": map[string]any{"app.kubernetes.io/managed-by": "aksbackup-lab-velero"},
			"ownerReferences": []any{map[string]any{
				"apiVersion": "v1", "kind": "Pod", "name": pod.Name, "uid": string(pod.UID),
			}},
		},
		// The container never restarts under kwok: --previous finds no file, as kubectl logs
		// --previous fails for a container without a previous instance.
		"spec": map[string]any{"logs": []any{map[string]any{
			"containers":       []any{VeleroContainer},
			"logsFile":         path,
			"previousLogsFile": strings.TrimSuffix(path, ".log") + ".previous.log",
		}}},
	}}
	_, err := l.dyn.Resource(KwokLogsResource).Namespace(pod.Namespace).Create(ctx, obj, metav1.CreateOptions{})
	if apierrors.IsAlreadyExists(err) {
		// A Logs object left from an earlier run of the double (or a pod of the same name).
		_ = l.dyn.Resource(KwokLogsResource).Namespace(pod.Namespace).Delete(ctx, pod.Name, metav1.DeleteOptions{})
		_, err = l.dyn.Resource(KwokLogsResource).Namespace(pod.Namespace).Create(ctx, obj, metav1.CreateOptions{})
	}
	return err
}

// forget closes the files of pods that are gone.
func (l *podLogs) forget(alive map[string]bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for uid, pl := range l.pods {
		if !alive[uid] {
			_ = pl.w.Close()
			delete(l.pods, uid)
		}
	}
}
