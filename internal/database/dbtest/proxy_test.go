package dbtest

import (
	"bufio"
	"net"
	"testing"
	"time"
)

func echoServer(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				buf := make([]byte, 1024)
				for {
					n, err := c.Read(buf)
					if err != nil {
						return
					}
					c.Write(buf[:n])
				}
			}()
		}
	}()
	return ln.Addr().String()
}

func TestProxyPauseHoldsBytesUntilResume(t *testing.T) {
	p := NewProxy(t, echoServer(t))
	c, err := net.Dial("tcp", p.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	r := bufio.NewReader(c)
	roundTrip := func(msg string, wait time.Duration) (string, error) {
		if _, err := c.Write([]byte(msg + "\n")); err != nil {
			return "", err
		}
		c.SetReadDeadline(time.Now().Add(wait))
		return r.ReadString('\n')
	}
	if got, err := roundTrip("one", 5*time.Second); err != nil || got != "one\n" {
		t.Fatalf("before pause: %q, %v", got, err)
	}
	p.Pause()
	if got, err := roundTrip("two", 200*time.Millisecond); err == nil {
		t.Fatalf("paused proxy delivered %q", got)
	}
	p.Resume()
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if got, err := r.ReadString('\n'); err != nil || got != "two\n" {
		t.Fatalf("after resume: %q, %v", got, err)
	}
}

func TestProxyPauseOn(t *testing.T) {
	p := NewProxy(t, echoServer(t))
	c, err := net.Dial("tcp", p.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	r := bufio.NewReader(c)
	p.PauseOn("SELECT x")
	c.Write([]byte("SELECT y\n"))
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if got, err := r.ReadString('\n'); err != nil || got != "SELECT y\n" {
		t.Fatalf("before the trigger: %q, %v", got, err)
	}
	c.Write([]byte("SELECT x FROM t\n"))
	c.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
	if got, err := r.ReadString('\n'); err == nil {
		t.Fatalf("the triggering chunk was delivered: %q", got)
	}
	p.Resume()
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if got, err := r.ReadString('\n'); err != nil || got != "SELECT x FROM t\n" {
		t.Fatalf("after resume: %q, %v", got, err)
	}
	// Disarmed: the same text passes now.
	c.Write([]byte("SELECT x\n"))
	if got, err := r.ReadString('\n'); err != nil || got != "SELECT x\n" {
		t.Fatalf("after the trigger fired: %q, %v", got, err)
	}
}
