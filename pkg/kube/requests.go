package kube

import (
	"net/http"
	"sync/atomic"
)

var requestsSent atomic.Int64

// RequestsSent is how many requests this process has sent to API servers, for doctor -v and the
// benchmarks.
func RequestsSent() int64 { return requestsSent.Load() }

func countRequests(rt http.RoundTripper) http.RoundTripper {
	return roundTripFunc(func(req *http.Request) (*http.Response, error) {
		requestsSent.Add(1)
		return rt.RoundTrip(req)
	})
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(req *http.Request) (*http.Response, error) { return f(req) }
