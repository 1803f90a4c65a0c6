package kube

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"time"
)

// DefaultRequestTimeout is how long each request waits for the API server to start answering when
// the user gave no --request-timeout. It bounds the wait for the response headers only, so a server
// that accepts the connection and never answers fails in time, while a long log stream that has
// started is not cut off (kubectl's --request-timeout would cut it).
const DefaultRequestTimeout = 30 * time.Second

// RequestTimeoutError reports a request the server accepted and did not answer in time.
type RequestTimeoutError struct{ After time.Duration }

func (e *RequestTimeoutError) Error() string {
	return fmt.Sprintf("no response within the %s request timeout", e.After)
}

// Timeout marks the error as a timeout for net.Error checks (kube.Explain, client-go).
func (e *RequestTimeoutError) Timeout() bool { return true }

// Temporary is part of net.Error.
func (e *RequestTimeoutError) Temporary() bool { return false }

// headerTimeout cancels a request whose response headers do not arrive within after.
type headerTimeout struct {
	next  http.RoundTripper
	after time.Duration
}

// withHeaderTimeout wraps a transport so that every request waits at most after for its answer.
func withHeaderTimeout(after time.Duration) func(http.RoundTripper) http.RoundTripper {
	return func(next http.RoundTripper) http.RoundTripper { return &headerTimeout{next: next, after: after} }
}

func (h *headerTimeout) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx, cancel := context.WithCancel(req.Context())
	timer := time.AfterFunc(h.after, cancel)
	resp, err := h.next.RoundTrip(req.WithContext(ctx))
	if !timer.Stop() {
		// The timer fired: whatever came back is cut off by the cancel.
		if err == nil {
			resp.Body.Close()
		}
		cancel()
		if req.Context().Err() != nil {
			return nil, req.Context().Err() // the caller's own deadline came first
		}
		return nil, &RequestTimeoutError{After: h.after}
	}
	if err != nil {
		cancel()
		return nil, err
	}
	resp.Body = &cancelOnClose{ReadCloser: resp.Body, cancel: cancel}
	return resp, nil
}

// cancelOnClose releases the request's context once the caller is done with the body.
type cancelOnClose struct {
	io.ReadCloser
	cancel context.CancelFunc
}

func (c *cancelOnClose) Close() error {
	err := c.ReadCloser.Close()
	c.cancel()
	return err
}
