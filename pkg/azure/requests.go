package azure

import (
	"net/http"
	"sync/atomic"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
)

var requestsSent atomic.Int64

// RequestsSent is how many ARM requests (retries included) this process has sent, for doctor -v and
// the benchmarks.
func RequestsSent() int64 { return requestsSent.Load() }

type countRequests struct{}

func (countRequests) Do(req *policy.Request) (*http.Response, error) {
	requestsSent.Add(1)
	return req.Next()
}
