package main

import (
	"errors"
	"math/rand/v2"
	"net"
	"os"
	"strconv"
	"strings"
)

// ports hands out loopback addresses whose ports were free a moment ago,
// each once. They lie below the kernel's ephemeral range, so that no
// outgoing connection and no listener on port 0 (of the other programs on
// the machine) takes one between the check and the member's start.
type ports struct {
	used map[int]bool
}

func (p *ports) addr() (string, error) {
	if p.used == nil {
		p.used = map[int]bool{}
	}
	low := 32768
	if b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range"); err == nil {
		if f := strings.Fields(string(b)); len(f) == 2 {
			if n, err := strconv.Atoi(f[0]); err == nil && n > 12000 {
				low = n
			}
		}
	}
	for range 1000 {
		// Above 10000: clear of the usual fixed ports (innonet's demo
		// uses 7101-8208, etcd 2379-2380).
		port := 10000 + rand.IntN(low-10000)
		if p.used[port] {
			continue
		}
		l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
		if err != nil {
			continue
		}
		l.Close()
		p.used[port] = true
		return l.Addr().String(), nil
	}
	return "", errors.New("no free port on 127.0.0.1 below the ephemeral range")
}
