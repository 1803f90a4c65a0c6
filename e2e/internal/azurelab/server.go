package azurelab

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"k8s.io/apimachinery/pkg/util/wait"
)

// Config starts the Azure doubles.
type Config struct {
	ARMPort, EntraPort int
	CertFile, KeyFile  string
	// CAFile is the lab CA, trusted when reading the API server's JWKS.
	CAFile string
	// Issuer is the lab API server's service-account issuer (the cluster's OIDC issuer).
	Issuer       string
	TenantID     string
	AdminSecret  string
	BlobEndpoint string
	// FrontPort serves the blob front; AzuriteURL is Azurite's blob endpoint behind it ("" = no front).
	FrontPort  int
	AzuriteURL string
	// IMDSPort serves the Instance Metadata Service double over plain HTTP (0 = none).
	IMDSPort int
	// ARMAudience, when set (a custom cloud), is the only audience ARM accepts on loopback, and the
	// one Entra issues for its scope; StorageSuffix names the blob hosts of public-host clients.
	ARMAudience, StorageSuffix string
	// AlsoListen are addresses each double listens on besides 127.0.0.1, on the same ports: the lab
	// bridge's gateway, which pods on the lab's real node reach.
	AlsoListen []string
	// ExtraClusters are the subscription's other AKS clusters, kept across scenarios.
	ExtraClusters []ManagedCluster
}

// Run serves ARM and Entra until ctx ends. The ARM server also answers the lab's own endpoints:
// POST /_lab/scenario {"base":"unwired","faults":[...]} and GET /_lab/state.
func Run(ctx context.Context, cfg Config) error {
	pool := x509.NewCertPool()
	ca, err := readFile(cfg.CAFile)
	if err != nil {
		return err
	}
	pool.AppendCertsFromPEM(ca)
	state, err := Scenario("unwired", "", nil, cfg.TenantID, cfg.Issuer, cfg.BlobEndpoint, cfg.AdminSecret)
	if err != nil {
		return err
	}
	state.ExtraClusters = cfg.ExtraClusters
	store := &Store{s: state}
	httpClient := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	entra := &Entra{Store: store, BaseURL: fmt.Sprintf("https://127.0.0.1:%d/", cfg.EntraPort), FetchJWKS: jwksFetcher(httpClient, cfg.Issuer), ARMAudience: cfg.ARMAudience}

	armMux := http.NewServeMux()
	armMux.Handle("/", &ARM{Store: store, Audience: cfg.ARMAudience, StorageSuffix: cfg.StorageSuffix})
	armMux.HandleFunc("/_lab/scenario", func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			Base      string   `json:"base"`
			Namespace string   `json:"namespace"`
			Faults    []string `json:"faults"`
		}
		if err := json.NewDecoder(io.LimitReader(r.Body, 1<<16)).Decode(&req); err != nil {
			http.Error(w, err.Error(), 400)
			return
		}
		next, err := Scenario(req.Base, req.Namespace, req.Faults, cfg.TenantID, cfg.Issuer, cfg.BlobEndpoint, cfg.AdminSecret)
		if err != nil {
			http.Error(w, err.Error(), 400)
			return
		}
		next.ExtraClusters = cfg.ExtraClusters
		store.With(func(s *State) { *s = *next })
		w.WriteHeader(http.StatusNoContent)
	})
	armMux.HandleFunc("/_lab/faults", func(w http.ResponseWriter, r *http.Request) {
		var faults []*Fault
		if err := json.NewDecoder(io.LimitReader(r.Body, 1<<16)).Decode(&faults); err != nil {
			http.Error(w, err.Error(), 400)
			return
		}
		store.With(func(s *State) { s.Faults = faults })
		w.WriteHeader(http.StatusNoContent)
	})
	armMux.HandleFunc("/_lab/state", func(w http.ResponseWriter, r *http.Request) {
		store.With(func(s *State) { writeJSON(w, 200, s) })
	})
	armMux.HandleFunc("/_lab/healthz", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("ok")) })
	// storage-ready answers 200 once Azurite holds the lab's containers, so `up` never hands out a
	// lab whose BSL would fail with ContainerNotFound because Azurite started slowly.
	var storageReady atomic.Bool
	armMux.HandleFunc("/_lab/storage-ready", func(w http.ResponseWriter, _ *http.Request) {
		if !storageReady.Load() && cfg.AzuriteURL != "" {
			http.Error(w, "the lab's blob containers are not created yet", http.StatusServiceUnavailable)
			return
		}
		_, _ = w.Write([]byte("ok"))
	})

	pair, err := tls.LoadX509KeyPair(cfg.CertFile, cfg.KeyFile)
	if err != nil {
		return err
	}
	// Each server gets its own copy: ListenAndServeTLS adds HTTP/2 to the config it is given.
	tlsCfg := &tls.Config{Certificates: []tls.Certificate{pair}, MinVersion: tls.VersionTLS12}
	servers := []*http.Server{
		{Addr: "127.0.0.1:" + strconv.Itoa(cfg.ARMPort), Handler: armMux, TLSConfig: tlsCfg.Clone(), ReadHeaderTimeout: 10 * time.Second},
		{Addr: "127.0.0.1:" + strconv.Itoa(cfg.EntraPort), Handler: entra, TLSConfig: tlsCfg.Clone(), ReadHeaderTimeout: 10 * time.Second},
	}
	if cfg.AzuriteURL != "" {
		target, err := url.Parse(cfg.AzuriteURL)
		if err != nil {
			return err
		}
		front := NewBlobFront(store, target, httpClient.Transport)
		servers = append(servers, &http.Server{Addr: "127.0.0.1:" + strconv.Itoa(cfg.FrontPort), Handler: front, TLSConfig: tlsCfg.Clone(), ReadHeaderTimeout: 10 * time.Second})
		// Azurite starts empty: create the lab's containers with a storage token of the admin app.
		go func() {
			if err := createContainers(ctx, httpClient, entra, cfg, store); err != nil {
				log.Printf("creating the lab's blob containers: %v", err)
				return
			}
			storageReady.Store(true)
		}()
	}
	var plain []*http.Server
	if cfg.IMDSPort != 0 {
		plain = append(plain, &http.Server{Addr: "127.0.0.1:" + strconv.Itoa(cfg.IMDSPort), Handler: IMDS{}, ReadHeaderTimeout: 10 * time.Second})
	}
	hosts := append([]string{"127.0.0.1"}, cfg.AlsoListen...)
	errs := make(chan error, (len(servers)+len(plain))*len(hosts))
	var wg sync.WaitGroup
	serve := func(srv *http.Server, useTLS bool) {
		_, port, _ := net.SplitHostPort(srv.Addr)
		for _, host := range hosts {
			ln, err := net.Listen("tcp", net.JoinHostPort(host, port))
			if err != nil {
				errs <- err
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				var err error
				if useTLS {
					err = srv.ServeTLS(ln, "", "")
				} else {
					err = srv.Serve(ln)
				}
				if err != nil && !errors.Is(err, http.ErrServerClosed) {
					errs <- err
				}
			}()
		}
	}
	for _, srv := range servers {
		serve(srv, true)
	}
	for _, srv := range plain {
		serve(srv, false)
	}
	servers = append(servers, plain...)
	select {
	case <-ctx.Done():
	case err := <-errs:
		return err
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	for _, srv := range servers {
		_ = srv.Shutdown(shutdown)
	}
	wg.Wait()
	return nil
}

// createContainers retries until Azurite answers (it can take tens of seconds to start on a loaded
// machine) or ctx ends.
func createContainers(ctx context.Context, client *http.Client, entra *Entra, cfg Config, store *Store) error {
	token, err := entra.issue(cfg.TenantID, "https://storage.azure.com", AdminClientID, AdminObjectID)
	if err != nil {
		return err
	}
	var containers []string
	store.With(func(s *State) { containers = append(containers, s.Accounts[0].Containers...) })
	for _, c := range containers {
		var last error
		err := wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, 3*time.Minute, true, func(ctx context.Context) (bool, error) {
			req, _ := http.NewRequestWithContext(ctx, http.MethodPut, strings.TrimRight(cfg.AzuriteURL, "/")+"/devstoreaccount1/"+c+"?restype=container", nil)
			req.Header.Set("Authorization", "Bearer "+token)
			req.Header.Set("x-ms-version", "2021-08-06")
			resp, err := client.Do(req)
			if err != nil {
				last = err
				return false, nil
			}
			resp.Body.Close()
			last = fmt.Errorf("azurite answered %d", resp.StatusCode)
			return resp.StatusCode == http.StatusCreated || resp.StatusCode == http.StatusConflict, nil
		})
		if err != nil {
			return fmt.Errorf("container %s: %w (last: %v)", c, err, last)
		}
	}
	return nil
}

// jwksFetcher reads the API server's keys through its OIDC discovery document, as Entra does.
func jwksFetcher(client *http.Client, issuer string) func(context.Context) ([]byte, error) {
	get := func(ctx context.Context, url string) ([]byte, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return nil, err
		}
		resp, err := client.Do(req)
		if err != nil {
			return nil, err
		}
		defer resp.Body.Close()
		if resp.StatusCode != 200 {
			return nil, fmt.Errorf("GET %s: %d", url, resp.StatusCode)
		}
		return io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	}
	return func(ctx context.Context) ([]byte, error) {
		body, err := get(ctx, issuer+"/.well-known/openid-configuration")
		if err != nil {
			return nil, err
		}
		var doc struct {
			JWKSURI string `json:"jwks_uri"`
		}
		if err := json.Unmarshal(body, &doc); err != nil {
			return nil, err
		}
		return get(ctx, doc.JWKSURI)
	}
}
