// Package azurecheck checks the Azure half of a backup setup (cluster, extension, managed identity,
// federated credentials, roles, storage) and reports findings from the shared catalog. It also plans the
// Azure phases of `identity configure`.
package azurecheck
