package issuer_test

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tally-id/tally/credentials"
	"github.com/tally-id/tally/credentials/dataintegrity"
	"github.com/tally-id/tally/internal/bolt"
	"github.com/tally-id/tally/issuer"
	"github.com/tally-id/tally/issuer/audit"
)

const vcMaster = "river lantern cobalt pepper"

// vcDesk is a Service with the VC API's Data Integrity processor, an
// audit log, organisation demo (Ed25519) and organisation p256, whose key
// is ECDSA P-256.
type vcDesk struct {
	svc    *issuer.Service
	db     *bolt.DB
	log    *audit.Log
	signer *failingSigner
	now    time.Time
}

// failingSigner is the real processor, made to fail Sign when fail is
// set: what happens when signing fails after a status entry is drawn.
type failingSigner struct {
	*dataintegrity.Processor
	fail bool
}

func (f *failingSigner) Sign(ctx context.Context, doc []byte, k *credentials.Key, now time.Time) ([]byte, error) {
	if f.fail {
		return nil, errors.New("the signing device is gone")
	}
	return f.Processor.Sign(ctx, doc, k, now)
}

func newVCDesk(t *testing.T) *vcDesk {
	t.Helper()
	ctx := context.Background()
	db, err := bolt.Open(filepath.Join(t.TempDir(), bolt.FileName))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	store, err := bolt.NewAuditStore(db.Bolt())
	if err != nil {
		t.Fatal(err)
	}
	di, err := dataintegrity.New(dataintegrity.Options{})
	if err != nil {
		t.Fatal(err)
	}
	d := &vcDesk{db: db, signer: &failingSigner{Processor: di}, now: time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC)}
	d.log = audit.NewLog(store, audit.Options{Now: func() time.Time { return d.now }, Programmes: db})
	d.svc, err = issuer.New(db.Stores(), issuer.Options{
		MasterKey: []byte(vcMaster), Now: func() time.Time { return d.now },
		Password: issuer.PasswordParams{Time: 1, MemoryKiB: 1024, Threads: 1}, ScryptN: credentials.LowestScryptN,
		Audit: d.log, BaseURL: "https://tally.example", DataIntegrity: d.signer,
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, _, err := d.svc.CreateOrganisation(ctx, issuer.NewOrganisation{Slug: "demo", Name: "Demo", Host: "tally.example", Admin: issuer.NewStaff{Name: "Admin", Username: "admin-demo"}}); err != nil {
		t.Fatal(err)
	}
	// An organisation whose key is P-256, made straight in the store.
	did, err := issuer.OrgDID("tally.example", "p256")
	if err != nil {
		t.Fatal(err)
	}
	signer, err := credentials.GenerateKey(credentials.ES256, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	key, err := credentials.NewKey(signer, did)
	if err != nil {
		t.Fatal(err)
	}
	sealed, err := credentials.SealKey(key, []byte(vcMaster), rand.Reader, credentials.SealOptions{ScryptN: credentials.LowestScryptN})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.CreateOrganisation(ctx, issuer.Organisation{Slug: "p256", Name: "P-256", DID: did, Created: d.now},
		issuer.OrgKey{Org: "p256", ID: key.ID, Sealed: sealed, Created: d.now},
		issuer.Staff{ID: "st_p256", Org: "p256", Name: "Admin", Username: "admin-p256", Role: issuer.RoleAdmin, Created: d.now}); err != nil {
		t.Fatal(err)
	}
	return d
}

func vcDoc(issuerDID, id string) json.RawMessage {
	m := map[string]any{
		"@context":          []any{credentials.BaseContext, "https://www.w3.org/ns/credentials/examples/v2"},
		"type":              []any{"VerifiableCredential", "ExampleAlumniCredential"},
		"issuer":            issuerDID,
		"credentialSubject": map[string]any{"id": "did:example:1", "alumniOf": map[string]any{"name": "Example University"}},
	}
	if id != "" {
		m["id"] = id
	}
	b, _ := json.Marshal(m)
	return b
}

var withRevocation = issuer.VCIssueOptions{CredentialStatus: &issuer.VCStatusRequest{Type: credentials.StatusEntryType}}

// TestIssueVCAudited: issuing and revoking through the VC API is audited
// under the purpose vc-api, naming the credential by an id the log
// admits, never its content; the record keeps no content either.
func TestIssueVCAudited(t *testing.T) {
	ctx := context.Background()
	d := newVCDesk(t)
	by := issuer.Principal{Org: "demo", Role: issuer.RoleSupervisor, TokenID: "tok_1"}
	const id = "https://university.example/credentials/3732?holder=72"
	out, err := d.svc.IssueVC(ctx, by, "demo", vcDoc("did:web:tally.example:orgs:demo", id), withRevocation)
	if err != nil {
		t.Fatal(err)
	}
	if out.Record == nil || out.Record.ID != id || out.Record.Source != issuer.SourceVCAPI || out.Record.Registration != "" {
		t.Fatalf("record = %+v", out.Record)
	}
	rec, _ := json.Marshal(out.Record)
	if strings.Contains(string(rec), "University") || strings.Contains(string(rec), "did:example:1") {
		t.Fatalf("the record keeps content: %s", rec)
	}
	if _, err := d.svc.UpdateVCStatus(ctx, by, "demo", issuer.VCStatusUpdate{CredentialID: id,
		CredentialStatus: json.RawMessage(`{"type":"BitstringStatusListEntry","statusPurpose":"revocation"}`)}); err != nil {
		t.Fatal(err)
	}
	var actions []audit.Action
	if err := d.log.Entries(ctx, func(e audit.Entry) error {
		if e.Purpose != audit.PurposeVCAPI {
			return nil
		}
		actions = append(actions, e.Action)
		if len(e.Objects) != 1 || e.Objects[0].Kind != audit.ObjectCredential || e.Objects[0].ID != d.svc.AuditCredentialID(id) || !strings.HasPrefix(e.Objects[0].ID, "hmac:") {
			t.Errorf("entry objects %+v", e.Objects)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if len(actions) != 2 || actions[0] != audit.ActionIssue || actions[1] != audit.ActionRevoke {
		t.Fatalf("audited %v, want issue and revoke", actions)
	}
}

// TestIssueVCKeyNotEd25519: an organisation whose key is P-256 cannot
// sign eddsa-rdfc-2022: a clear error, nothing kept; it issues enveloped
// VC-JWTs (ES256), and serves its status lists as VC-JWTs only.
func TestIssueVCKeyNotEd25519(t *testing.T) {
	ctx := context.Background()
	d := newVCDesk(t)
	by := issuer.SystemPrincipal("test")
	doc := vcDoc("did:web:tally.example:orgs:p256", "urn:example:p256:1")
	if _, err := d.svc.IssueVC(ctx, by, "p256", doc, withRevocation); !errors.Is(err, issuer.ErrUnsupportedKey) || !strings.Contains(err.Error(), "Ed25519") {
		t.Fatalf("DI with a P-256 key: %v", err)
	}
	if _, err := d.svc.CredentialRecord(ctx, "p256", "urn:example:p256:1"); !errors.Is(err, issuer.ErrNotFound) {
		t.Fatalf("a refused credential left a record: %v", err)
	}
	opts := withRevocation
	opts.Format = issuer.VCFormatJWT
	out, err := d.svc.IssueVC(ctx, by, "p256", doc, opts)
	if err != nil {
		t.Fatal(err)
	}
	jwt, err := credentials.ParseJWT(out.Credential)
	if err != nil {
		t.Fatal(err)
	}
	key, err := d.svc.SigningKey(ctx, "p256")
	if err != nil {
		t.Fatal(err)
	}
	if jwt.Algorithm() != credentials.ES256 || jwt.VerifySignature(key.Public) != nil || len(jwt.View().Status) != 1 {
		t.Fatalf("the enveloped VC-JWT: %s, status %+v", jwt.Algorithm(), jwt.View().Status)
	}
	if _, err := d.svc.StatusListDI(ctx, "p256", issuer.ListRevocation, 0); !errors.Is(err, issuer.ErrUnsupportedKey) {
		t.Fatalf("JSON-LD list with a P-256 key: %v", err)
	}
}

// TestIssueVCOnce: one credential id is issued once, however many
// requests race for it.
func TestIssueVCOnce(t *testing.T) {
	d := newVCDesk(t)
	var wg sync.WaitGroup
	var mu sync.Mutex
	ok, taken := 0, 0
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := d.svc.IssueVC(context.Background(), issuer.SystemPrincipal("test"), "demo", vcDoc("did:web:tally.example:orgs:demo", "urn:example:once"), withRevocation)
			mu.Lock()
			defer mu.Unlock()
			var ie *issuer.InvalidError
			switch {
			case err == nil:
				ok++
			case errors.As(err, &ie) && ie.Fields[0].Field == "credential.id":
				taken++
			default:
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if ok != 1 || taken != 7 {
		t.Fatalf("%d issued, %d refused; want 1 and 7", ok, taken)
	}
}

// TestIssueVCSignFails: when signing fails after a status entry was
// drawn, the entry is revoked, never standing for a valid credential.
func TestIssueVCSignFails(t *testing.T) {
	ctx := context.Background()
	d := newVCDesk(t)
	d.signer.fail = true
	if _, err := d.svc.IssueVC(ctx, issuer.SystemPrincipal("test"), "demo", vcDoc("did:web:tally.example:orgs:demo", "urn:example:fails"), withRevocation); err == nil {
		t.Fatal("issued with a failing signer")
	}
	rec, err := d.svc.CredentialRecord(ctx, "demo", "urn:example:fails")
	if err != nil || rec.State != issuer.StateRevoked {
		t.Fatalf("record = %+v, %v; want it revoked", rec, err)
	}
}

// TestSuspendNeedsSuspensionEntry: a VC API credential issued with a
// revocation entry only cannot be suspended, by any route: no verifier
// would see it.
func TestSuspendNeedsSuspensionEntry(t *testing.T) {
	ctx := context.Background()
	d := newVCDesk(t)
	by := issuer.SystemPrincipal("test")
	out, err := d.svc.IssueVC(ctx, by, "demo", vcDoc("did:web:tally.example:orgs:demo", "urn:example:rev-only"), withRevocation)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.svc.Suspend(ctx, by, "demo", out.Record.ID); !errors.Is(err, issuer.ErrStateChange) {
		t.Fatalf("suspend: %v", err)
	}
	_, err = d.svc.UpdateVCStatus(ctx, by, "demo", issuer.VCStatusUpdate{CredentialID: out.Record.ID,
		CredentialStatus: json.RawMessage(`{"type":"BitstringStatusListEntry","statusPurpose":"suspension"}`)})
	if !errors.Is(err, issuer.ErrInvalid) {
		t.Fatalf("suspend through the VC API: %v", err)
	}
	if rec, _ := d.svc.CredentialRecord(ctx, "demo", out.Record.ID); rec.State != issuer.StateActive {
		t.Fatalf("state %s", rec.State)
	}
}
