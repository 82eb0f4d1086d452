package node

import (
	"net/http"
	"net/http/pprof"
)

// pprofHandler serves Go's runtime profiles (net/http/pprof) under
// /debug/pprof/, on a mux of its own: importing net/http/pprof registers
// them on http.DefaultServeMux too, which innonet never serves.
func pprofHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	return mux
}
