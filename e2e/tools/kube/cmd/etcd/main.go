// Command etcd is etcd v3.6 built from its Go module; Debian's etcd is older than Kubernetes 1.34 accepts.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() { etcdmain.Main(os.Args) }
