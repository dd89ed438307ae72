package issuer_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tally-id/tally/credentials"
	"github.com/tally-id/tally/issuer"
	"github.com/tally-id/tally/issuer/audit"
)

// TestOfferLifecycle: an offer expires, its token expires, each format is
// issued once, and the audit log names the offer and the registration,
// never the person.
func TestOfferLifecycle(t *testing.T) {
	ctx := context.Background()
	d := newDesk(t)
	reg, err := d.register(t, fatima(), false)
	if err != nil {
		t.Fatal(err)
	}
	holder, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	offer := func(in issuer.OfferInput) issuer.NewOffer {
		t.Helper()
		o, err := d.svc.CreateOffer(ctx, d.registrar, "demo", reg.ID, in)
		if err != nil {
			t.Fatal(err)
		}
		return o
	}

	t.Run("expires", func(t *testing.T) {
		o := offer(issuer.OfferInput{Type: credentials.TypeRegistration})
		if _, err := d.svc.OfferBySecret(ctx, "demo", o.Secret); err != nil {
			t.Fatal(err)
		}
		if _, err := d.svc.OfferBySecret(ctx, "other", o.Secret); !errors.Is(err, issuer.ErrOfferUnusable) {
			t.Fatalf("another organisation serves the offer: %v", err)
		}
		d.now = d.now.Add(issuer.OfferTTL)
		defer func() { d.now = d.now.Add(-issuer.OfferTTL) }()
		if _, err := d.svc.OfferBySecret(ctx, "demo", o.Secret); !errors.Is(err, issuer.ErrOfferUnusable) {
			t.Fatalf("an expired offer is served: %v", err)
		}
		if _, _, err := d.svc.RedeemOffer(ctx, "demo", o.Code, o.TxCode, true); !errors.Is(err, issuer.ErrOfferUnusable) {
			t.Fatalf("an expired offer is redeemed: %v", err)
		}
		// Purged (as CreateOffer does before each new offer).
		if n, err := d.db.PurgeOffers(ctx, d.now.Add(time.Second)); err != nil || n == 0 {
			t.Fatalf("purged %d: %v", n, err)
		}
		if _, err := d.db.OfferByCode(ctx, "demo", sha(o.Code)); !errors.Is(err, issuer.ErrNotFound) {
			t.Fatalf("an expired offer is kept: %v", err)
		}
	})

	t.Run("the token expires", func(t *testing.T) {
		o := offer(issuer.OfferInput{Type: credentials.TypeRegistration, NoTxCode: true})
		token, _, err := d.svc.RedeemOffer(ctx, "demo", o.Code, "", false)
		if err != nil {
			t.Fatal(err)
		}
		d.now = d.now.Add(issuer.OfferTokenTTL)
		defer func() { d.now = d.now.Add(-issuer.OfferTokenTTL) }()
		if _, err := d.svc.IssueOffered(ctx, "demo", token, credentials.FormatSDJWT, holder.Public()); !errors.Is(err, issuer.ErrTokenUnusable) {
			t.Fatalf("an expired token issued: %v", err)
		}
	})

	t.Run("each format once, audited", func(t *testing.T) {
		o := offer(issuer.OfferInput{Type: credentials.TypeRegistration, Formats: []credentials.Format{credentials.FormatJWT, credentials.FormatSDJWT}})
		if len(o.TxCode) != issuer.TxCodeLength || strings.Trim(o.TxCode, "0123456789") != "" {
			t.Fatalf("tx code %q", o.TxCode)
		}
		if _, _, err := d.svc.RedeemOffer(ctx, "other", o.Code, o.TxCode, true); !errors.Is(err, issuer.ErrOfferUnusable) {
			t.Fatalf("another organisation redeems the offer: %v", err)
		}
		token, _, err := d.svc.RedeemOffer(ctx, "demo", o.Code, o.TxCode, true)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := d.svc.IssueOffered(ctx, "demo", token, credentials.FormatQR, holder.Public()); !errors.Is(err, issuer.ErrNotOffered) {
			t.Fatalf("a card was issued to a wallet: %v", err)
		}
		var ids []string
		for _, f := range []credentials.Format{credentials.FormatSDJWT, credentials.FormatJWT} {
			out, err := d.svc.IssueOffered(ctx, "demo", token, f, holder.Public())
			if err != nil {
				t.Fatal(err)
			}
			if !out.Record.Bound || out.Record.Format != f || out.Record.IssuedBy != d.registrar.StaffID {
				t.Fatalf("record %+v", out.Record)
			}
			ids = append(ids, out.Record.ID)
			if _, err := d.svc.IssueOffered(ctx, "demo", token, f, holder.Public()); !errors.Is(err, issuer.ErrNotOffered) {
				t.Fatalf("format %s issued twice: %v", f, err)
			}
			if _, err := d.svc.Reprint(ctx, "demo", out.Record.ID); !errors.Is(err, issuer.ErrStateChange) {
				t.Fatalf("a wallet credential was reprinted: %v", err)
			}
		}
		var offered, issued int
		for _, e := range d.entries(t) {
			// The chain's hashes are hex: "1991" may stand in one by chance.
			clean := e
			clean.Prev, clean.Hash = audit.Hash{}, audit.Hash{}
			raw, _ := json.Marshal(clean)
			for _, pii := range []string{"Fatima", "Abdi", "1991", "KE-DAD", o.Code, o.TxCode, token} {
				if strings.Contains(string(raw), pii) {
					t.Fatalf("an audit entry holds %q: %s", pii, raw)
				}
			}
			hasOffer := slices.Contains(e.Objects, audit.Object{Kind: audit.ObjectOffer, ID: o.Offer.ID})
			switch {
			case e.Action == audit.ActionOfferCreate && hasOffer:
				offered++
			case e.Action == audit.ActionIssue && hasOffer:
				issued++
				if e.Actor != audit.Staff(d.registrar.StaffID) {
					t.Fatalf("issued by %+v", e.Actor)
				}
			}
		}
		if offered != 1 || issued != 2 {
			t.Fatalf("%d offer entries, %d issue entries", offered, issued)
		}
	})
}

func sha(s string) []byte {
	sum := sha256.Sum256([]byte(s))
	return sum[:]
}
