package mockserver_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/truewatch-labs/marketplace-go/internal/routes"
	"github.com/truewatch-labs/marketplace-go/mockserver"
)

// dribble opens a raw connection to srv, writes head at once, then one
// byte of drip every interval until the connection fails or stop closes.
func dribble(t *testing.T, srv *mockserver.Server, head, drip string, interval time.Duration) (net.Conn, chan struct{}) {
	t.Helper()
	c, err := net.Dial("tcp", srv.Addr())
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Close() })
	_, err = io.WriteString(c, head)
	require.NoError(t, err)
	stop := make(chan struct{})
	go func() {
		tick := time.NewTicker(interval)
		defer tick.Stop()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			case <-tick.C:
			}
			if _, err := io.WriteString(c, drip[i%len(drip):i%len(drip)+1]); err != nil {
				return
			}
		}
	}()
	t.Cleanup(func() {
		select {
		case <-stop:
		default:
			close(stop)
		}
	})
	return c, stop
}

// connEnds reads c until the server closes it, within limit, and returns
// the status line of the answer it sent, if any.
func connEnds(t *testing.T, c net.Conn, limit time.Duration) string {
	t.Helper()
	require.NoError(t, c.SetReadDeadline(time.Now().Add(limit)))
	br := bufio.NewReader(c)
	status, _ := br.ReadString('\n')
	_, err := io.Copy(io.Discard, br) // nil at EOF: the server closed it
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		t.Errorf("the server did not close the connection within %s", limit)
	}
	return strings.TrimSpace(status)
}

// TestSlowBodyIsCut: a client that sends its headers and then dribbles its
// body holds a connection no longer than the read timeout.
func TestSlowBodyIsCut(t *testing.T) {
	srv := mockserver.Start(t, mockserver.WithTimeouts(mockserver.Timeouts{Read: 300 * time.Millisecond}))
	head := "POST " + routes.MockBillingPrefix + routes.SendCode + " HTTP/1.1\r\nHost: " + srv.Addr() +
		"\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n"
	c, _ := dribble(t, srv, head, `{"email":"ada@example.com"`, 20*time.Millisecond)
	status := connEnds(t, c, 5*time.Second)
	if status != "" {
		assert.Regexp(t, `^HTTP/1\.1 4\d\d `, status, "a cut body is the client's fault")
	}
	assert.Empty(t, srv.Outbox(), "nothing was done")
}

// TestSlowHeadersAreCut: the same for headers, under the header timeout.
func TestSlowHeadersAreCut(t *testing.T) {
	srv := mockserver.Start(t, mockserver.WithTimeouts(mockserver.Timeouts{ReadHeader: 300 * time.Millisecond}))
	c, _ := dribble(t, srv, "GET /_mock/health HTTP/1.1\r\nHost: "+srv.Addr()+"\r\n", "X-Slow: aaaaaaaa\r\n", 20*time.Millisecond)
	connEnds(t, c, 5*time.Second)
}

// TestIdleConnectionsAreClosed: a keep-alive connection that sends nothing
// more is closed after the idle timeout.
func TestIdleConnectionsAreClosed(t *testing.T) {
	srv := mockserver.Start(t, mockserver.WithTimeouts(mockserver.Timeouts{Idle: 300 * time.Millisecond}))
	c, err := net.Dial("tcp", srv.Addr())
	require.NoError(t, err)
	defer func() { _ = c.Close() }()
	_, err = io.WriteString(c, "GET /_mock/health HTTP/1.1\r\nHost: "+srv.Addr()+"\r\n\r\n")
	require.NoError(t, err)
	require.NoError(t, c.SetReadDeadline(time.Now().Add(5*time.Second)))
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	require.NoError(t, err)
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.False(t, resp.Close, "kept alive")
	connEnds(t, c, 5*time.Second)
}

// TestFaultDelayOutlastsWriteTimeout: a fault's delay extends the write
// deadline of the request it holds, so the delayed answer arrives although
// the delay is longer than the write timeout.
func TestFaultDelayOutlastsWriteTimeout(t *testing.T) {
	srv := mockserver.Start(t, mockserver.WithTimeouts(mockserver.Timeouts{Write: 100 * time.Millisecond, Read: 100 * time.Millisecond}))
	path := routes.MockBillingPrefix + routes.SendCode
	_, err := srv.InjectFault(mockserver.Fault{Path: path, Delay: 400 * time.Millisecond, AfterHandler: true, Status: 502})
	require.NoError(t, err)
	resp, err := srv.HTTPClient().Post(srv.URL()+path, "application/json",
		strings.NewReader(`{"email":"ada@example.com","purpose":"register"}`))
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusBadGateway, resp.StatusCode)
	assert.Len(t, srv.Outbox(), 1, "the handler behind the fault read the body after the delay")
}

// TestCloseIsBounded: Close returns within its grace period while one
// request sits in a one-hour fault delay and another dribbles its body;
// the delayed request is answered 503 and the slow one is cut.
func TestCloseIsBounded(t *testing.T) {
	const grace = 2 * time.Second
	srv, err := mockserver.New(mockserver.WithTimeouts(mockserver.Timeouts{ShutdownGrace: grace, Read: time.Hour, Write: time.Hour}))
	require.NoError(t, err)
	t.Cleanup(srv.Close)
	_, err = srv.InjectFault(mockserver.Fault{Path: "/v3/auth/domains", Delay: time.Hour})
	require.NoError(t, err)

	delayed := make(chan int, 1)
	go func() {
		resp, err := http.Get(srv.URL() + "/v3/auth/domains")
		if err != nil {
			delayed <- 0
			return
		}
		resp.Body.Close()
		delayed <- resp.StatusCode
	}()
	head := "POST " + routes.MockBillingPrefix + routes.SendCode + " HTTP/1.1\r\nHost: " + srv.Addr() +
		"\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n"
	slow, _ := dribble(t, srv, head, `{"email":"ada@example.com"`, 20*time.Millisecond)
	require.Eventually(t, func() bool { return srv.FaultHits()[0] == 1 }, 5*time.Second, 5*time.Millisecond)
	time.Sleep(100 * time.Millisecond) // the slow body is being read

	closed := make(chan time.Duration, 1)
	start := time.Now()
	go func() { srv.Close(); closed <- time.Since(start) }()
	select {
	case d := <-closed:
		assert.Less(t, d, grace, "Close waited neither for the delay nor for the slow body")
	case <-time.After(grace + 5*time.Second):
		t.Fatal("Close hangs")
	}
	select {
	case status := <-delayed:
		assert.Equal(t, http.StatusServiceUnavailable, status, "the delayed request is told the mock is going away")
	case <-time.After(5 * time.Second):
		t.Fatal("the delayed request was never answered")
	}
	connEnds(t, slow, 5*time.Second)
	_, err = net.DialTimeout("tcp", srv.Addr(), time.Second)
	assert.Error(t, err, "the listener is closed")
}

// TestCloseInProcess: without a listener, Close still ends fault delays.
func TestCloseInProcess(t *testing.T) {
	srv, err := mockserver.New(mockserver.WithoutListener())
	require.NoError(t, err)
	_, err = srv.InjectFault(mockserver.Fault{Path: "/v3/auth/domains", Delay: time.Hour})
	require.NoError(t, err)
	done := make(chan int, 1)
	go func() {
		resp, err := srv.HTTPClient().Get(srv.URL() + "/v3/auth/domains")
		if err != nil {
			done <- 0
			return
		}
		resp.Body.Close()
		done <- resp.StatusCode
	}()
	require.Eventually(t, func() bool { return srv.FaultHits()[0] == 1 }, 5*time.Second, 5*time.Millisecond)
	srv.Close()
	select {
	case status := <-done:
		assert.Equal(t, http.StatusServiceUnavailable, status)
	case <-time.After(5 * time.Second):
		t.Fatal("the delay did not end on Close")
	}
}

func TestWithTimeoutsValidates(t *testing.T) {
	_, err := mockserver.New(mockserver.WithoutListener(), mockserver.WithTimeouts(mockserver.Timeouts{Read: -1}))
	assert.Error(t, err)
	_, err = mockserver.New(mockserver.WithoutListener(), mockserver.WithOutboxLimits(mockserver.OutboxLimits{Total: -1}))
	assert.Error(t, err)
}

// TestHTTPClientReusesConnections: 64 concurrent callers sending many
// requests through HTTPClient reuse about 64 connections instead of
// opening a new one for most requests (net/http keeps two idle per host
// by default).
func TestHTTPClientReusesConnections(t *testing.T) {
	srv, err := mockserver.New()
	require.NoError(t, err)
	t.Cleanup(srv.Close)
	hc := srv.HTTPClient()
	const callers, each = 64, 25
	var fresh atomic.Int64
	trace := &httptrace.ClientTrace{GotConn: func(i httptrace.GotConnInfo) {
		if !i.Reused {
			fresh.Add(1)
		}
	}}
	url := srv.BillingURL() + routes.GetSubscription + "?huaweiAccountId=" + mockserver.DemoHuaweiAccountID +
		"&instanceId=" + mockserver.DemoInstanceID
	var wg sync.WaitGroup
	errs := make(chan error, callers)
	for range callers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range each {
				req, err := http.NewRequestWithContext(httptrace.WithClientTrace(context.Background(), trace), http.MethodGet, url, nil)
				if err != nil {
					errs <- err
					return
				}
				resp, err := hc.Do(req)
				if err != nil {
					errs <- err
					return
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				_ = resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					errs <- fmt.Errorf("HTTP %d", resp.StatusCode)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	// A few more than the callers may be dialled while a connection is on
	// its way back to the pool; without the pool it is most of the 1,600.
	assert.LessOrEqual(t, fresh.Load(), int64(2*callers), "new connections for %d requests", callers*each)
	t.Logf("%d new connections for %d requests from %d callers", fresh.Load(), callers*each, callers)
}
