package http

import (
	"context"
	"errors"
	"fmt"

	"github.com/tally-id/tally/credentials"
	"github.com/tally-id/tally/issuer"
	"github.com/tally-id/tally/verifier/referral"
	"github.com/tally-id/tally/verifier/trustsync"
)

// ReferralOptions fills what referrals need of this instance (issue 7):
// its organisations' signing keys, their DID documents in-process, the
// keys of a feedback's sender (a trusted issuer, or an organisation of
// this instance) and the referral credentials each organisation issued.
// The caller adds the stores, the clock and the client.
func ReferralOptions(svc *issuer.Service, trust *trustsync.Service, insecureLoopback bool) referral.Options {
	local := func(ctx context.Context, did string) (issuer.Organisation, error) {
		orgs, err := svc.Organisations(ctx)
		if err != nil {
			return issuer.Organisation{}, err
		}
		for _, o := range orgs {
			if o.DID == did {
				return o, nil
			}
		}
		return issuer.Organisation{}, fmt.Errorf("%s is no organisation of this instance: %w", did, referral.ErrNotFound)
	}
	return referral.Options{
		Signer: svc.OrgSigningKey,
		Resolve: referral.NewResolver(referral.ResolverOptions{InsecureLoopback: insecureLoopback,
			Local: func(ctx context.Context, did string) (*credentials.DIDDocument, error) {
				o, err := local(ctx, did)
				if err != nil {
					return nil, err
				}
				return svc.DIDDocument(ctx, o.Slug)
			}}),
		SenderKeys: func(ctx context.Context, did string) ([]*credentials.Key, error) {
			if trust != nil {
				if iss, ok := trust.TrustList().Issuer(did); ok && iss.DID == did {
					return iss.PublicKeys(), nil
				}
			}
			o, err := local(ctx, did)
			if err != nil {
				return nil, err
			}
			return svc.PublicKeys(ctx, o.Slug)
		},
		Issued: func(ctx context.Context, org, id string) (referral.Issued, error) {
			rec, err := svc.CredentialRecord(ctx, org, id)
			if errors.Is(err, issuer.ErrNotFound) || err == nil && (rec.Type != credentials.TypeReferral || rec.Referral == nil) {
				return referral.Issued{}, fmt.Errorf("referral %s: %w", id, referral.ErrNotFound)
			}
			if err != nil {
				return referral.Issued{}, err
			}
			return referral.Issued{ID: rec.ID, Org: rec.Org, ReferredTo: rec.Referral.ReferredTo, Service: rec.Referral.Service,
				Registration: rec.Registration, IssuedAt: rec.Issued}, nil
		},
		InsecureLoopback: insecureLoopback,
	}
}

// referralErr turns the referral package's errors into the issuer's,
// which problemOf maps to statuses: a bad input or a refused feedback is
// an InvalidError naming the field, a missing referral not found, a
// change out of order a state conflict.
func referralErr(err error) error {
	var ie *referral.InputError
	var fe *referral.FeedbackError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &ie):
		return &issuer.InvalidError{Fields: []issuer.FieldError{{Field: ie.Field, Code: ie.Code, Message: ie.Message}}}
	case errors.As(err, &fe):
		return &issuer.InvalidError{Fields: []issuer.FieldError{{Field: "feedback", Code: fe.Reason, Message: fe.Message}}}
	case errors.Is(err, referral.ErrNotFound):
		return fmt.Errorf("%s: %w", err.Error(), issuer.ErrNotFound)
	case errors.Is(err, referral.ErrState):
		return fmt.Errorf("%s: %w", err.Error(), issuer.ErrStateChange)
	}
	return err
}
