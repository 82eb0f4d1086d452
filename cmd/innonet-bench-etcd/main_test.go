package main

import (
	"io"
	"strings"
	"testing"
)

func TestParseFlags(t *testing.T) {
	c, err := parseFlags([]string{"-short", "-writes", "500"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if c.writes1 != 200 || c.writes != 500 || c.reads != 5000 || c.rounds != 3 {
		t.Errorf("-short -writes 500: got writes1 %d writes %d reads %d rounds %d, want 200 500 5000 3", c.writes1, c.writes, c.reads, c.rounds)
	}
	c, err = parseFlags([]string{"-serve-flag=--pprof", "-serve-flag", "--raft-profile=lan"}, io.Discard)
	if err != nil || strings.Join(c.serveFlags, " ") != "--pprof --raft-profile=lan" {
		t.Errorf("-serve-flag twice: got %q, %v", c.serveFlags, err)
	}
	for _, args := range [][]string{{"-rounds", "0"}, {"-conns", "65"}, {"extra"}, {"-serve-flag", "pprof"}} {
		if _, err := parseFlags(args, io.Discard); err == nil {
			t.Errorf("%q: no error", args)
		}
	}
}

func TestSelectCells(t *testing.T) {
	cfg, err := parseFlags(nil, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	all, err := selectCells(cfg)
	if err != nil || len(all) != 5 {
		t.Fatalf("all cells: got %d, %v; want 5", len(all), err)
	}
	cfg.only = "read-linear-64, write-leader-1"
	got, err := selectCells(cfg)
	if err != nil || len(got) != 2 || got[0].Name != "read-linear-64" || got[1].Clients != 1 {
		t.Errorf("-cells: got %+v, %v", got, err)
	}
	cfg.only = "write-everywhere"
	if _, err := selectCells(cfg); err == nil || !strings.Contains(err.Error(), "write-leader-64") {
		t.Errorf("unknown cell: got %v, want an error naming the cells", err)
	}
}
