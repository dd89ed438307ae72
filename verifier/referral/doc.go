// Package referral closes the loop of a referral (DESIGN.md, "Referrals"),
// on both sides.
//
// The receiving organisation (B) is shown a ReferralCredential with the
// person's registration credential. Check verifies both, checks that the
// referral names B and that both are about the same person
// (verifier.SamePerson), and keeps only the consented shared fields for
// the page. Receive records the referral once (by the credential's id);
// Change records acceptance, a decline with a reason code, and later an
// outcome code, each a state change with time and staff id, audited with
// no personal data. Every change queues a feedback JWT in an outbox, which
// Deliver sends to the callback the referring organisation publishes in
// its DID document (a service of type TallyReferralFeedback), retrying
// with backoff until it is accepted.
//
// The referring organisation (A) receives the feedback with
// ReceiveFeedback: the JWT must be signed by a key of the sender it names,
// be addressed to A, and be about a referral A issued to that sender. A
// replay changes nothing; an older state never overrides a newer one.
//
// The feedback JWT's format is in docs/referrals.md. Nothing personal
// travels in it: the referral credential's id, a state and a code.
package referral
