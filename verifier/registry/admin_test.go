package registry_test

import (
	"context"
	"encoding/hex"
	"errors"
	"strings"
	"testing"

	"github.com/tally-id/tally/verifier/registry"
)

// A domain added with a fresh key hands its key file over once, and it is
// the key the registry opens; the domain's info never holds the key.
func TestAddDomainWithNewKey(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	d, file, err := f.svc.AddDomainWithNewKey(ctx, registry.NewDomain{ID: "fresh", Name: "Fresh", Kind: registry.KindOwn, Members: []string{"org-a"}})
	if err != nil {
		t.Fatal(err)
	}
	k, err := f.svc.Key(ctx, d.ID)
	if err != nil {
		t.Fatal(err)
	}
	if strings.TrimSpace(string(file)) != hex.EncodeToString(k.Secret[:]) || len(file) != 65 {
		t.Fatalf("the key file %q is not the sealed key", file)
	}
	if _, _, err := f.svc.AddDomainWithNewKey(ctx, registry.NewDomain{ID: "fresh", Name: "Again", Kind: registry.KindOwn, Members: []string{"org-a"}}); !errors.Is(err, registry.ErrConflict) {
		t.Fatalf("a domain twice: %v", err)
	}
	var ie *registry.InputError
	if _, _, err := f.svc.AddDomainWithNewKey(ctx, registry.NewDomain{ID: "x", Name: "X", Kind: registry.KindOwn, Members: []string{"org-a"}, KeyFile: []byte(keyHex)}); !errors.As(err, &ie) || ie.Field != "key" {
		t.Fatalf("a fresh key with a key file: %v", err)
	}
	if _, err := f.svc.Record(ctx, scan(1, "P", t0)); err != nil {
		t.Fatal(err)
	}
	infos, err := f.svc.DomainInfos(ctx)
	if err != nil || len(infos) != 2 || infos[0].ID != "consortium-x" || infos[0].Tokens != 1 || infos[1].Tokens != 0 {
		t.Fatalf("infos %+v, %v", infos, err)
	}
	if _, err := f.svc.DomainInfo(ctx, "not an id"); !errors.Is(err, registry.ErrNotFound) {
		t.Fatalf("info of a bad id: %v", err)
	}
	if _, err := f.svc.PeerLists(ctx, "nope"); !errors.Is(err, registry.ErrNotFound) {
		t.Fatalf("peer lists of an unknown domain: %v", err)
	}
}
