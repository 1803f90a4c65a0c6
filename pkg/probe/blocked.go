package probe

// The workload identity webhook's variables, as the verifier reads them.
const (
	tenantIDEnv      = "AZURE_TENANT_ID"
	clientIDEnv      = "AZURE_CLIENT_ID"
	federatedFileEnv = "AZURE_FEDERATED_TOKEN_FILE"
	authorityHostEnv = "AZURE_AUTHORITY_HOST"
)

// Blocked is the result of a probe that could not start: the steps so far, then every other skipped.
func Blocked(cfg Config, steps ...Step) *Result {
	res := &Result{RunID: cfg.RunID, Mode: cfg.Mode, Target: cfg.Target, Blob: BlobName(cfg.Target.Prefix, cfg.RunID)}
	res.Steps = append(res.Steps, steps...)
	for _, n := range []string{StepExchange, StepList, StepPut, StepGet, StepDelete, StepConfirmGone} {
		res.Steps = append(res.Steps, Step{Name: n, Status: StatusSkipped})
	}
	return res
}
