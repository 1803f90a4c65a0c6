package velerolab

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	velerov1 "github.com/vmware-tanzu/velero/pkg/apis/velero/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

var stamp = time.Date(2026, 11, 22, 22, 34, 27, 560495000, time.FixedZone("CET", 3600))

func TestCRIWriter(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ns_pod_uid", "velero.log")
	var tee bytes.Buffer
	w, err := OpenCRIWriter(path, &tee)
	if err != nil {
		t.Fatal(err)
	}
	w.now = func() time.Time { return stamp }
	for _, chunk := range []string{"first line\nsec", "ond line\n", "third\nunfinished"} {
		if _, err := w.Write([]byte(chunk)); err != nil {
			t.Fatal(err)
		}
	}
	_ = w.Close()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	want := "2026-11-22T21:34:27.560495Z stdout F first line\n" +
		"2026-11-22T21:34:27.560495Z stdout F second line\n" +
		"2026-11-22T21:34:27.560495Z stdout F third\n"
	if string(data) != want {
		t.Errorf("log file:\n%s\nwant:\n%s", data, want)
	}
	if tee.String() != "first line\nsecond line\nthird\n" {
		t.Errorf("tee got %q", tee.String())
	}
}

// TestLogFormat pins Velero's logrus text format: time, level, msg, then the fields sorted, values
// quoted only when needed, newlines in errors escaped.
func TestLogFormat(t *testing.T) {
	var buf bytes.Buffer
	log := NewLogger(&buf).WithTime(stamp).WithField("controller", controllerName).WithField(controllerName, "velero/default")
	err := &locatedError{err: &rpcError{errors.New("GET https://labstorage.blob.core.windows.net/velero\nRESPONSE 404: 404 The specified container does not exist.\nERROR CODE: ContainerNotFound")},
		file: objectStoreFile + ":222", function: isValidFunction}
	withError(at(log, 255), err).Error("fail to validate backup store")
	pluginLog(log, 229).Info("auth with Azure AD")
	at(log, 252).Debug("not at Velero's default level")
	want := `time="2026-11-22T21:34:27Z" level=error msg="fail to validate backup store" backup-storage-location=velero/default controller=backup-storage-location error="rpc error: code = Unknown desc = GET https://labstorage.blob.core.windows.net/velero\nRESPONSE 404: 404 The specified container does not exist.\nERROR CODE: ContainerNotFound" error.file="/go/src/github.com/vmware-tanzu/velero/pkg/persistence/object_store.go:222" error.function="github.com/vmware-tanzu/velero/pkg/persistence.(*objectBackupStore).IsValid" logSource="pkg/controller/backup_storage_location_controller.go:255"` + "\n" +
		`time="2026-11-22T21:34:27Z" level=info msg="auth with Azure AD" backup-storage-location=velero/default cmd=/plugins/velero-plugin-for-microsoft-azure controller=backup-storage-location logSource="/go/src/velero-plugin-for-microsoft-azure/velero-plugin-for-microsoft-azure/util/storage.go:229" pluginName=velero-plugin-for-microsoft-azure` + "\n"
	if buf.String() != want {
		t.Errorf("log lines:\n%s\nwant:\n%s", buf.String(), want)
	}
}

func TestLogReconciledPhase(t *testing.T) {
	bsl := func(name string, phase velerov1.BackupStorageLocationPhase, def bool) velerov1.BackupStorageLocation {
		return velerov1.BackupStorageLocation{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: velerov1.BackupStorageLocationSpec{Default: def},
			Status: velerov1.BackupStorageLocationStatus{Phase: phase}}
	}
	tests := []struct {
		name         string
		list         []velerov1.BackupStorageLocation
		errs         []string
		defaultFound bool
		want         []string
	}{
		{"first validation fails", []velerov1.BackupStorageLocation{bsl("default", "", true)}, []string{`BackupStorageLocation "default" is unavailable: x`}, true,
			[]string{`level=error msg="Current BackupStorageLocations available/unavailable/unknown: 0/0/1, BackupStorageLocation \"default\" is unavailable: x)" controller=backup-storage-location logSource="pkg/controller/backup_storage_location_controller.go:291"`}},
		{"succeeds after failing", []velerov1.BackupStorageLocation{bsl("default", velerov1.BackupStorageLocationPhaseUnavailable, true)}, nil, true,
			[]string{`level=error msg="Current BackupStorageLocations available/unavailable/unknown: 0/1/0)" controller=backup-storage-location logSource="pkg/controller/backup_storage_location_controller.go:293"`}},
		{"one of two unavailable, no default", []velerov1.BackupStorageLocation{bsl("a", velerov1.BackupStorageLocationPhaseAvailable, false), bsl("b", velerov1.BackupStorageLocationPhaseUnavailable, false)}, []string{"e"}, false,
			[]string{`level=warning msg="Unavailable BackupStorageLocations detected: available/unavailable/unknown: 1/1/0, e)" controller=backup-storage-location logSource="pkg/controller/backup_storage_location_controller.go:296"`,
				"level=warning msg=\"There is no existing BackupStorageLocation set as default. Please see `velero backup-location -h` for options.\" controller=backup-storage-location logSource=\"pkg/controller/backup_storage_location_controller.go:300\""}},
		{"all available", []velerov1.BackupStorageLocation{bsl("default", velerov1.BackupStorageLocationPhaseAvailable, true)}, nil, true, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			logReconciledPhase(NewLogger(&buf).WithTime(stamp).WithField("controller", controllerName), tc.defaultFound, tc.list, tc.errs)
			var got []string
			for _, line := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
				if line != "" {
					got = append(got, strings.TrimPrefix(line, `time="2026-11-22T21:34:27Z" `))
				}
			}
			if strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
				t.Errorf("lines:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
			}
		})
	}
}

func TestParseDotenv(t *testing.T) {
	got := parseDotenv("# velero credentials\nAZURE_CLIENT_ID=abc\nexport AZURE_TENANT_ID = \"t\"\n\nAZURE_CLOUD_NAME='AzurePublicCloud'\nbroken line\nAZURE_CLIENT_SECRET=a=b\n")
	want := map[string]string{"AZURE_CLIENT_ID": "abc", "AZURE_TENANT_ID": "t", "AZURE_CLOUD_NAME": "AzurePublicCloud", "AZURE_CLIENT_SECRET": "a=b"}
	if len(got) != len(want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %q, want %q", k, got[k], v)
		}
	}
}

func TestMountedVolume(t *testing.T) {
	exp := int64(3600)
	pod := &corev1.Pod{Spec: corev1.PodSpec{
		Containers: []corev1.Container{{Name: "velero", VolumeMounts: []corev1.VolumeMount{
			{Name: "azure-identity-token", MountPath: "/var/run/secrets/azure/tokens"},
			{Name: "cloud-credentials", MountPath: "/credentials/"},
			{Name: "plugins", MountPath: "/"},
		}}},
		Volumes: []corev1.Volume{
			{Name: "azure-identity-token", VolumeSource: corev1.VolumeSource{Projected: &corev1.ProjectedVolumeSource{Sources: []corev1.VolumeProjection{
				{ServiceAccountToken: &corev1.ServiceAccountTokenProjection{Path: "azure-identity-token", Audience: "api://AzureADTokenExchange", ExpirationSeconds: &exp}}}}}},
			{Name: "cloud-credentials", VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{SecretName: "cloud-credentials"}}},
			{Name: "plugins", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}},
		},
	}}
	tests := []struct{ file, volume, rel string }{
		{"/var/run/secrets/azure/tokens/azure-identity-token", "azure-identity-token", "azure-identity-token"},
		{"/credentials/cloud", "cloud-credentials", "cloud"},
		{"/var/run/secrets/azure/tokens", "plugins", "var/run/secrets/azure/tokens"},
	}
	for _, tc := range tests {
		vol, rel := mountedVolume(pod, "velero", tc.file)
		if vol == nil || vol.Name != tc.volume || rel != tc.rel {
			t.Errorf("mountedVolume(%s) = %v %q, want %s %q", tc.file, vol, rel, tc.volume, tc.rel)
		}
	}
	if vol, _ := mountedVolume(pod, "other", "/credentials/cloud"); vol != nil {
		t.Errorf("a container without the mount found volume %s", vol.Name)
	}
}

func TestReadyToValidate(t *testing.T) {
	now := time.Now()
	last := &metav1.Time{Time: now.Add(-3 * time.Second)}
	d := func(x time.Duration) *metav1.Duration { return &metav1.Duration{Duration: x} }
	tests := []struct {
		name string
		freq *metav1.Duration
		last *metav1.Time
		want bool
	}{
		{"never validated", d(0), nil, true},
		{"server frequency passed", nil, last, true},
		{"own frequency not passed", d(time.Minute), last, false},
		{"disabled", d(0), last, false},
		{"negative means the server's", d(-time.Second), last, true},
	}
	for _, tc := range tests {
		if got := readyToValidate(tc.freq, tc.last, 2*time.Second, now); got != tc.want {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestNoSuchFile(t *testing.T) {
	if got := noSuchFile("/var/run/secrets/azure/tokens/azure-identity-token").Error(); got != "open /var/run/secrets/azure/tokens/azure-identity-token: no such file or directory" {
		t.Errorf("got %q", got)
	}
}

// TestJSONLogFormat pins Velero's --log-format=json: logrus's JSONFormatter with the keys sorted,
// the error at "error.message" (Velero's logrus.ErrorKey for JSON), & < > escaped as \u0026..., and
// a text logger in the same process still writing "error".
func TestJSONLogFormat(t *testing.T) {
	var buf, text bytes.Buffer
	log := NewLoggerWithFormat(&buf, LogFormatJSON).WithTime(stamp).WithField("controller", controllerName).WithField(controllerName, "velero/default")
	err := &locatedError{err: &rpcError{errors.New("GET https://labstorage.blob.core.windows.net/velero?a=1&b=2\nRESPONSE 404: 404 The specified container does not exist.\nERROR CODE: ContainerNotFound")},
		file: objectStoreFile + ":222", function: isValidFunction}
	withError(at(log, 255), err).Error("fail to validate backup store")
	at(log, 231).Info("BackupStorageLocations is valid, marking as available")
	want := `{"backup-storage-location":"velero/default","controller":"backup-storage-location","error.file":"/go/src/github.com/vmware-tanzu/velero/pkg/persistence/object_store.go:222","error.function":"github.com/vmware-tanzu/velero/pkg/persistence.(*objectBackupStore).IsValid","error.message":"rpc error: code = Unknown desc = GET https://labstorage.blob.core.windows.net/velero?a=1\u0026b=2\nRESPONSE 404: 404 The specified container does not exist.\nERROR CODE: ContainerNotFound","level":"error","logSource":"pkg/controller/backup_storage_location_controller.go:255","msg":"fail to validate backup store","time":"2026-11-22T21:34:27Z"}` + "\n" +
		`{"backup-storage-location":"velero/default","controller":"backup-storage-location","level":"info","logSource":"pkg/controller/backup_storage_location_controller.go:231","msg":"BackupStorageLocations is valid, marking as available","time":"2026-11-22T21:34:27Z"}` + "\n"
	if buf.String() != want {
		t.Errorf("JSON lines:\n%s\nwant:\n%s", buf.String(), want)
	}
	withError(NewLogger(&text).WithTime(stamp), errors.New("x")).Error("y")
	if !strings.Contains(text.String(), ` error=x`) || strings.Contains(text.String(), "error.message") {
		t.Errorf("the text logger changed: %s", text.String())
	}
}

func TestPodLogFormat(t *testing.T) {
	pod := func(c ...corev1.Container) *corev1.Pod { return &corev1.Pod{Spec: corev1.PodSpec{Containers: c}} }
	tests := []struct {
		name string
		pod  *corev1.Pod
		want string
	}{
		{"no flag", pod(corev1.Container{Name: "velero", Args: []string{"server"}}), LogFormatText},
		{"--log-format=json", pod(corev1.Container{Name: "velero", Args: []string{"server", "--log-format=json"}}), LogFormatJSON},
		{"--log-format json in the command", pod(corev1.Container{Name: "velero", Command: []string{"/velero", "server", "--log-format", "json"}}), LogFormatJSON},
		{"another container's flag", pod(corev1.Container{Name: "geneva", Args: []string{"--log-format=json"}}, corev1.Container{Name: "velero"}), LogFormatText},
		{"an unknown format is Velero's default", pod(corev1.Container{Name: "velero", Args: []string{"--log-format=xml"}}), LogFormatText},
	}
	for _, tt := range tests {
		if got := PodLogFormat(tt.pod); got != tt.want {
			t.Errorf("%s: %s, want %s", tt.name, got, tt.want)
		}
	}
}
