// Command connect-twice makes two TLS connections with Go's crypto/tls and one client session
// cache, sends one HTTP request on each and prints both raw responses on stdout.
//
// Usage: connect-twice PORT VERSION SERVER_NAME   (VERSION: 1.2 or 1.3)
//
// Go keys its session cache by ServerName, and resumes TLS 1.2 only through session tickets: a
// server that sends none (stateful mode) never sees a Go client resume TLS 1.2.
package main

import (
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"os"
	"time"
)

func main() {
	if len(os.Args) != 4 {
		fmt.Fprintln(os.Stderr, "usage: connect-twice PORT 1.2|1.3 SERVER_NAME")
		os.Exit(2)
	}
	version := uint16(tls.VersionTLS12)
	if os.Args[2] == "1.3" {
		version = tls.VersionTLS13
	}
	config := &tls.Config{
		ServerName: os.Args[3],
		// The test servers present a self-signed certificate; trust is not what is measured.
		InsecureSkipVerify: true,
		MinVersion:         version,
		MaxVersion:         version,
		ClientSessionCache: tls.NewLRUClientSessionCache(8),
	}
	address := net.JoinHostPort("127.0.0.1", os.Args[1])
	for i := 0; i < 2; i++ {
		if err := exchange(address, config); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
	}
}

// exchange sends one request and reads the response until the server closes, so that a TLS 1.3
// ticket sent after the handshake reaches the session cache before the next connection.
func exchange(address string, config *tls.Config) error {
	raw, err := net.DialTimeout("tcp", address, 10*time.Second)
	if err != nil {
		return err
	}
	conn := tls.Client(raw, config)
	defer conn.Close()
	if err := conn.SetDeadline(time.Now().Add(10 * time.Second)); err != nil {
		return err
	}
	request := "GET / HTTP/1.1\r\nHost: " + config.ServerName + "\r\nConnection: close\r\n\r\n"
	if _, err := io.WriteString(conn, request); err != nil {
		return err
	}
	response, err := io.ReadAll(conn)
	if err != nil && len(response) == 0 {
		return err
	}
	_, err = fmt.Printf("%s\n", response)
	return err
}
