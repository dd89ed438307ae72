package dataintegrity_test

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/tally-id/tally/credentials"
	"github.com/tally-id/tally/credentials/dataintegrity"
)

// signDoc signs a JSON-LD credential given as a Go value.
func signDoc(t *testing.T, doc map[string]any, k *credentials.Key) []byte {
	t.Helper()
	b, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	out, err := testProc.Sign(context.Background(), b, k, diNow)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// Credentials that are not tally's come as a generic view, read from the
// signed statements, with their IRIs named by the contexts they name by URL
// (inline contexts are not signed, so they name nothing: their IRIs come
// whole).
func TestDataIntegrityForeignCredentials(t *testing.T) {
	k := diKey(t, 9, "")
	t.Run("VCDM 2.0 with an inline context and a status entry", func(t *testing.T) {
		raw := signDoc(t, map[string]any{
			"@context": []any{"https://www.w3.org/ns/credentials/v2", map[string]any{
				"ShelterCredential": "https://shelter.example/ns#ShelterCredential",
				"shelter":           "https://shelter.example/ns#shelter",
				"beds":              map[string]any{"@id": "https://shelter.example/ns#beds", "@type": "http://www.w3.org/2001/XMLSchema#integer"},
			}},
			"id":         "urn:uuid:0b0c4f9e-2f37-4b1f-9d6a-6f1b1f0e2a11",
			"type":       []any{"VerifiableCredential", "ShelterCredential"},
			"issuer":     map[string]any{"id": k.DID, "name": "Shelter cluster"},
			"validFrom":  "2026-10-01T00:00:00Z",
			"validUntil": "2027-10-01T00:00:00Z",
			"credentialStatus": map[string]any{
				"id": "https://shelter.example/status/1#77", "type": "BitstringStatusListEntry",
				"statusPurpose": "revocation", "statusListIndex": "77", "statusListCredential": "https://shelter.example/status/1",
			},
			"credentialSubject": map[string]any{"shelter": "Block C", "beds": 4},
		}, k)
		d, err := testProc.Parse(context.Background(), raw)
		if err != nil {
			t.Fatal(err)
		}
		if err := d.VerifySignature(k.Public); err != nil {
			t.Fatal(err)
		}
		v := d.View()
		if d.Credential() != nil || !v.HasType("https://shelter.example/ns#ShelterCredential") || v.Issuer != k.DID || v.ID != "urn:uuid:0b0c4f9e-2f37-4b1f-9d6a-6f1b1f0e2a11" {
			t.Fatalf("view: %+v", v)
		}
		if !v.ValidFrom.Equal(time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)) || !v.ValidUntil.Equal(time.Date(2027, 10, 1, 0, 0, 0, 0, time.UTC)) {
			t.Fatalf("validity %v – %v", v.ValidFrom, v.ValidUntil)
		}
		want := credentials.StatusEntry{ID: "https://shelter.example/status/1#77", Purpose: "revocation", Index: 77, ListCredential: "https://shelter.example/status/1"}
		if len(v.Status) != 1 || v.Status[0] != want {
			t.Fatalf("status %+v", v.Status)
		}
		if string(v.Claims) != `{"https://shelter.example/ns#beds":4,"https://shelter.example/ns#shelter":"Block C"}` {
			t.Fatalf("claims %s", v.Claims)
		}
	})
	t.Run("VCDM 1.1 with the Data Integrity context", func(t *testing.T) {
		raw := signDoc(t, map[string]any{
			"@context":       []any{"https://www.w3.org/2018/credentials/v1", "https://w3id.org/security/data-integrity/v2", "https://w3id.org/vc/status-list/2021/v1", "https://www.w3.org/ns/credentials/examples/v2"},
			"type":           []any{"VerifiableCredential", "UniversityDegreeCredential"},
			"issuer":         k.DID,
			"issuanceDate":   "2026-01-01T00:00:00Z",
			"expirationDate": "2030-01-01T00:00:00Z",
			"credentialStatus": map[string]any{
				"id": "https://uni.example/status/3#94567", "type": "StatusList2021Entry",
				"statusPurpose": "revocation", "statusListIndex": "94567", "statusListCredential": "https://uni.example/status/3",
			},
			"credentialSubject": map[string]any{"id": "did:example:holder", "degree": map[string]any{"name": "Bachelor of Science"}},
		}, k)
		d, err := testProc.Parse(context.Background(), raw)
		if err != nil {
			t.Fatal(err)
		}
		if err := d.VerifySignature(k.Public); err != nil {
			t.Fatal(err)
		}
		v := d.View()
		if !v.ValidFrom.Equal(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)) || !v.ValidUntil.Equal(time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)) {
			t.Fatalf("validity %v – %v", v.ValidFrom, v.ValidUntil)
		}
		var unchecked []map[string]any
		if err := json.Unmarshal(v.UncheckedStatus, &unchecked); err != nil || len(v.Status) != 0 || len(unchecked) != 1 || unchecked[0]["type"] != "StatusList2021Entry" || unchecked[0]["statusListIndex"] != "94567" {
			t.Fatalf("status %+v, unchecked %s", v.Status, v.UncheckedStatus)
		}
		var claims map[string]any
		if err := json.Unmarshal(v.Claims, &claims); err != nil || claims["id"] != "did:example:holder" {
			t.Fatalf("claims %s", v.Claims)
		}
	})
	t.Run("a VCDM 1.1 context after the 2.0 one", func(t *testing.T) {
		b, _ := json.Marshal(map[string]any{
			"@context":          []any{"https://www.w3.org/ns/credentials/v2", "https://www.w3.org/2018/credentials/v1"},
			"type":              []any{"VerifiableCredential"},
			"issuer":            k.DID,
			"credentialSubject": map[string]any{"id": "did:example:holder"},
		})
		if _, err := testProc.Sign(context.Background(), b, k, diNow); !errors.Is(err, credentials.ErrMalformed) {
			t.Fatalf("err = %v", err)
		}
	})
}

// A context the verifier registers by URL (Options.Contexts) names the
// terms of a credential that names it; an inline copy, which anyone can
// rewrite, names nothing.
func TestDataIntegrityRegisteredContextNamesTerms(t *testing.T) {
	const ctxURL = "https://shelter.example/ctx/v1"
	shelterCtx := map[string]any{"@context": map[string]any{
		"ShelterCredential": "https://shelter.example/ns#ShelterCredential",
		"VolunteerBadge":    "https://shelter.example/ns#VolunteerBadge",
		"beds":              map[string]any{"@id": "https://shelter.example/ns#beds", "@type": "http://www.w3.org/2001/XMLSchema#integer"},
	}}
	ctxJSON, _ := json.Marshal(shelterCtx)
	p, err := dataintegrity.New(dataintegrity.Options{Contexts: map[string][]byte{ctxURL: ctxJSON}})
	if err != nil {
		t.Fatal(err)
	}
	k := diKey(t, 9, "")
	b, _ := json.Marshal(map[string]any{
		"@context":          []any{"https://www.w3.org/ns/credentials/v2", ctxURL},
		"type":              []any{"VerifiableCredential", "VolunteerBadge"},
		"issuer":            k.DID,
		"credentialSubject": map[string]any{"beds": 4},
	})
	raw, err := p.Sign(context.Background(), b, k, diNow)
	if err != nil {
		t.Fatal(err)
	}
	d, err := p.Parse(context.Background(), raw)
	if err != nil {
		t.Fatal(err)
	}
	if v := d.View(); !slices.Contains(v.Types, "VolunteerBadge") || len(v.Types) != 2 || string(v.Claims) != `{"beds":4}` {
		t.Fatalf("types %v, claims %s", v.Types, v.Claims)
	}
	// The same statements, under an inline context that calls the badge a
	// ShelterCredential: the signature holds, the name does not follow.
	forged := editJSON(t, raw, func(m map[string]any) {
		m["@context"] = []any{"https://www.w3.org/ns/credentials/v2", map[string]any{
			"ShelterCredential": "https://shelter.example/ns#VolunteerBadge",
			"beds":              map[string]any{"@id": "https://shelter.example/ns#beds", "@type": "http://www.w3.org/2001/XMLSchema#integer"},
		}}
		m["type"] = []any{"VerifiableCredential", "ShelterCredential"}
	})
	d, err = p.Parse(context.Background(), forged)
	if err != nil {
		t.Fatal(err)
	}
	if err := d.VerifySignature(k.Public); err != nil {
		t.Fatalf("the rewrite keeps the statements, so the signature: %v", err)
	}
	if v := d.View(); v.HasType("ShelterCredential") || !v.HasType("https://shelter.example/ns#VolunteerBadge") {
		t.Fatalf("types %v", v.Types)
	}
}
