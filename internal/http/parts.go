package http

import "strings"

// Part is a part of tally serve that can run alone: tally issuer and tally
// verifier each serve one (DESIGN.md, "The services").
type Part int

// The parts. A server serves the routes every part shares (sign-in, the
// account, staff and organisation administration, DID documents, health,
// the audit log) and those of its parts.
const (
	PartIssuer Part = 1 << iota
	PartVerifier
	// PartWallet is the wallet backend and the web wallet (tally wallet).
	PartWallet
	// PartAll is every part: tally serve.
	PartAll = PartIssuer | PartVerifier | PartWallet
)

// sharedPrefixes are the routes of every part: signing in, staff and the
// organisation (whose key signs both issuers' credentials and verifiers'
// requests), its DID document, health, the audit log.
var sharedPrefixes = []string{
	"/healthz", "/readyz", "/static/", "/signin", "/signout", "/account/",
	"/admin/staff", "/admin/organisation", "/admin/audit",
	"/api/v1/whoami", "/api/v1/orgs/:org/staff", "/api/v1/orgs/:org/keys", "/api/v1/orgs/:org/audit/",
	"/orgs/:org/did.json",
}

// verifierPrefixes are the verifier service's routes: scanning, referrals
// received, phone wallets, trust and status caches, the dedup registry and
// the VC API's verification.
var verifierPrefixes = []string{
	"/verify/", "/credentials/verify", "/presentations/verify",
	"/admin/domains", "/admin/domain-key", "/admin/trust",
	"/api/v1/domains", "/api/v1/orgs/:org/verify", "/api/v1/orgs/:org/trust",
	"/api/v1/orgs/:org/referrals/received", "/api/v1/orgs/:org/oid4vp",
}

// walletPrefixes are the wallet's routes: the web wallet, the wallet API
// that wallet apps call, and the registration staff's help for holders
// who lost their phone.
var walletPrefixes = []string{
	"/wallet/", "/api/v1/wallet/", "/admin/wallets", "/api/v1/wallets/",
	"/api/v1/wallet", // wallet/account: DELETE /api/v1/wallet
}

// partOf tells which part serves a route path: 0 for a route every part
// serves. Whatever is not shared or the verifier's is the issuer's.
func partOf(path string) Part {
	if path == "/" || path == "/api/v1/orgs/:org" {
		return 0
	}
	for _, p := range sharedPrefixes {
		if strings.HasPrefix(path, p) {
			return 0
		}
	}
	for _, p := range walletPrefixes {
		if strings.HasPrefix(path, p) {
			return PartWallet
		}
	}
	for _, p := range verifierPrefixes {
		if strings.HasPrefix(path, p) {
			return PartVerifier
		}
	}
	return PartIssuer
}
