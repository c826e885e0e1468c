// Package web serves the node's web page: the Vite build in dist/,
// committed and embedded so the binary needs nothing else. The page talks
// to the node only through the Connect API, from the browser.
//
// The sources are in src/ (Preact, connect-web, uPlot, viem); `npm ci &&
// npm run build` in this directory rebuilds dist/ byte for byte, which CI
// checks.
package web

import (
	"bytes"
	"compress/gzip"
	"embed"
	"io/fs"
	"net/http"
	"path"
	"strings"
	"sync"
)

//go:embed all:dist
var dist embed.FS

// CSP is the page's Content-Security-Policy: scripts, styles and requests
// from this origin only, no inline script, no frames, no forms posting
// elsewhere.
const CSP = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; " +
	"font-src 'self'; manifest-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

var contentTypes = map[string]string{
	".html":  "text/html; charset=utf-8",
	".js":    "text/javascript; charset=utf-8",
	".css":   "text/css; charset=utf-8",
	".svg":   "image/svg+xml",
	".png":   "image/png",
	".woff2": "font/woff2",
}

// asset is one built file, kept with its gzip form.
type asset struct {
	body, gz    []byte
	contentType string
}

var (
	loadOnce sync.Once
	assets   map[string]asset // by URL path
)

func load() {
	assets = map[string]asset{}
	fs.WalkDir(dist, "dist", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := dist.ReadFile(p)
		if err != nil {
			return err
		}
		// Fixed types, not the host's MIME tables: some map .js to
		// text/plain, which nosniff would then refuse to run.
		ct, ok := contentTypes[path.Ext(p)]
		if !ok {
			ct = http.DetectContentType(b)
		}
		var gz bytes.Buffer
		w, _ := gzip.NewWriterLevel(&gz, gzip.BestCompression)
		w.Write(b)
		w.Close()
		a := asset{body: b, contentType: ct}
		if gz.Len() < len(b) {
			a.gz = gz.Bytes()
		}
		assets[strings.TrimPrefix(p, "dist")] = a
		return nil
	})
}

// Handler serves the page at / and its content-hashed assets under
// /assets/; anything else is not found.
func Handler() http.Handler {
	loadOnce.Do(load)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name := r.URL.Path
		if name == "/" {
			name = "/index.html"
		}
		a, ok := assets[name]
		if !ok || name != "/index.html" && !strings.HasPrefix(name, "/assets/") {
			http.NotFound(w, r)
			return
		}
		h := w.Header()
		h.Set("Content-Type", a.contentType)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Vary", "Accept-Encoding")
		if name == "/index.html" {
			// The page names its assets by content hash, so only it must
			// be fetched again to see a new build.
			h.Set("Content-Security-Policy", CSP)
			h.Set("X-Frame-Options", "DENY")
			h.Set("Cache-Control", "no-cache")
		} else {
			h.Set("Cache-Control", "public, max-age=31536000, immutable")
		}
		body := a.body
		if a.gz != nil && acceptsGzip(r) {
			h.Set("Content-Encoding", "gzip")
			body = a.gz
		}
		if r.Method == http.MethodHead {
			return
		}
		w.Write(body)
	})
}

func acceptsGzip(r *http.Request) bool {
	for _, part := range strings.Split(r.Header.Get("Accept-Encoding"), ",") {
		if strings.TrimSpace(strings.SplitN(part, ";", 2)[0]) == "gzip" {
			return true
		}
	}
	return false
}

//go:generate sh -c "cd .. && go tool buf generate --template buf.gen.web.yaml"
//go:generate npm run --silent build
