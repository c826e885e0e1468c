package web_test

import (
	"bytes"
	"compress/gzip"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/tollgate-dev/tollgate/web"
)

func get(t *testing.T, h http.Handler, method, path, enc string) *http.Response {
	t.Helper()
	req := httptest.NewRequest(method, path, nil)
	if enc != "" {
		req.Header.Set("Accept-Encoding", enc)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	return w.Result()
}

func body(t *testing.T, r *http.Response) []byte {
	t.Helper()
	b, err := io.ReadAll(r.Body)
	if err != nil {
		t.Fatal(err)
	}
	if r.Header.Get("Content-Encoding") == "gzip" {
		zr, err := gzip.NewReader(bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		if b, err = io.ReadAll(zr); err != nil {
			t.Fatal(err)
		}
	}
	return b
}

// The page is served with a CSP that forbids inline script, names its
// assets by content hash, and serves them for good, compressed.
func TestPageAndAssets(t *testing.T) {
	h := web.Handler()
	r := get(t, h, "GET", "/", "")
	page := body(t, r)
	if r.StatusCode != 200 || !strings.HasPrefix(r.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("/: %d %s", r.StatusCode, r.Header.Get("Content-Type"))
	}
	csp := r.Header.Get("Content-Security-Policy")
	if !strings.Contains(csp, "script-src 'self';") || strings.Contains(csp, "unsafe") || !strings.Contains(csp, "connect-src 'self'") || !strings.Contains(csp, "frame-ancestors 'none'") {
		t.Fatalf("CSP %q", csp)
	}
	if r.Header.Get("Cache-Control") != "no-cache" || r.Header.Get("X-Content-Type-Options") != "nosniff" {
		t.Fatalf("page headers %v", r.Header)
	}
	for _, tag := range regexp.MustCompile(`<script[^>]*>`).FindAll(page, -1) {
		if !bytes.Contains(tag, []byte(" src=")) {
			t.Fatalf("the page has an inline script: %s", tag)
		}
	}
	if regexp.MustCompile(`\son[a-z]+=`).Match(page) {
		t.Fatalf("the page has an inline event handler:\n%s", page)
	}
	assets := regexp.MustCompile(`(?:src|href)="(/assets/[^"]+)"`).FindAllSubmatch(page, -1)
	if len(assets) < 2 {
		t.Fatalf("the page names %d assets:\n%s", len(assets), page)
	}
	for _, m := range assets {
		path := string(m[1])
		if !regexp.MustCompile(`^/assets/[\w-]+-[\w-]{8}\.(js|css)$`).MatchString(path) {
			t.Fatalf("asset %s is not named by a content hash", path)
		}
		plain := get(t, h, "GET", path, "")
		raw := body(t, plain)
		zipped := get(t, h, "GET", path, "br, gzip;q=0.8")
		if plain.StatusCode != 200 || zipped.StatusCode != 200 {
			t.Fatalf("%s: %d, %d", path, plain.StatusCode, zipped.StatusCode)
		}
		if plain.Header.Get("Content-Encoding") != "" || zipped.Header.Get("Content-Encoding") != "gzip" {
			t.Fatalf("%s: encodings %q and %q", path, plain.Header.Get("Content-Encoding"), zipped.Header.Get("Content-Encoding"))
		}
		if !bytes.Equal(body(t, zipped), raw) {
			t.Fatalf("%s: the gzip form is not the file", path)
		}
		if cc := plain.Header.Get("Cache-Control"); !strings.Contains(cc, "immutable") {
			t.Fatalf("%s: Cache-Control %q", path, cc)
		}
		want := map[bool]string{true: "text/javascript", false: "text/css"}[strings.HasSuffix(path, ".js")]
		if ct := plain.Header.Get("Content-Type"); !strings.HasPrefix(ct, want) {
			t.Fatalf("%s: Content-Type %q, want %s", path, ct, want)
		}
		if head := get(t, h, "HEAD", path, ""); head.StatusCode != 200 || len(body(t, head)) != 0 {
			t.Fatalf("HEAD %s: %d", path, head.StatusCode)
		}
	}
	for _, path := range []string{"/assets/missing-00000000.js", "/dist/index.html", "/web.go", "/assets/", "/../web.go"} {
		if r := get(t, h, "GET", path, ""); r.StatusCode != 404 {
			t.Fatalf("%s: %d, want 404", path, r.StatusCode)
		}
	}
}
