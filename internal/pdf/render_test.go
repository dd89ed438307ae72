package pdf

import (
	"bytes"
	"crypto/ed25519"
	"encoding/json"
	"fmt"
	"image"
	"image/png"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/makiuchi-d/gozxing"

	"github.com/tally-id/tally/credentials"
	"github.com/tally-id/tally/internal/qrtest"
)

// testIssuer is a did:web issuer with a fixed key.
func testIssuer(t testing.TB) *credentials.Key {
	t.Helper()
	k, err := credentials.NewKey(ed25519.NewKeyFromSeed(bytes.Repeat([]byte{7}, 32)), "did:web:dadaab.example.org")
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// issueTestCard issues the sample registration with fullName as a QR card
// and returns the credential and the card's text.
func issueTestCard(t testing.TB, k *credentials.Key, fullName string) (*credentials.Credential, string) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "..", "testdata", "samples", "registration.json"))
	if err != nil {
		t.Fatal(err)
	}
	var c credentials.Credential
	if err := json.Unmarshal(data, &c); err != nil {
		t.Fatal(err)
	}
	c.Subject.(*credentials.Registration).FullName = fullName
	if err := credentials.Prepare(&c, k.DID, bytes.NewReader(bytes.Repeat([]byte{9}, 64))); err != nil {
		t.Fatal(err)
	}
	c.Status = credentials.StatusEntries("https://dadaab.example.org/status", 3, 94567)
	text, err := credentials.IssueCard(&c, k, c.ValidFrom)
	if err != nil {
		t.Fatal(err)
	}
	return &c, text
}

// poppler returns the path of a poppler-utils tool, or skips the test.
func poppler(t *testing.T, tool string) string {
	t.Helper()
	path, err := exec.LookPath(tool)
	if err != nil {
		t.Skipf("%s is not installed (Debian: apt-get install poppler-utils); the rendered PDF is not checked", tool)
	}
	return path
}

// rasterize renders page of a PDF at dpi with pdftoppm.
func rasterize(t *testing.T, pdf []byte, page, dpi int) image.Image {
	t.Helper()
	tool := poppler(t, "pdftoppm")
	cmd := exec.Command(tool, "-png", "-r", strconv.Itoa(dpi), "-f", strconv.Itoa(page), "-l", strconv.Itoa(page), "-singlefile", "-")
	cmd.Stdin = bytes.NewReader(pdf)
	var out, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("pdftoppm: %v: %s", err, stderr.String())
	}
	if stderr.Len() > 0 {
		t.Errorf("pdftoppm complains: %s", stderr.String())
	}
	img, err := png.Decode(bytes.NewReader(out.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	if dir := os.Getenv("TALLY_PDF_PNG_DIR"); dir != "" {
		// Keep the rendering to look at.
		name := strings.NewReplacer("/", "-", " ", "-").Replace(t.Name())
		if err := os.WriteFile(filepath.Join(dir, name+"-p"+strconv.Itoa(page)+".png"), out.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name+".pdf"), pdf, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return img
}

// extractText returns the PDF's text as pdftotext reads it.
func extractText(t *testing.T, pdf []byte) string {
	t.Helper()
	cmd := exec.Command(poppler(t, "pdftotext"), "-", "-")
	cmd.Stdin = bytes.NewReader(pdf)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("pdftotext: %v", err)
	}
	return string(out)
}

// readQR decodes the QR code in img, checks it is at level Q, and returns
// its text and its width in millimetres at dpi.
func readQR(t *testing.T, img image.Image, dpi int) (string, float64) {
	t.Helper()
	res, err := qrtest.Read(img)
	if err != nil {
		t.Fatalf("the QR code does not read: %v", err)
	}
	if level := res.GetResultMetadata()[gozxing.ResultMetadataType_ERROR_CORRECTION_LEVEL]; level != "Q" {
		t.Errorf("error correction level %v, want Q", level)
	}
	// The finder patterns' centres are size-7 modules apart.
	pts := res.GetResultPoints()
	m, err := encodeQR(res.GetText())
	if err != nil {
		t.Fatal(err)
	}
	var widest float64
	for i := range pts {
		for j := range pts {
			dx, dy := pts[i].GetX()-pts[j].GetX(), pts[i].GetY()-pts[j].GetY()
			d := math.Hypot(dx, dy)
			if d > widest && math.Abs(dx) > math.Abs(dy)*10 {
				widest = d
			}
		}
	}
	width := widest * float64(m.size) / float64(m.size-7) / float64(dpi) * 25.4
	return res.GetText(), width
}

func TestWriteCard(t *testing.T) {
	p, err := NewPrinter()
	if err != nil {
		t.Fatal(err)
	}
	k := testIssuer(t)
	for _, tc := range []struct {
		name, fullName, org string
		langs               []string
		text                []string // what pdftotext must find
	}{
		{"latin", "Fatima Hassan Abdi", "Dadaab Humanitarian Service Point", []string{"en", "fr", "ar", "so"},
			[]string{"Fatima Hassan Abdi", "Dadaab Humanitarian Service Point", "Name", "Nom", "Magaca", "Valid until", "2027-11-01", "KE-DAD-2026-000123"}},
		{"arabic", "فاطمة حسن عبدي", "Kenya Red Cross الصليب", []string{"ar", "en"},
			[]string{"فاطمة حسن عبدي", "Kenya Red Cross", "Name", "صالحة حتى", "2027-11-01"}},
		{"somali", "Cabdiraxmaan Maxamed Cumar Xuseen", "Norwegian Refugee Council", []string{"so", "en"},
			[]string{"Cabdiraxmaan", "Xuseen", "Magaca", "Ansax ilaa", "Lambarka diiwaangelinta", "Norwegian Refugee Council"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, text := issueTestCard(t, k, tc.fullName)
			var out bytes.Buffer
			if err := p.WriteCard(&out, CardFor(c, text, tc.org, tc.langs...)); err != nil {
				t.Fatal(err)
			}
			checkStructure(t, out.Bytes())
			const dpi = 200
			img := rasterize(t, out.Bytes(), 1, dpi)
			if b := img.Bounds(); math.Abs(float64(b.Dx())/dpi*25.4-cardWidth) > 0.3 || math.Abs(float64(b.Dy())/dpi*25.4-cardHeight) > 0.3 {
				t.Errorf("the page is %d × %d pixels at %d dpi, not 85.6 × 54 mm", b.Dx(), b.Dy(), dpi)
			}
			got, width := readQR(t, img, dpi)
			if got != text {
				t.Fatalf("the QR code reads %q, not the card", got)
			}
			if width < minQRWidth-0.5 {
				t.Errorf("the QR code is %.1f mm wide, less than %v", width, minQRWidth)
			}
			card, err := credentials.ParseCard([]byte(got))
			if err != nil {
				t.Fatal(err)
			}
			if err := card.VerifySignature(k.Public); err != nil {
				t.Fatal(err)
			}
			words := extractText(t, out.Bytes())
			for _, want := range tc.text {
				if !strings.Contains(words, want) {
					t.Errorf("the PDF's text lacks %q:\n%s", want, words)
				}
			}
		})
	}
}

func TestWriteCardErrors(t *testing.T) {
	p, err := NewPrinter()
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		card Card
		want string
	}{
		{"no QR", Card{Name: "A"}, "no QR text"},
		{"unknown language", Card{QR: "ABC", Languages: []string{"xx"}}, `no card labels in language "xx"`},
		{"too long", Card{QR: strings.Repeat("A", 3000)}, "does not fit"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out bytes.Buffer
			err := p.WriteCard(&out, tc.card)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one with %q", err, tc.want)
			}
			if out.Len() != 0 {
				t.Fatal("a failed card wrote output")
			}
		})
	}
}

// checkStructure checks the PDF's frame: header, every object where the
// cross-reference table says it is, trailer.
func checkStructure(t *testing.T, pdf []byte) {
	t.Helper()
	if !bytes.HasPrefix(pdf, []byte("%PDF-1.7\n")) || !bytes.HasSuffix(pdf, []byte("%%EOF\n")) {
		t.Fatal("no PDF header or end")
	}
	i := bytes.LastIndex(pdf, []byte("startxref\n"))
	var xref int
	if err := json.Unmarshal(bytes.TrimSpace(bytes.TrimSuffix(pdf[i+len("startxref\n"):], []byte("%%EOF\n"))), &xref); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(pdf[xref:]), "\n")
	if lines[0] != "xref" {
		t.Fatalf("startxref points at %q", lines[0])
	}
	var first, count int
	if _, err := fmt.Sscan(lines[1], &first, &count); err != nil {
		t.Fatal(err)
	}
	for n := 1; n < count; n++ {
		off, err := strconv.Atoi(lines[2+n][:10])
		if err != nil {
			t.Fatal(err)
		}
		want := strconv.Itoa(n) + " 0 obj\n"
		if !bytes.HasPrefix(pdf[off:], []byte(want)) {
			t.Fatalf("object %d is not at offset %d", n, off)
		}
	}
}
