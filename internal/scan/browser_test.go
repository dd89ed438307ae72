package scan

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"html/template"
	"image"
	"image/color"
	"image/jpeg"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tally-id/tally/web"
)

// This test runs web/static/scan.js in headless Chromium, its camera a
// fake device playing a synthetic photograph of a card: the script opens
// the camera, sends frames to a server that reads them with this package,
// fills the form with the text and submits it.

// catalogue is the English message catalogue, as templates see it.
type catalogue map[string]string

func (c catalogue) Get(key string) string { return c[key] }

// writeY4M writes img as a one-frame YUV 4:2:0 video, the file format
// Chromium's fake camera plays in a loop.
func writeY4M(t *testing.T, path string, img image.Image) {
	t.Helper()
	b := img.Bounds()
	w, h := b.Dx()&^1, b.Dy()&^1
	var buf bytes.Buffer
	fmt.Fprintf(&buf, "YUV4MPEG2 W%d H%d F30:1 Ip A1:1 C420jpeg\nFRAME\n", w, h)
	ys := make([]byte, w*h)
	us := make([]byte, w*h/4)
	vs := make([]byte, w*h/4)
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			r, g, bl, _ := img.At(b.Min.X+x, b.Min.Y+y).RGBA()
			yy, cb, cr := color.RGBToYCbCr(uint8(r>>8), uint8(g>>8), uint8(bl>>8))
			ys[y*w+x] = yy
			if x%2 == 0 && y%2 == 0 {
				us[(y/2)*(w/2)+x/2] = cb
				vs[(y/2)*(w/2)+x/2] = cr
			}
		}
	}
	buf.Write(ys)
	buf.Write(us)
	buf.Write(vs)
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestScanScriptInChromium(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a browser")
	}
	browser := ""
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			browser = p
			break
		}
	}
	if browser == "" {
		t.Skip("no Chromium (Debian: apt-get install chromium); scan.js is not run")
	}
	cards := newTestCards(t)
	dir := t.TempDir()
	frame := photograph(t, cards.texts[0], shot{name: "browser", frameW: 640, frameH: 480, cardW: 560, cx: 0.5, cy: 0.5, angle: 7, blur: 0.6, jpeg: 92})
	img, err := jpeg.Decode(bytes.NewReader(frame))
	if err != nil {
		t.Fatal(err)
	}
	video := filepath.Join(dir, "card.y4m")
	writeY4M(t, video, img)

	// The scanner partial, rendered with the English catalogue.
	files := web.FS
	part, err := fs.ReadFile(files, "templates/_scan.html")
	if err != nil {
		t.Fatal(err)
	}
	enJSON, err := fs.ReadFile(files, "messages/en.json")
	if err != nil {
		t.Fatal(err)
	}
	var en catalogue
	if err := json.Unmarshal(enJSON, &en); err != nil {
		t.Fatal(err)
	}
	tmpl := template.Must(template.New("page").Parse(string(part)))
	var scanner bytes.Buffer
	// Test harness only: the frame URL of this server, and a click on the
	// start button once the script has shown it (a person's tap).
	if err := tmpl.ExecuteTemplate(&scanner, "scanner", map[string]any{"T": en, "URL": "/frame", "Target": "credential", "Submit": true, "StartKey": "scan_start"}); err != nil {
		t.Fatal(err)
	}
	markup := scanner.String() + `<script src="/static/scan.js" defer></script>`
	page := `<!doctype html><html><body><form method="post" action="/done">` +
		`<textarea id="credential" name="credential"></textarea>` + markup +
		`</form><script>window.addEventListener("load", function () {` +
		`setTimeout(function () { document.querySelector("[data-scan-start]").click(); }, 200); });</script></body></html>`

	dec, _ := New(Options{})
	var frames atomic.Int32
	done := make(chan string, 1)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		io.WriteString(w, page)
	})
	mux.HandleFunc("GET /static/scan.js", func(w http.ResponseWriter, r *http.Request) {
		js, _ := fs.ReadFile(files, "static/scan.js")
		w.Header().Set("Content-Type", "text/javascript")
		w.Write(js)
	})
	mux.HandleFunc("POST /frame", func(w http.ResponseWriter, r *http.Request) {
		frames.Add(1)
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, DefaultMaxBytes))
		if err != nil {
			http.Error(w, "too large", http.StatusRequestEntityTooLarge)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		res, err := dec.Decode(r.Context(), body)
		if err != nil {
			w.WriteHeader(http.StatusUnprocessableEntity)
			json.NewEncoder(w).Encode(map[string]string{"error": err.Error()})
			return
		}
		json.NewEncoder(w).Encode(map[string]string{"text": res.Text})
	})
	mux.HandleFunc("POST /done", func(w http.ResponseWriter, r *http.Request) {
		select {
		case done <- r.FormValue("credential"):
		default:
		}
		io.WriteString(w, "ok")
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, browser, "--headless=new", "--no-sandbox", "--disable-gpu",
		"--no-first-run", "--user-data-dir="+filepath.Join(dir, "profile"),
		"--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
		"--use-file-for-fake-video-capture="+video, "--remote-debugging-port=0",
		srv.URL+"/")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		cmd.Process.Kill()
		cmd.Wait()
	}()
	select {
	case text := <-done:
		if text != cards.texts[0] {
			t.Fatalf("the form was submitted with %q, not the card's text", text)
		}
		cards.verify(t, text)
		t.Logf("scan.js read the card after %d frames sent to the server", frames.Load())
	case <-ctx.Done():
		t.Fatalf("the form was not submitted in time (%d frames sent); chromium said: %s", frames.Load(), lastLines(stderr.String(), 20))
	}
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}
