// Command lab-pvgen creates (or deletes) many PersistentVolumes in the lab, in parallel through
// client-go, for the preflight benchmark: a mix of every class preflight tells apart.
//
//	lab-pvgen --kubeconfig K --count 20000 [--prefix bench-pv] [--workers 32]
//	lab-pvgen --kubeconfig K --delete [--prefix bench-pv]
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
)

// benchLabel marks the generated volumes so that --delete removes exactly them.
const benchLabel = "aksbackup.lab/pvgen"

func main() {
	kubeconfig := flag.String("kubeconfig", os.Getenv("KUBECONFIG"), "kubeconfig of the lab")
	count := flag.Int("count", 20000, "volumes to create")
	prefix := flag.String("prefix", "bench-pv", "name prefix, also the label value")
	workers := flag.Int("workers", 32, "parallel creates")
	del := flag.Bool("delete", false, "delete the volumes with this prefix instead")
	flag.Parse()
	if err := run(*kubeconfig, *prefix, *count, *workers, *del); err != nil {
		fmt.Fprintln(os.Stderr, "lab-pvgen:", err)
		os.Exit(1)
	}
}

func run(kubeconfig, prefix string, count, workers int, del bool) error {
	cfg, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	if err != nil {
		return err
	}
	cfg.QPS, cfg.Burst = 2000, 2000
	cfg.ContentType = "application/vnd.kubernetes.protobuf"
	client, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return err
	}
	ctx := context.Background()
	start := time.Now()
	if del {
		selector := metav1.ListOptions{LabelSelector: benchLabel + "=" + prefix}
		// The API server ends a long delete-collection at its request timeout while the deletion goes
		// on, and the pv-protection finalizer makes each delete asynchronous: ask again until none is
		// left, so the next test on this lab does not count them.
		err := wait.PollUntilContextTimeout(ctx, time.Second, 15*time.Minute, true, func(ctx context.Context) (bool, error) {
			left, err := client.CoreV1().PersistentVolumes().List(ctx, metav1.ListOptions{LabelSelector: selector.LabelSelector, Limit: 1})
			if err != nil || len(left.Items) > 0 {
				_ = client.CoreV1().PersistentVolumes().DeleteCollection(ctx, metav1.DeleteOptions{}, selector)
				return false, nil
			}
			return true, nil
		})
		fmt.Printf("deleted the %s volumes in %s\n", prefix, time.Since(start).Round(time.Millisecond))
		return err
	}
	var created, existed atomic.Int64
	var firstErr error
	var once sync.Once
	next := make(chan int)
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for i := range next {
				_, err := client.CoreV1().PersistentVolumes().Create(ctx, volume(prefix, i), metav1.CreateOptions{})
				switch {
				case err == nil:
					created.Add(1)
				case apierrors.IsAlreadyExists(err):
					existed.Add(1)
				default:
					once.Do(func() { firstErr = err })
				}
			}
		})
	}
	for i := range count {
		next <- i
	}
	close(next)
	wg.Wait()
	fmt.Printf("created %d volumes (%d existed) in %s\n", created.Load(), existed.Load(), time.Since(start).Round(time.Millisecond))
	return firstErr
}

// volume i of the mix: 70% Azure Disk CSI, then in-tree disk and file, Azure Files, Blob and NFS CSI.
func volume(prefix string, i int) *corev1.PersistentVolume {
	name := fmt.Sprintf("%s-%05d", prefix, i)
	pv := &corev1.PersistentVolume{
		ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{benchLabel: prefix}},
		Spec: corev1.PersistentVolumeSpec{
			Capacity:                      corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("1Gi")},
			AccessModes:                   []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
			PersistentVolumeReclaimPolicy: corev1.PersistentVolumeReclaimRetain,
			StorageClassName:              "managed-csi",
		},
	}
	csi := func(driver string) *corev1.CSIPersistentVolumeSource {
		return &corev1.CSIPersistentVolumeSource{Driver: driver, VolumeHandle: "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/mc/providers/Microsoft.Compute/disks/" + name}
	}
	switch r := i % 100; {
	case r < 70:
		pv.Spec.CSI = csi("disk.csi.azure.com")
	case r < 78:
		managed := corev1.AzureManagedDisk
		pv.Spec.AzureDisk = &corev1.AzureDiskVolumeSource{DiskName: name, Kind: &managed,
			DataDiskURI: "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/mc/providers/Microsoft.Compute/disks/" + name}
	case r < 84:
		pv.Spec.AzureFile = &corev1.AzureFilePersistentVolumeSource{SecretName: "azure-storage", ShareName: name}
	case r < 92:
		pv.Spec.CSI = csi("file.csi.azure.com")
	case r < 97:
		pv.Spec.CSI = csi("blob.csi.azure.com")
	default:
		pv.Spec.CSI = csi("nfs.csi.k8s.io")
	}
	return pv
}
