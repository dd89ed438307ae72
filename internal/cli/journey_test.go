package cli

// --- journey (issue 7): the whole verifier journey between two
// organisations of one instance, through the same HTTP requests staff make.

import (
	"bytes"
	"context"
	"mime/multipart"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/tally-id/tally/internal/scan"
	"github.com/tally-id/tally/issuer"
)

// postMultipart posts a form with files, as a browser sends a form with
// enctype="multipart/form-data": fields are name/value pairs, files are
// field name to content.
func (b *browser) postMultipart(path string, fields []string, files map[string][]byte) (int, string) {
	b.t.Helper()
	var body bytes.Buffer
	w := multipart.NewWriter(&body)
	for i := 0; i+1 < len(fields); i += 2 {
		if err := w.WriteField(fields[i], fields[i+1]); err != nil {
			b.t.Fatal(err)
		}
	}
	for name, data := range files {
		part, err := w.CreateFormFile(name, name+".png")
		if err != nil {
			b.t.Fatal(err)
		}
		part.Write(data)
	}
	w.Close()
	code, _, page := b.send("POST", path, w.FormDataContentType(), body.String(), "Origin", b.base, "Sec-Fetch-Site", "same-origin")
	return code, page
}

// postValues posts a form whose fields may repeat (checkboxes).
func (b *browser) postValues(path string, v url.Values) (int, string, string) {
	b.t.Helper()
	code, h, page := b.send("POST", path, "application/x-www-form-urlencoded", v.Encode(), "Origin", b.base, "Sec-Fetch-Site", "same-origin")
	return code, h.Get("Location"), page
}

// get fetches a page, which must answer 200.
func (b *browser) get(path string) string {
	b.t.Helper()
	code, _, page := b.send("GET", path, "", "")
	if code != 200 {
		b.t.Fatalf("GET %s: %d", path, code)
	}
	return page
}

// wantWords fails unless the page says every one of words.
func wantWords(t *testing.T, what, page string, words ...string) {
	t.Helper()
	for _, w := range words {
		if !strings.Contains(page, w) {
			i := strings.Index(page, "<main")
			t.Fatalf("%s does not say %q:\n%.1500s", what, w, page[max(i, 0):])
		}
	}
}

// refusedWords fails when the page says any of words.
func refusedWords(t *testing.T, what, page string, words ...string) {
	t.Helper()
	for _, w := range words {
		if strings.Contains(page, w) {
			t.Fatalf("%s says %q", what, w)
		}
	}
}

var (
	orgDIDLine    = regexp.MustCompile(`DID (did:web:\S+)`)
	referralState = regexp.MustCompile(`action="/verify/referrals/([^/"]+)/state"`)
)

// startJourney starts the instance, makes B as an operator does (tally
// org new, offline, between two starts), and the staff of both.
func startJourney(t *testing.T, dir string) (*Main, *lockedBuffer, map[string]string, string) {
	t.Helper()
	m, stdout, _ := startMain(t, dir)
	adminPassword := firstPassword.FindStringSubmatch(stdout.String())[1]
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	env := testEnv()
	env.PasswordParams = issuer.PasswordParams{Time: 1, MemoryKiB: 1024, Threads: 1}
	code, out, errOut := runIn2(t, env, "org", "new", "--slug", "relief", "--name", "Relief Health", "--data", dir)
	if code != ExitOK {
		t.Fatalf("org new: exit %d %s", code, errOut)
	}
	did := orgDIDLine.FindStringSubmatch(errOut)
	if did == nil {
		t.Fatalf("org new names no DID: %s", errOut)
	}
	m, _, stderr := startMain(t, dir)
	passwords := map[string]string{"admin": adminPassword, "relief-admin": strings.TrimSpace(out)}

	// Each administrator adds their staff.
	for admin, staff := range map[string][]string{"admin": {"registrar", "supervisor"}, "relief-admin": {"verifier", "relief-supervisor"}} {
		b := newBrowser(t, m.URL())
		b.signInFirst(admin, passwords[admin])
		for _, username := range staff {
			role := strings.TrimPrefix(username, "relief-")
			code, _, page := b.postForm("/admin/staff", "name", "Staff "+username, "username", username, "role", role)
			if code != 201 {
				t.Fatalf("%s adds %s: %d", admin, username, code)
			}
			passwords[username] = pagePassword.FindStringSubmatch(page)[1]
		}
		if admin == "admin" {
			// A's programme may issue referrals.
			v := url.Values{"name": {"Multi-purpose cash assistance 2026"}, "languages": {"en so ar"}, "retentionMonths": {"24"},
				"purpose":                     {DemoProgramme().Purpose},
				"type_RegistrationCredential": {"on"}, "type_ReferralCredential": {"on"}}
			if code, _, _ := b.postValues("/admin/programmes/MPCA-2026", v); code != 303 {
				t.Fatalf("the programme's referrals: %d", code)
			}
		}
	}
	return m, stderr, passwords, did[1]
}

// TestJourney is issue 7's journey, through HTTP as staff make it: A
// registers Fatima and issues her card; B's verifier checks it (pasted,
// then photographed): new, then seen before; A revokes it, and B refuses
// it without counting the visit; A refers her to B with the fields she
// agreed to pass on; B checks the referral with her new card, accepts it,
// records that she was served; A hears it.
func TestJourney(t *testing.T) {
	dir := t.TempDir()
	m, stderr, passwords, reliefDID := startJourney(t, dir)
	defer m.Close()
	staff := func(username string) *browser {
		b := newBrowser(t, m.URL())
		b.signInFirst(username, passwords[username])
		return b
	}
	registrar, supervisorA, verifier := staff("registrar"), staff("supervisor"), staff("verifier")

	// A registers Fatima, with her consent, and issues her card.
	regPath := registerFatima(t, registrar)
	issueCard := func() (string, []byte, string) { return issueCard(t, registrar, regPath) }
	credPath, cardPNG, cardText := issueCard()

	// B's verifier checks it at a service point: pasted, then as a photo.
	check := func(fields []string, photo []byte) string {
		t.Helper()
		var files map[string][]byte
		if photo != nil {
			files = map[string][]byte{"photo": photo}
		}
		code, page := verifier.postMultipart("/verify/check", append([]string{"servicePoint", "Ifo clinic"}, fields...), files)
		if code != 200 {
			t.Fatalf("check: %d\n%s", code, page)
		}
		return page
	}
	wantWords(t, "the scanning page", verifier.get("/verify/"), "Check a card")
	page := check([]string{"credential", cardText}, nil)
	wantWords(t, "the first answer", page, "answer-green", "Valid", "First time in this domain", "Fatima Hassan Abdi", "Born in 1991")
	refusedWords(t, "the first answer", page, "1991-03-14", "KE-DAD-2026-000123")
	page = check(nil, cardPNG)
	wantWords(t, "the second answer", page, "answer-amber", "already seen", "Ifo clinic")
	wantWords(t, "the second answer", page, "Already seen once — just now")
	refusedWords(t, "the second answer", page, "1 times", "Last seen")
	page = check([]string{"credential", cardText}, nil)
	wantWords(t, "the third answer", page, "already seen")
	dedup2 := dedupLine(t, page)
	if !strings.Contains(dedup2, "2") {
		t.Fatalf("the third answer counts %q, want 2 visits before", dedup2)
	}

	// A's supervisor revokes the card; B refuses it, and counts nothing.
	if code, _, _ := supervisorA.postForm(credPath + "/revoke"); code != 303 {
		t.Fatalf("revoke: %d", code)
	}
	page = check([]string{"credential", cardText}, nil)
	wantWords(t, "the revoked card's answer", page, "answer-red", "Not accepted", "cancelled this card", "Do not serve on this card")
	refusedWords(t, "the revoked card's answer", page, "Fatima")
	page = check(nil, cardPNG)
	wantWords(t, "the revoked card's photo", page, "Not accepted", "cancelled")

	// A real desk sends her back to A, which issues a new card; the new
	// card is the same person in B's domain: 3 visits before (the three
	// accepted scans), the two refused ones not counted.
	_, _, newText := issueCard()
	page = check([]string{"credential", newText}, nil)
	wantWords(t, "the new card's answer", page, "Valid", "already seen")
	if got, want := dedupLine(t, page), strings.Replace(dedup2, "2", "3", 1); got != want {
		t.Fatalf("the new card's answer counts %q, want %q: the refused scans were counted", got, want)
	}

	// A refers her to B, passing on her name and gender, with her consent.
	refPNG := referFatima(t, registrar, regPath, reliefDID)

	// B presents the referral (a photo of it) with her new card (pasted).
	var code int
	code, page = verifier.postMultipart("/verify/referrals", []string{"registration", newText}, map[string][]byte{"referral_photo": refPNG})
	if code != 200 {
		t.Fatalf("present: %d\n%s", code, page)
	}
	wantWords(t, "the referral", page, "Fatima Hassan Abdi", "primary-health-care", "Urgency", "high", "Full name", "Gender", "Female", "Accept")
	refusedWords(t, "the referral", page, "1991", "KE-DAD-2026-000123")
	id := referralState.FindStringSubmatch(page)
	if id == nil {
		t.Fatal("the referral's page has no decision")
	}
	state := func(kv ...string) {
		t.Helper()
		if code, _, page := verifier.postForm("/verify/referrals/"+id[1]+"/state", kv...); code != 303 {
			t.Fatalf("%v: %d\n%s", kv, code, page)
		}
	}
	state("state", "accepted")
	page = verifier.get("/verify/referrals/" + id[1])
	wantWords(t, "the accepted referral", page, "accepted", "served")
	refusedWords(t, "the accepted referral", page, "Fatima")
	state("state", "closed", "code", "served")

	// The server's own outbox tells A; A's pages show it.
	deadline := time.Now().Add(10 * time.Second)
	for {
		page = supervisorA.get("/issuer/referrals")
		if strings.Contains(page, "served") || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	wantWords(t, "A's referrals", page, "served", reliefDID)
	page = registrar.get(regPath)
	wantWords(t, "Fatima's registration at A", page, "outcome: served")
	// Her registration cards, of which nothing was heard, say nothing of
	// referrals (they said "referral: · 0001-01-01 00:00 UTC").
	refusedWords(t, "Fatima's registration at A", page, "0001-01-01", "referrals_state")
	if n := strings.Count(page, "outcome: served"); n != 1 {
		t.Fatalf("her registration page says 'outcome: served' %d times", n)
	}
	wantWords(t, "B's record", verifier.get("/verify/referrals/"+id[1]), "closed", "told to the referring organisation")

	// Nothing personal reached the logs.
	refusedWords(t, "the logs", stderr.String(), "Fatima", "1991-03-14", "KE-DAD-2026-000123")
}

// dedupLine is the answer's line on earlier visits.
func dedupLine(t *testing.T, page string) string {
	t.Helper()
	m := regexp.MustCompile(`<p class="dedup">([^<]*)</p>`).FindStringSubmatch(page)
	if m == nil {
		t.Fatal("the answer says nothing of earlier visits")
	}
	return m[1]
}

// registerFatima registers Fatima at A, with her consent, and returns her
// registration page.
func registerFatima(t *testing.T, registrar *browser) string {
	t.Helper()
	code, h, _ := registrar.postForm("/issuer/register", "programme", "MPCA-2026", "consent.given", "yes", "consent.method", "verbal",
		"consent.language", "so", "fullName", "Fatima Hassan Abdi", "dateOfBirth", "1991-03-14", "registrationId", "KE-DAD-2026-000123", "gender", "female")
	if code != 303 {
		t.Fatalf("register: %d", code)
	}
	regPath, _, _ := strings.Cut(h.Get("Location"), "?")
	return regPath
}

// issueCard issues a registration card at A: its page, its PNG, and the
// text a scanner gun reads from its QR code.
func issueCard(t *testing.T, registrar *browser, regPath string) (string, []byte, string) {
	t.Helper()
	code, h, _ := registrar.postForm(regPath+"/credentials", "type", "RegistrationCredential")
	if code != 303 {
		t.Fatalf("issue: %d", code)
	}
	credPath, _, _ := strings.Cut(h.Get("Location"), "?")
	code, _, png := registrar.send("GET", credPath+"/card.png", "", "")
	if code != 200 {
		t.Fatalf("card.png: %d", code)
	}
	decoder, err := scan.New(scan.Options{})
	if err != nil {
		t.Fatal(err)
	}
	res, err := decoder.Decode(context.Background(), []byte(png))
	if err != nil {
		t.Fatalf("the card's QR code: %v", err)
	}
	return credPath, []byte(png), res.Text
}

// referFatima refers Fatima from A to the organisation whose DID is to,
// as a QR card passing on her name and gender; it returns the card's PNG.
func referFatima(t *testing.T, registrar *browser, regPath, to string) []byte {
	t.Helper()
	v := url.Values{"type": {"ReferralCredential"}, "programme": {"MPCA-2026"}, "format": {"qr"},
		"referral.referredTo": {to}, "referral.service": {"primary-health-care"}, "referral.urgency": {"high"},
		"referral.consent.purpose": {"health care at Relief Health"}, "referral.consent.fields": {"fullName", "gender"},
		"referral.consent.method": {"verbal"}, "referral.consent.given": {"yes"}}
	code, loc, page := registrar.postValues(regPath+"/credentials", v)
	if code != 303 {
		t.Fatalf("refer: %d\n%s", code, page)
	}
	refPath, _, _ := strings.Cut(loc, "?")
	code, _, png := registrar.send("GET", refPath+"/card.png", "", "")
	if code != 200 {
		t.Fatalf("the referral's card.png: %d", code)
	}
	return []byte(png)
}
