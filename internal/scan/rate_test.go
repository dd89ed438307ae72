package scan

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
	"time"
)

// shots is the test set: each trouble of a real camera alone, at a few
// strengths, then several together.
func shots() []shot {
	base := shot{cardW: 760, cx: 0.5, cy: 0.5, blur: 0.6, jpeg: 90}
	var s []shot
	add := func(name string, f func(*shot)) {
		x := base
		x.name = name
		f(&x)
		s = append(s, x)
	}
	add("straight", func(x *shot) {})
	add("straight-png", func(x *shot) { x.jpeg = 0 })
	for _, a := range []float64{5, 15, 30, 45, 90, 135, 180, 270, -20} {
		add(fmt.Sprintf("turn%g", a), func(x *shot) { x.angle = a })
	}
	for i, tt := range [][3]float64{{0.2, 0, 0}, {0.3, 0, 10}, {0, 0.25, 0}, {0, 0.4, -8}, {0.25, 0.2, 30}, {0.3, 0, 0}} {
		add(fmt.Sprintf("perspective%d", i), func(x *shot) { x.tiltX, x.tiltY, x.angle = tt[0], tt[1], tt[2] })
	}
	for _, b := range []float64{1, 1.5, 2, 2.5} {
		add(fmt.Sprintf("blur%g", b), func(x *shot) { x.blur = b })
	}
	for i, c := range [][2]float64{{0.4, 0}, {0.25, 0.15}, {0.2, -0.2}, {0.15, 0}} {
		add(fmt.Sprintf("contrast%d", i), func(x *shot) { x.contrast, x.bright = c[0], c[1] })
	}
	for i, g := range [][3]float64{{0.15, 0, 0}, {0.2, 0.25, -0.2}, {0.25, -0.3, 0.3}, {0.3, 0.4, 0.4}} {
		add(fmt.Sprintf("glare%d", i), func(x *shot) { x.glare, x.glareX, x.glareY = g[0], g[1], g[2] })
	}
	for _, n := range []float64{8, 16, 24} {
		add(fmt.Sprintf("noise%g", n), func(x *shot) { x.noise = n })
	}
	for i, z := range [][4]float64{{1920, 1080, 600, 0.3}, {1920, 1080, 520, 0.7}, {2592, 1944, 760, 0.6}, {1280, 720, 440, 0.25}} {
		add(fmt.Sprintf("small%d", i), func(x *shot) {
			x.frameW, x.frameH, x.cardW, x.cx, x.cy = int(z[0]), int(z[1]), z[2], z[3], 1-z[3]
		})
	}
	for _, q := range []int{40, 25, 15} {
		add(fmt.Sprintf("jpeg%d", q), func(x *shot) { x.jpeg = q })
	}
	add("close", func(x *shot) { x.cardW = 1150 })
	// Several troubles together, drawn at random within what a hand-held
	// phone at a service desk gives when the scanning page's frame guide
	// is followed: any turn, a mild slant, some blur, light and noise.
	rng := rand.New(rand.NewPCG(7, 169))
	for i := range 26 {
		add(fmt.Sprintf("mix%02d", i), func(x *shot) {
			x.cardW = 650 + rng.Float64()*400
			x.cx, x.cy = 0.4+rng.Float64()*0.2, 0.45+rng.Float64()*0.1
			x.angle = rng.Float64()*360 - 180
			x.tiltX, x.tiltY = rng.Float64()*0.2, rng.Float64()*0.15
			x.blur = 0.5 + rng.Float64()*0.8
			x.contrast = 0.5 + rng.Float64()*0.5
			x.bright = rng.Float64()*0.2 - 0.1
			if rng.IntN(3) == 0 {
				x.glare, x.glareX, x.glareY = 0.1+rng.Float64()*0.08, rng.Float64()*0.6-0.3, rng.Float64()*0.6-0.3
			}
			x.noise = rng.Float64() * 10
			x.jpeg = 40 + rng.IntN(50)
		})
	}
	return s
}

// TestDecodeRate photographs real cards synthetically and requires the
// decoder to read at least 95 % of the frames; every text read must be the
// card's and verify with the verifier library.
func TestDecodeRate(t *testing.T) {
	cards := newTestCards(t)
	dec, err := New(Options{Timeout: time.Minute}) // a ratio, not a time: a busy machine must not fail it
	if err != nil {
		t.Fatal(err)
	}
	var set []shot
	for i, s := range shots() {
		if i%raceEvery == 0 {
			set = append(set, s)
		}
	}
	type outcome struct {
		res *Result
		err error
	}
	outcomes := make([]outcome, len(set))
	var wg sync.WaitGroup
	sem := make(chan struct{}, runtime.GOMAXPROCS(0))
	dir := os.Getenv("TALLY_SCAN_FRAMES_DIR") // keep the frames to look at
	for i, s := range set {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			text := cards.texts[i%len(cards.texts)]
			frame := photograph(t, text, s)
			if dir != "" {
				ext := ".jpg"
				if s.jpeg == 0 {
					ext = ".png"
				}
				_ = os.WriteFile(filepath.Join(dir, s.name+ext), frame, 0o644)
			}
			res, err := dec.Decode(context.Background(), frame)
			if err == nil && res.Text != text {
				t.Errorf("%s: read a text that is not the card's", s.name)
			}
			outcomes[i] = outcome{res, err}
		})
	}
	wg.Wait()
	read := 0
	views := map[string]int{}
	for i, o := range outcomes {
		if o.err != nil {
			t.Logf("%-14s not read: %v (%+v)", set[i].name, o.err, set[i])
			continue
		}
		read++
		views[o.res.View]++
		cards.verify(t, o.res.Text)
		if testing.Verbose() {
			t.Logf("%-14s read by %s after %d attempts", set[i].name, o.res.View, o.res.Attempts)
		}
	}
	rate := float64(read) / float64(len(set))
	t.Logf("decode rate: %d of %d frames (%.1f %%); views that read: %v", read, len(set), 100*rate, views)
	if len(set)*raceEvery < 60 {
		t.Errorf("the test set has %d frames, want at least 60", len(set))
	}
	if rate < 0.95 {
		t.Errorf("decode rate %.1f %%, want at least 95 %%", 100*rate)
	}
}
