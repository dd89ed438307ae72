package dataintegrity_test

import (
	"context"
	"errors"
	"testing"

	"github.com/tally-id/tally/credentials"
	"github.com/tally-id/tally/credentials/dataintegrity"
)

// TestCheckStatusUnderAnotherName: a credential to sign whose context
// names the status property otherwise (a term, a compact IRI, the absolute
// IRI) is refused: its status entry would be invisible to a reader of the
// JSON, yet checked by a reader of the statements, and would escape the
// status entries the issuer draws. The same entry under credentialStatus
// is accepted.
func TestCheckStatusUnderAnotherName(t *testing.T) {
	p, err := dataintegrity.New(dataintegrity.Options{})
	if err != nil {
		t.Fatal(err)
	}
	const entry = `{"id":"https://tally.example/status/other/revocation/0#5","type":"BitstringStatusListEntry","statusPurpose":"revocation","statusListIndex":"5","statusListCredential":"https://tally.example/status/other/revocation/0"}`
	const suspension = `{"id":"https://tally.example/status/demo/suspension/0#9","type":"BitstringStatusListEntry","statusPurpose":"suspension","statusListIndex":"9","statusListCredential":"https://tally.example/status/demo/suspension/0"}`
	const head = `"type":["VerifiableCredential"],"issuer":"did:web:tally.example:orgs:demo","credentialSubject":{"id":"did:example:1"},`
	cases := []struct {
		name, doc string
		ok        bool
	}{
		{"under credentialStatus", `{"@context":["https://www.w3.org/ns/credentials/v2"],` + head + `"credentialStatus":` + entry + `}`, true},
		{"two under credentialStatus", `{"@context":["https://www.w3.org/ns/credentials/v2"],` + head + `"credentialStatus":[` + entry + `,` + suspension + `]}`, true},
		{"a term for the status property", `{"@context":["https://www.w3.org/ns/credentials/v2",{"myStatus":{"@id":"https://www.w3.org/2018/credentials#credentialStatus","@type":"@id"}}],` + head + `"myStatus":` + entry + `}`, false},
		{"a prefix and a compact IRI", `{"@context":["https://www.w3.org/ns/credentials/v2",{"c":"https://www.w3.org/2018/credentials#"}],` + head + `"c:credentialStatus":` + entry + `}`, false},
		{"the absolute IRI", `{"@context":["https://www.w3.org/ns/credentials/v2"],` + head + `"https://www.w3.org/2018/credentials#credentialStatus":` + entry + `}`, false},
		{"one more beside credentialStatus", `{"@context":["https://www.w3.org/ns/credentials/v2",{"myStatus":{"@id":"https://www.w3.org/2018/credentials#credentialStatus","@type":"@id"}}],` + head + `"credentialStatus":` + entry + `,"myStatus":` + suspension + `}`, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := p.Check(context.Background(), []byte(tc.doc))
			if tc.ok && err != nil {
				t.Fatalf("refused: %v", err)
			}
			if !tc.ok && !errors.Is(err, credentials.ErrMalformed) {
				t.Fatalf("accepted, or not as malformed: %v", err)
			}
		})
	}
}
