package scan

import (
	"context"
	"fmt"
	"image"

	"github.com/makiuchi-d/gozxing"
	"github.com/makiuchi-d/gozxing/qrcode"
)

// Working sizes: the first views are at most workSide pixels on their
// longest side (a camera frame as it comes); crops of a large photo are
// taken from a copy at most fineSide.
const (
	workSide = 1280
	fineSide = 2560
)

// attempt is one view of the image given to gozxing.
type attempt struct {
	name   string
	view   func() *plane // nil: the view does not apply to this image
	global bool          // the global histogram binarizer, not the hybrid one
}

// views makes the views of one image lazily, each at most once.
type views struct {
	full  *plane
	cache map[string]*plane
}

func (v *views) get(name string, make func() *plane) *plane {
	if p, ok := v.cache[name]; ok {
		return p
	}
	p := make()
	v.cache[name] = p
	return p
}

func (v *views) base() *plane {
	return v.get("base", func() *plane { return v.full.shrink(workSide) })
}

func (v *views) fine() *plane {
	return v.get("fine", func() *plane {
		if max(v.full.w, v.full.h) <= workSide {
			return nil // the base view is already the full image
		}
		return v.full.shrink(fineSide)
	})
}

// tile returns the part of the finest view at fractions (fx, fy) of its
// size, fw × fh of it, enlarged twice when that keeps it within workSide.
func (v *views) tile(name string, fx, fy, fw, fh float64) *plane {
	return v.get(name, func() *plane {
		src := v.fine()
		if src == nil {
			src = v.base()
		}
		r := image.Rect(int(fx*float64(src.w)), int(fy*float64(src.h)),
			int((fx+fw)*float64(src.w)), int((fy+fh)*float64(src.h)))
		if r.Dx() < 21 || r.Dy() < 21 {
			return nil // smaller than a version-1 code at one pixel a module
		}
		t := src.crop(r)
		if max(t.w, t.h) <= workSide/2 {
			return t.enlarge()
		}
		return t.shrink(workSide)
	})
}

// plan is the attempts, cheapest and likeliest first. The first reads a
// clean frame; the next ones answer one trouble each (uneven light, low
// contrast, noise, blur, a code seen at a slant, a small code in a large
// frame, a light code on a dark ground), then a few of them together.
func (v *views) plan() []attempt {
	base := v.base
	stretch := func() *plane { return v.get("stretch", func() *plane { return base().stretch() }) }
	smooth := func() *plane { return v.get("smooth", func() *plane { return base().smooth() }) }
	half := func() *plane {
		return v.get("half", func() *plane { return base().shrink(max(base().w, base().h) / 2) })
	}
	sharpen := func() *plane { return v.get("sharpen", func() *plane { return base().sharpen() }) }
	turn := func() *plane { return v.get("turn90", func() *plane { return base().turn() }) }
	turn45 := func() *plane { return v.get("turn45", func() *plane { return base().turn45() }) }
	centre := func() *plane { return v.tile("centre", 0.25, 0.25, 0.5, 0.5) }
	quarter := func(name string, fx, fy float64) func() *plane {
		return func() *plane { return v.tile(name, fx, fy, 0.6, 0.6) }
	}
	invert := func() *plane { return v.get("invert", func() *plane { return base().invert() }) }
	smoothHalf := func() *plane { return v.get("smooth-half", func() *plane { return half().smooth() }) }
	turn45Smooth := func() *plane { return v.get("turn45-smooth", func() *plane { return smooth().turn45() }) }
	return []attempt{
		{"base/hybrid", base, false},
		{"base/global", base, true},
		{"stretch/hybrid", stretch, false},
		{"smooth/hybrid", smooth, false},
		{"half/hybrid", half, false},
		{"sharpen/hybrid", sharpen, false},
		{"turn90/hybrid", turn, false},
		{"turn45/hybrid", turn45, false},
		{"fine/hybrid", v.fine, false},
		{"centre/hybrid", centre, false},
		{"top-left/hybrid", quarter("top-left", 0, 0), false},
		{"top-right/hybrid", quarter("top-right", 0.4, 0), false},
		{"bottom-left/hybrid", quarter("bottom-left", 0, 0.4), false},
		{"bottom-right/hybrid", quarter("bottom-right", 0.4, 0.4), false},
		{"half/global", half, true},
		{"smooth/global", smooth, true},
		{"stretch/global", stretch, true},
		{"invert/hybrid", invert, false},
		{"smooth-half/hybrid", smoothHalf, false},
		{"turn45-smooth/hybrid", turn45Smooth, false},
		{"centre/global", centre, true},
		{"sharpen/global", sharpen, true},
		{"turn90/global", turn, true},
		{"turn45/global", turn45, true},
	}
}

// decode tries the plan's views of img until one reads, the budget is
// spent or ctx is done.
func (d *Decoder) decode(ctx context.Context, img image.Image, bud *budget) (*Result, error) {
	return d.decodePlane(ctx, grey(img), bud)
}

func (d *Decoder) decodePlane(ctx context.Context, full *plane, bud *budget) (*Result, error) {
	v := &views{full: full, cache: map[string]*plane{}}
	for _, a := range v.plan() {
		if bud.left <= 0 {
			break
		}
		if ctx.Err() != nil {
			return nil, fmt.Errorf("%w (%d attempts)", ErrGaveUp, bud.used)
		}
		p := a.view()
		if p == nil || p.w == 0 || p.h == 0 {
			continue
		}
		bud.left--
		bud.used++
		if text, ok := read(p, a.global, true); ok {
			return &Result{Text: text, View: a.name, Attempts: bud.used}, nil
		}
	}
	if ctx.Err() != nil {
		return nil, fmt.Errorf("%w (%d attempts)", ErrGaveUp, bud.used)
	}
	return nil, fmt.Errorf("%w (%d attempts)", ErrNoCode, bud.used)
}

// read gives one view to gozxing's QR reader, trying harder and not
// assuming a pure barcode (a code alone, square to the image). A panic in
// the reader on a strange image is a failed attempt, not a crashed server.
func read(p *plane, global, slant bool) (text string, ok bool) {
	defer func() {
		if recover() != nil {
			text, ok = "", false
		}
	}()
	src := newSource(p)
	var bin gozxing.Binarizer
	if global {
		bin = gozxing.NewGlobalHistgramBinarizer(src)
	} else {
		bin = gozxing.NewHybridBinarizer(src)
	}
	bmp, err := gozxing.NewBinaryBitmap(bin)
	if err != nil {
		return "", false
	}
	hints := map[gozxing.DecodeHintType]any{gozxing.DecodeHintType_TRY_HARDER: true}
	res, err := qrcode.NewQRCodeReader().Decode(bmp, hints)
	if err == nil && res.GetText() != "" {
		return res.GetText(), true
	}
	if slant {
		if m, err := bmp.GetBlackMatrix(); err == nil {
			return readSlanted(m, hints)
		}
	}
	return "", false
}
