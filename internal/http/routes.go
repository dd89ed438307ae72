package http

import (
	"net/http"
	"slices"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/tally-id/tally/issuer"
)

// Kind is what a route serves: a page for people, or JSON for machines.
// It decides how a missing sign-in is answered: a page redirects to the
// sign-in form, the API says 401.
type Kind int

// The kinds of route.
const (
	Page Kind = iota
	API
)

// Route is one entry of the route table.
type Route struct {
	Method string
	// Path is echo's pattern. A route whose path has :org acts on that
	// organisation, and admits only its staff and tokens; other routes act
	// on the caller's own organisation.
	Path string
	Kind Kind
	// Public routes need no sign-in. Otherwise Roles lists the roles
	// admitted.
	Public bool
	Roles  []issuer.Role
	// Holder routes admit a signed-in wallet holder (a session of the
	// wallet, never a staff member's), and act on that holder's wallet
	// only (wallet.go).
	Holder  bool
	Handler echo.HandlerFunc
}

// OrgScoped tells whether the route names an organisation in its path.
func (r Route) OrgScoped() bool { return strings.Contains(r.Path, "/:org") }

// Routes returns the routes this server serves (the parts it runs), for
// tests and documentation.
func (s *Server) Routes() []Route {
	var out []Route
	for _, r := range s.routes() {
		if p := partOf(r.Path); p == 0 || s.parts&p != 0 {
			out = append(out, r)
		}
	}
	return out
}

// routes is the route table: every route tally serves, with the roles it
// admits. Nothing is routed anywhere else.
func (s *Server) routes() []Route {
	staff := issuer.AllRoles()
	admin := []issuer.Role{issuer.RoleAdmin}
	// registrars register people and correct registrations; readers also
	// admit auditors, who read them.
	registrars := []issuer.Role{issuer.RoleRegistrar, issuer.RoleSupervisor}
	readers := []issuer.Role{issuer.RoleRegistrar, issuer.RoleSupervisor, issuer.RoleAuditor}
	// registrars issue credentials, and suspend and reinstate them (a card
	// reported lost at the desk); only supervisors revoke.
	supervisors := []issuer.Role{issuer.RoleSupervisor}
	// --- retention: supervisors and administrators erase on request;
	// administrators and auditors read the audit log ---
	erasers := []issuer.Role{issuer.RoleSupervisor, issuer.RoleAdmin}
	auditors := []issuer.Role{issuer.RoleAdmin, issuer.RoleAuditor}
	// --- oid4vp: verifying staff ask phone wallets
	vpStaff := []issuer.Role{issuer.RoleVerifier, issuer.RoleSupervisor}
	// referrals (issue 7): verifying staff of the receiving organisation.
	referralStaff := []issuer.Role{issuer.RoleVerifier, issuer.RoleSupervisor}
	// --- trust (issue 7) ---
	trustReaders := []issuer.Role{issuer.RoleVerifier, issuer.RoleSupervisor, issuer.RoleConsortium}
	consortium := []issuer.Role{issuer.RoleConsortium}
	// desk (issue 7): verifying staff and their supervisors.
	deskStaff := []issuer.Role{issuer.RoleVerifier, issuer.RoleSupervisor}
	// vcapi (issue 7): verifying staff check credentials through the VC API.
	vcVerifiers := []issuer.Role{issuer.RoleVerifier, issuer.RoleSupervisor}
	return []Route{
		{Method: http.MethodGet, Path: "/healthz", Kind: API, Public: true, Handler: s.healthz},
		{Method: http.MethodGet, Path: "/readyz", Kind: API, Public: true, Handler: s.readyz},
		{Method: http.MethodGet, Path: "/orgs/:org/did.json", Kind: API, Public: true, Handler: s.didDocument},
		{Method: http.MethodGet, Path: "/status/:org/:kind/:n", Kind: API, Public: true, Handler: s.statusList},
		{Method: http.MethodGet, Path: "/static/*", Kind: Page, Public: true, Handler: echo.WrapHandler(s.static)},
		{Method: http.MethodGet, Path: "/", Kind: Page, Public: true, Handler: s.root},
		{Method: http.MethodGet, Path: "/signin", Kind: Page, Public: true, Handler: s.signinForm},
		{Method: http.MethodPost, Path: "/signin", Kind: Page, Public: true, Handler: s.signin},
		{Method: http.MethodPost, Path: "/signout", Kind: Page, Public: true, Handler: s.signout},

		// --- OpenID4VCI (oid4vci.go): each organisation is a credential issuer.
		{Method: http.MethodGet, Path: "/.well-known/openid-credential-issuer/orgs/:org", Kind: API, Public: true, Handler: s.vciIssuerMetadata},
		{Method: http.MethodGet, Path: "/.well-known/oauth-authorization-server/orgs/:org", Kind: API, Public: true, Handler: s.vciASMetadata},
		{Method: http.MethodGet, Path: "/orgs/:org/offers/:offer", Kind: API, Public: true, Handler: s.vciOffer},
		{Method: http.MethodPost, Path: "/orgs/:org/token", Kind: API, Public: true, Handler: s.vciToken},
		{Method: http.MethodPost, Path: "/orgs/:org/nonce", Kind: API, Public: true, Handler: s.vciNonce},
		{Method: http.MethodPost, Path: "/orgs/:org/credential", Kind: API, Public: true, Handler: s.vciCredential},
		{Method: http.MethodPost, Path: "/issuer/registrations/:id/offers", Kind: Page, Roles: registrars, Handler: s.createOffer},
		{Method: http.MethodPost, Path: "/api/v1/orgs/:org/registrations/:id/offers", Kind: API, Roles: registrars, Handler: s.apiCreateOffer},
		// --- end OpenID4VCI

		// --- the wallet (issue 8, wallet*.go): the web wallet and the
		// wallet API; Holder routes act on the signed-in holder's wallet.
		{Method: http.MethodGet, Path: "/wallet/", Kind: Page, Public: true, Handler: s.walletHome},
		{Method: http.MethodGet, Path: "/wallet/open", Kind: Page, Public: true, Handler: s.walletOpenForm},
		{Method: http.MethodPost, Path: "/wallet/open", Kind: Page, Public: true, Handler: s.walletOpen},
		{Method: http.MethodGet, Path: "/wallet/signin", Kind: Page, Public: true, Handler: s.walletSigninForm},
		{Method: http.MethodPost, Path: "/wallet/signin", Kind: Page, Public: true, Handler: s.walletSignin},
		{Method: http.MethodPost, Path: "/wallet/signout", Kind: Page, Public: true, Handler: s.walletSignout},
		{Method: http.MethodPost, Path: "/api/v1/wallet/holders", Kind: API, Public: true, Handler: s.apiWalletOpen},
		{Method: http.MethodPost, Path: "/api/v1/wallet/sessions", Kind: API, Public: true, Handler: s.apiWalletSignin},
		{Method: http.MethodDelete, Path: "/api/v1/wallet/session", Kind: API, Holder: true, Handler: s.apiWalletSignout},
		{Method: http.MethodGet, Path: "/api/v1/wallet/credentials", Kind: API, Holder: true, Handler: s.apiWalletCredentials},
		{Method: http.MethodGet, Path: "/api/v1/wallet/credentials/:id", Kind: API, Holder: true, Handler: s.apiWalletCredential},
		{Method: http.MethodDelete, Path: "/api/v1/wallet/credentials/:id", Kind: API, Holder: true, Handler: s.apiWalletDeleteCredential},
		// --- wallet/present --- (wallet_present*.go): the wallet answers verifiers.
		{Method: http.MethodPost, Path: "/api/v1/wallet/presentations/preview", Kind: API, Holder: true, Handler: s.apiWalletPresentPreview},
		{Method: http.MethodPost, Path: "/api/v1/wallet/presentations", Kind: API, Holder: true, Handler: s.apiWalletPresent},
		{Method: http.MethodPost, Path: "/api/v1/wallet/presentations/offline", Kind: API, Holder: true, Handler: s.apiWalletOffline},
		{Method: http.MethodGet, Path: "/wallet/present", Kind: Page, Holder: true, Handler: s.walletPresentForm},
		{Method: http.MethodPost, Path: "/wallet/present", Kind: Page, Holder: true, Handler: s.walletPresentRead},
		{Method: http.MethodPost, Path: "/wallet/present/frame", Kind: Page, Holder: true, Handler: s.scanFrame},
		{Method: http.MethodPost, Path: "/wallet/present/:rid", Kind: Page, Holder: true, Handler: s.walletPresentAnswer},
		{Method: http.MethodGet, Path: "/wallet/present/offline/:id", Kind: Page, Holder: true, Handler: s.walletOfflinePage},
		{Method: http.MethodPost, Path: "/wallet/present/offline/:id", Kind: Page, Holder: true, Handler: s.walletOfflineShow},
		// --- wallet/account --- (wallet_account*.go): the holder's
		// settings, PIN, backups, export, share log and deletion; the
		// public doors of recovery and staff reset (limited per client);
		// registration staff of any organisation give reset codes (a
		// wallet belongs to no organisation).
		{Method: http.MethodGet, Path: "/wallet/settings", Kind: Page, Holder: true, Handler: s.walletSettingsPage},
		{Method: http.MethodPost, Path: "/wallet/settings/lang", Kind: Page, Holder: true, Handler: s.walletSettingsLang},
		{Method: http.MethodPost, Path: "/wallet/settings/pin", Kind: Page, Holder: true, Handler: s.walletSettingsPIN},
		{Method: http.MethodPost, Path: "/wallet/settings/backup", Kind: Page, Holder: true, Handler: s.walletSettingsBackup},
		{Method: http.MethodPost, Path: "/wallet/settings/restore", Kind: Page, Holder: true, Handler: s.walletSettingsRestore},
		{Method: http.MethodPost, Path: "/wallet/settings/export", Kind: Page, Holder: true, Handler: s.walletSettingsExport},
		{Method: http.MethodGet, Path: "/wallet/settings/delete", Kind: Page, Holder: true, Handler: s.walletDeleteForm},
		{Method: http.MethodPost, Path: "/wallet/settings/delete", Kind: Page, Holder: true, Handler: s.walletDelete},
		{Method: http.MethodGet, Path: "/wallet/shares", Kind: Page, Holder: true, Handler: s.walletSharesPage},
		{Method: http.MethodGet, Path: "/wallet/recover", Kind: Page, Public: true, Handler: s.walletRecoverForm},
		{Method: http.MethodPost, Path: "/wallet/recover", Kind: Page, Public: true, Handler: s.walletRecover},
		{Method: http.MethodGet, Path: "/wallet/reset", Kind: Page, Public: true, Handler: s.walletResetForm},
		{Method: http.MethodPost, Path: "/wallet/reset", Kind: Page, Public: true, Handler: s.walletReset},
		{Method: http.MethodPut, Path: "/api/v1/wallet/pin", Kind: API, Holder: true, Handler: s.apiWalletChangePIN},
		{Method: http.MethodGet, Path: "/api/v1/wallet/shares", Kind: API, Holder: true, Handler: s.apiWalletShares},
		{Method: http.MethodPost, Path: "/api/v1/wallet/backup", Kind: API, Holder: true, Handler: s.apiWalletBackup},
		{Method: http.MethodPost, Path: "/api/v1/wallet/restore", Kind: API, Holder: true, Handler: s.apiWalletRestore},
		{Method: http.MethodGet, Path: "/api/v1/wallet/export", Kind: API, Holder: true, Handler: s.apiWalletExport},
		{Method: http.MethodDelete, Path: "/api/v1/wallet", Kind: API, Holder: true, Handler: s.apiWalletDelete},
		{Method: http.MethodPut, Path: "/api/v1/wallet/settings", Kind: API, Holder: true, Handler: s.apiWalletSettings},
		{Method: http.MethodPost, Path: "/api/v1/wallet/recover", Kind: API, Public: true, Handler: s.apiWalletRecover},
		{Method: http.MethodPost, Path: "/api/v1/wallet/reset", Kind: API, Public: true, Handler: s.apiWalletReset},
		{Method: http.MethodGet, Path: "/admin/wallets", Kind: Page, Roles: registrars, Handler: s.walletStaffPage},
		{Method: http.MethodPost, Path: "/admin/wallets", Kind: Page, Roles: registrars, Handler: s.walletStaffReset},
		{Method: http.MethodPost, Path: "/api/v1/wallets/:wallet/reset", Kind: API, Roles: registrars, Handler: s.apiWalletStaffReset},
		// --- end wallet/account
		// --- wallet/pwa --- the holder's credential pages, their status,
		// the installable offline app (wallet_pwa*.go).
		{Method: http.MethodGet, Path: "/wallet/credentials/:id", Kind: Page, Holder: true, Handler: s.walletCredential},
		{Method: http.MethodPost, Path: "/wallet/credentials/:id/status", Kind: Page, Holder: true, Handler: s.walletCheckStatus},
		{Method: http.MethodGet, Path: "/wallet/credentials/:id/delete", Kind: Page, Holder: true, Handler: s.walletCredentialDeleteForm},
		{Method: http.MethodPost, Path: "/wallet/credentials/:id/delete", Kind: Page, Holder: true, Handler: s.walletCredentialDelete},
		{Method: http.MethodGet, Path: "/api/v1/wallet/credentials/:id/status", Kind: API, Holder: true, Handler: s.apiWalletStatus},
		{Method: http.MethodGet, Path: "/wallet/manifest.webmanifest", Kind: API, Public: true, Handler: s.walletManifest},
		{Method: http.MethodGet, Path: "/wallet/sw.js", Kind: API, Public: true, Handler: s.walletServiceWorker},
		{Method: http.MethodGet, Path: "/wallet/icon-192.png", Kind: API, Public: true, Handler: s.walletIcon(192)},
		{Method: http.MethodGet, Path: "/wallet/icon-512.png", Kind: API, Public: true, Handler: s.walletIcon(512)},
		{Method: http.MethodGet, Path: "/wallet/offline", Kind: Page, Public: true, Handler: s.walletOffline},
		// --- wallet/receive ---: credential offers (OpenID4VCI) and QR cards
		{Method: http.MethodGet, Path: "/wallet/receive", Kind: Page, Holder: true, Handler: s.walletReceivePage},
		{Method: http.MethodPost, Path: "/wallet/receive", Kind: Page, Holder: true, Handler: s.walletReceiveForm},
		{Method: http.MethodPost, Path: "/wallet/receive/accept", Kind: Page, Holder: true, Handler: s.walletReceiveAccept},
		{Method: http.MethodPost, Path: "/wallet/receive/frame", Kind: API, Holder: true, Handler: s.scanFrame},
		{Method: http.MethodGet, Path: "/wallet/import", Kind: Page, Holder: true, Handler: s.walletImportPage},
		{Method: http.MethodPost, Path: "/wallet/import", Kind: Page, Holder: true, Handler: s.walletImport},
		{Method: http.MethodPost, Path: "/api/v1/wallet/offers/preview", Kind: API, Holder: true, Handler: s.apiWalletOfferPreview},
		{Method: http.MethodPost, Path: "/api/v1/wallet/offers", Kind: API, Holder: true, Handler: s.apiWalletReceive},
		{Method: http.MethodPost, Path: "/api/v1/wallet/cards", Kind: API, Holder: true, Handler: s.apiWalletCard},
		// --- end of the wallet

		{Method: http.MethodGet, Path: "/issuer/", Kind: Page, Roles: staff, Handler: s.home},
		{Method: http.MethodGet, Path: "/admin/staff", Kind: Page, Roles: admin, Handler: s.staffPage},
		{Method: http.MethodPost, Path: "/admin/staff", Kind: Page, Roles: admin, Handler: s.staffCreate},
		{Method: http.MethodGet, Path: "/admin/programmes", Kind: Page, Roles: admin, Handler: s.programmesPage},
		{Method: http.MethodPost, Path: "/admin/programmes", Kind: Page, Roles: admin, Handler: s.programmeCreate},
		{Method: http.MethodGet, Path: "/admin/programmes/:code", Kind: Page, Roles: admin, Handler: s.programmePage},
		{Method: http.MethodPost, Path: "/admin/programmes/:code", Kind: Page, Roles: admin, Handler: s.programmeUpdate},

		{Method: http.MethodGet, Path: "/issuer/register", Kind: Page, Roles: registrars, Handler: s.registerForm},
		{Method: http.MethodPost, Path: "/issuer/register", Kind: Page, Roles: registrars, Handler: s.register},
		{Method: http.MethodGet, Path: "/issuer/search", Kind: Page, Roles: readers, Handler: s.searchPage},
		{Method: http.MethodPost, Path: "/issuer/search", Kind: Page, Roles: readers, Handler: s.search},
		{Method: http.MethodGet, Path: "/issuer/registrations/:id", Kind: Page, Roles: readers, Handler: s.registrationPage},
		{Method: http.MethodGet, Path: "/issuer/registrations/:id/correct", Kind: Page, Roles: registrars, Handler: s.correctForm},
		{Method: http.MethodPost, Path: "/issuer/registrations/:id/correct", Kind: Page, Roles: registrars, Handler: s.correct},
		{Method: http.MethodPost, Path: "/issuer/registrations/:id/link", Kind: Page, Roles: registrars, Handler: s.link},
		{Method: http.MethodPost, Path: "/issuer/registrations/:id/credentials", Kind: Page, Roles: registrars, Handler: s.issueCredential},
		{Method: http.MethodGet, Path: "/issuer/credentials/:cred", Kind: Page, Roles: registrars, Handler: s.credentialPage},
		{Method: http.MethodGet, Path: "/issuer/credentials/:cred/card.pdf", Kind: Page, Roles: registrars, Handler: s.credentialPDF},
		{Method: http.MethodGet, Path: "/issuer/credentials/:cred/card.png", Kind: Page, Roles: registrars, Handler: s.credentialPNG},
		{Method: http.MethodPost, Path: "/issuer/credentials/:cred/revoke", Kind: Page, Roles: supervisors, Handler: s.changeCredential(s.svc.Revoke, "revoked")},
		{Method: http.MethodPost, Path: "/issuer/credentials/:cred/suspend", Kind: Page, Roles: registrars, Handler: s.changeCredential(s.svc.Suspend, "suspended")},
		{Method: http.MethodPost, Path: "/issuer/credentials/:cred/reinstate", Kind: Page, Roles: registrars, Handler: s.changeCredential(s.svc.Reinstate, "reinstated")},

		// --- bulk imports ---
		{Method: http.MethodGet, Path: "/issuer/imports", Kind: Page, Roles: readers, Handler: s.importsPage},
		{Method: http.MethodPost, Path: "/issuer/imports", Kind: Page, Roles: registrars, Handler: s.importUpload},
		{Method: http.MethodGet, Path: "/issuer/imports/:id", Kind: Page, Roles: readers, Handler: s.importPage},
		{Method: http.MethodPost, Path: "/issuer/imports/:id/start", Kind: Page, Roles: registrars, Handler: s.importStart},
		{Method: http.MethodGet, Path: "/issuer/imports/:id/cards.pdf", Kind: Page, Roles: registrars, Handler: s.importCards},
		{Method: http.MethodPost, Path: "/api/v1/orgs/:org/imports", Kind: API, Roles: registrars, Handler: s.apiImportCreate},
		{Method: http.MethodGet, Path: "/api/v1/orgs/:org/imports/:id", Kind: API, Roles: readers, Handler: s.apiImport},
		{Method: http.MethodGet, Path: "/api/v1/orgs/:org/imports/:id/cards.pdf", Kind: API, Roles: registrars, Handler: s.importCards},
		// --- end of bulk imports ---

		{Method: http.MethodGet, Path: "/api/v1/whoami", Kind: API, Roles: staff, Handler: s.apiWhoami},
		{Method: http.MethodGet, Path: "/api/v1/orgs/:org/staff", Kind: API, Roles: admin, Handler: s.apiStaffList},
		{Method: http.MethodPost, Path: "/api/v1/orgs/:org/staff", Kind: API, Roles: admin, Handler: s.apiStaffCreate},
		{Method: http.MethodGet, Path: "/api/v1/orgs/:org/programmes", Kind: API, Roles: staff, Handler: s.apiProgrammes},
		{Method: http.MethodPost, Path: "/api/v1/orgs/:org/programmes", Kind: API, Roles: admin, Handler: s.apiProgrammeCreate},
		{Method: http.MethodGet, Path: "/api/v1/orgs/:org/programmes/:code", Kind: API, Roles: staff, Handler: s.apiProgramme},
		{Method: http.MethodPut, Path: "/api/v1/orgs/:org/programmes/:code", Kind: API, Roles: admin, Handler: s.apiProgrammeUpdate},
		{Method: http.MethodPost, Path: "/api/v1/orgs/:org/registrations", Kind: API, Roles: registrars, Handler: s.apiRegister},
		{Method: http.MethodPost, Path: "/api/v1/orgs/:org/registrations/search", Kind: API, Roles: readers, Handler: s.apiSearch},
		{Method: http.MethodGet, Path: "/api/v1/orgs/:org/registrations/:id", Kind: API, Roles: readers, Handler: s.apiRegistration},
		{Method: http.MethodPatch, Path: "/api/v1/orgs/:org/registrations/:id", Kind: API, Roles: registrars, Handler: s.apiCorrect},
		{Method: http.MethodPost, Path: "/api/v1/orgs/:org/registrations/:id/links", Kind: API, Roles: registrars, Handler: s.apiLink},
		{Method: http.MethodGet, Path: "/api/v1/orgs/:org/registrations/:id/credentials", Kind: API, Roles: readers, Handler: s.apiCredentials},
		{Method: http.MethodPost, Path: "/api/v1/orgs/:org/registrations/:id/credentials", Kind: API, Roles: registrars, Handler: s.apiIssue},
		{Method: http.MethodPost, Path: "/api/v1/orgs/:org/credentials/:cred/revoke", Kind: API, Roles: supervisors, Handler: s.apiState(s.svc.Revoke, "revoked")},
		{Method: http.MethodPost, Path: "/api/v1/orgs/:org/credentials/:cred/suspend", Kind: API, Roles: registrars, Handler: s.apiState(s.svc.Suspend, "suspended")},
		{Method: http.MethodPost, Path: "/api/v1/orgs/:org/credentials/:cred/reinstate", Kind: API, Roles: registrars, Handler: s.apiState(s.svc.Reinstate, "reinstated")},

		// --- W3C VC API (vcapi) ---
		// Registrars and supervisors issue; the status update suspends and
		// reinstates for both, and revokes for supervisors only (checked by
		// Service.UpdateVCStatus). In open conformance mode (loopback only)
		// both routes are public and act for one organisation.
		{Method: http.MethodPost, Path: "/credentials/issue", Kind: API, Public: s.vcOpenOrg != "", Roles: registrars, Handler: s.vcIssue},
		{Method: http.MethodPost, Path: "/credentials/status", Kind: API, Public: s.vcOpenOrg != "", Roles: registrars, Handler: s.vcStatus},
		// --- keys: organisation settings, signing keys, staff accounts ---
		{Method: http.MethodGet, Path: "/account/password", Kind: Page, Roles: staff, Handler: s.passwordForm},
		{Method: http.MethodPost, Path: "/account/password", Kind: Page, Roles: staff, Handler: s.passwordChange},
		{Method: http.MethodPost, Path: "/admin/staff/:staff/password", Kind: Page, Roles: admin, Handler: s.staffReset},
		{Method: http.MethodPost, Path: "/admin/staff/:staff/disable", Kind: Page, Roles: admin, Handler: s.staffDisable},
		{Method: http.MethodGet, Path: "/admin/organisation", Kind: Page, Roles: admin, Handler: s.orgPage},
		{Method: http.MethodPost, Path: "/admin/organisation", Kind: Page, Roles: admin, Handler: s.orgUpdate},
		{Method: http.MethodPost, Path: "/admin/organisation/keys", Kind: Page, Roles: admin, Handler: s.keyRotate},
		{Method: http.MethodGet, Path: "/admin/organisation/keys/:key/compromise", Kind: Page, Roles: admin, Handler: s.compromiseForm},
		{Method: http.MethodPost, Path: "/admin/organisation/keys/:key/compromise", Kind: Page, Roles: admin, Handler: s.compromise},
		{Method: http.MethodPost, Path: "/api/v1/orgs/:org/staff/:staff/password", Kind: API, Roles: admin, Handler: s.apiStaffReset},
		{Method: http.MethodPost, Path: "/api/v1/orgs/:org/staff/:staff/disable", Kind: API, Roles: admin, Handler: s.apiStaffDisable},
		{Method: http.MethodGet, Path: "/api/v1/orgs/:org", Kind: API, Roles: admin, Handler: s.apiOrg},
		{Method: http.MethodPut, Path: "/api/v1/orgs/:org", Kind: API, Roles: admin, Handler: s.apiOrgUpdate},
		{Method: http.MethodGet, Path: "/api/v1/orgs/:org/keys", Kind: API, Roles: admin, Handler: s.apiKeys},
		{Method: http.MethodPost, Path: "/api/v1/orgs/:org/keys", Kind: API, Roles: admin, Handler: s.apiKeyRotate},
		{Method: http.MethodPost, Path: "/api/v1/orgs/:org/keys/:key/compromise", Kind: API, Roles: admin, Handler: s.apiCompromise},
		// --- end keys ---
		// --- retention: erasure on request (supervisors and administrators,
		// who see no personal data on the confirmation page), data key
		// rotation, the audit page and signed anchors ---
		{Method: http.MethodGet, Path: "/issuer/registrations/:id/erase", Kind: Page, Roles: erasers, Handler: s.eraseForm},
		{Method: http.MethodPost, Path: "/issuer/registrations/:id/erase", Kind: Page, Roles: erasers, Handler: s.erase},
		{Method: http.MethodPost, Path: "/api/v1/orgs/:org/registrations/:id/erase", Kind: API, Roles: erasers, Handler: s.apiErase},
		{Method: http.MethodPost, Path: "/api/v1/orgs/:org/datakey/rotate", Kind: API, Roles: admin, Handler: s.apiRotateDataKey},
		{Method: http.MethodGet, Path: "/admin/datakey", Kind: Page, Roles: admin, Handler: s.dataKeyPage},
		{Method: http.MethodPost, Path: "/admin/datakey", Kind: Page, Roles: admin, Handler: s.dataKeyRotate},
		{Method: http.MethodGet, Path: "/admin/audit", Kind: Page, Roles: auditors, Handler: s.auditPage},
		{Method: http.MethodGet, Path: "/api/v1/orgs/:org/audit/anchor", Kind: API, Roles: auditors, Handler: s.apiAuditAnchor},
		// --- domains (issue 7) ---
		// The dedup registry's domains, token lists and reconciliation
		// (domains.go, domains_api.go): consortium administrators manage
		// them; the instance's administrators read the pages and reports.
		{Method: http.MethodGet, Path: "/admin/domains", Kind: Page, Roles: domainReaders(), Handler: s.domainsPage},
		{Method: http.MethodPost, Path: "/admin/domains", Kind: Page, Roles: domainManagers(), Handler: s.domainCreate},
		{Method: http.MethodPost, Path: "/admin/domain-key", Kind: Page, Roles: domainManagers(), Handler: s.domainKeyDownload},
		{Method: http.MethodGet, Path: "/admin/domains/:domain", Kind: Page, Roles: domainReaders(), Handler: s.domainPage},
		{Method: http.MethodGet, Path: "/admin/domains/:domain/tokens.csv", Kind: Page, Roles: domainManagers(), Handler: s.domainExport},
		{Method: http.MethodPost, Path: "/admin/domains/:domain/peers", Kind: Page, Roles: domainManagers(), Handler: s.domainPeerUpload},
		{Method: http.MethodGet, Path: "/admin/domains/:domain/peers/:peer", Kind: Page, Roles: domainReaders(), Handler: s.domainReportPage},
		{Method: http.MethodGet, Path: "/admin/domains/:domain/peers/:peer/report.csv", Kind: Page, Roles: domainReaders(), Handler: s.domainReportCSV},
		{Method: http.MethodGet, Path: "/api/v1/domains", Kind: API, Roles: domainReaders(), Handler: s.apiDomains},
		{Method: http.MethodPost, Path: "/api/v1/domains", Kind: API, Roles: domainManagers(), Handler: s.apiDomainCreate},
		{Method: http.MethodGet, Path: "/api/v1/domains/:domain", Kind: API, Roles: domainReaders(), Handler: s.apiDomain},
		{Method: http.MethodGet, Path: "/api/v1/domains/:domain/tokens.csv", Kind: API, Roles: domainManagers(), Handler: s.domainExport},
		{Method: http.MethodPut, Path: "/api/v1/domains/:domain/peers/:peer", Kind: API, Roles: domainManagers(), Handler: s.apiPeerListPut},
		{Method: http.MethodGet, Path: "/api/v1/domains/:domain/peers/:peer/report", Kind: API, Roles: domainReaders(), Handler: s.apiReport},
		{Method: http.MethodGet, Path: "/api/v1/domains/:domain/peers/:peer/report.csv", Kind: API, Roles: domainReaders(), Handler: s.domainReportCSV},
		// --- end domains
		// --- oid4vp (issue 7) ---
		// Verifying staff ask a phone wallet (OpenID4VP 1.0); the wallet
		// fetches the request object and posts its response, with no account.
		{Method: http.MethodGet, Path: "/verify/oid4vp/new", Kind: Page, Roles: vpStaff, Handler: s.vpNewForm},
		{Method: http.MethodPost, Path: "/verify/oid4vp", Kind: Page, Roles: vpStaff, Handler: s.vpCreate},
		{Method: http.MethodGet, Path: "/verify/oid4vp/:tx", Kind: Page, Roles: vpStaff, Handler: s.vpShow},
		{Method: http.MethodGet, Path: "/api/v1/orgs/:org/oid4vp/:tx", Kind: API, Roles: vpStaff, Handler: s.vpState},
		{Method: http.MethodGet, Path: "/verify/oid4vp/requests/:tx", Kind: API, Public: true, Handler: s.vpRequestObject},
		{Method: http.MethodPost, Path: "/verify/oid4vp/requests/:tx", Kind: API, Public: true, Handler: s.vpRequestObject},
		{Method: http.MethodPost, Path: "/verify/oid4vp/responses/:tx", Kind: API, Public: true, Handler: s.vpResponse},
		// --- end oid4vp
		// --- referrals (issue 7) ---
		// The receiving organisation: verifying staff present, accept,
		// decline and close referrals (referrals.go).
		{Method: http.MethodGet, Path: "/verify/referrals", Kind: Page, Roles: referralStaff, Handler: s.referralsPage},
		{Method: http.MethodPost, Path: "/verify/referrals", Kind: Page, Roles: referralStaff, Handler: s.referralPresent},
		{Method: http.MethodGet, Path: "/verify/referrals/:id", Kind: Page, Roles: referralStaff, Handler: s.referralRecordPage},
		{Method: http.MethodPost, Path: "/verify/referrals/:id/state", Kind: Page, Roles: referralStaff, Handler: s.referralChange},
		{Method: http.MethodGet, Path: "/api/v1/orgs/:org/referrals/received", Kind: API, Roles: referralStaff, Handler: s.apiReferralsReceived},
		{Method: http.MethodPost, Path: "/api/v1/orgs/:org/referrals/received", Kind: API, Roles: referralStaff, Handler: s.apiReferralPresent},
		{Method: http.MethodPost, Path: "/api/v1/orgs/:org/referrals/received/:id/state", Kind: API, Roles: referralStaff, Handler: s.apiReferralChange},
		// The referring organisation: the feedback endpoint its DID
		// document names (public: the JWT's signature authenticates), and
		// its referrals with their state (referrals_sent.go).
		{Method: http.MethodPost, Path: "/orgs/:org/referrals/feedback", Kind: API, Public: true, Handler: s.referralFeedback},
		{Method: http.MethodGet, Path: "/issuer/referrals", Kind: Page, Roles: readers, Handler: s.referralsSentPage},
		{Method: http.MethodGet, Path: "/api/v1/orgs/:org/referrals/sent", Kind: API, Roles: readers, Handler: s.apiReferralsSent},
		// --- end referrals
		// --- trust (issue 7) ---
		// Verifying staff and consortium administrators see what the
		// verifier trusts and has kept; consortium administrators change
		// the trust anchors and lists (the instance's, not one
		// organisation's).
		{Method: http.MethodGet, Path: "/verify/trust", Kind: Page, Roles: trustReaders, Handler: s.trustPage},
		{Method: http.MethodGet, Path: "/admin/trust", Kind: Page, Roles: consortium, Handler: s.adminTrustPage},
		{Method: http.MethodPost, Path: "/admin/trust/anchors", Kind: Page, Roles: consortium, Handler: s.adminTrustAnchorAdd},
		{Method: http.MethodPost, Path: "/admin/trust/anchors/remove", Kind: Page, Roles: consortium, Handler: s.adminTrustAnchorRemove},
		{Method: http.MethodPost, Path: "/admin/trust/lists", Kind: Page, Roles: consortium, Handler: s.adminTrustListAdd},
		{Method: http.MethodPost, Path: "/admin/trust/lists/remove", Kind: Page, Roles: consortium, Handler: s.adminTrustListRemove},
		{Method: http.MethodPost, Path: "/admin/trust/refresh", Kind: Page, Roles: consortium, Handler: s.adminTrustRefresh},
		{Method: http.MethodGet, Path: "/api/v1/orgs/:org/trust", Kind: API, Roles: trustReaders, Handler: s.apiTrust},
		{Method: http.MethodPost, Path: "/api/v1/orgs/:org/trust/anchors", Kind: API, Roles: consortium, Handler: s.apiTrustAnchorAdd},
		{Method: http.MethodPost, Path: "/api/v1/orgs/:org/trust/anchors/remove", Kind: API, Roles: consortium, Handler: s.apiTrustAnchorRemove},
		{Method: http.MethodPost, Path: "/api/v1/orgs/:org/trust/lists", Kind: API, Roles: consortium, Handler: s.apiTrustListAdd},
		{Method: http.MethodPost, Path: "/api/v1/orgs/:org/trust/lists/remove", Kind: API, Roles: consortium, Handler: s.apiTrustListRemove},
		{Method: http.MethodPost, Path: "/api/v1/orgs/:org/trust/refresh", Kind: API, Roles: consortium, Handler: s.apiTrustRefresh},
		// --- end trust
		// --- desk (issue 7): verifying staff scan credentials at their
		// service point; supervisors set the dedup domain and the service
		// points (desk.go) ---
		{Method: http.MethodGet, Path: "/verify/", Kind: Page, Roles: deskStaff, Handler: s.deskPage},
		{Method: http.MethodPost, Path: "/verify/check", Kind: Page, Roles: deskStaff, Handler: s.deskCheck},
		{Method: http.MethodPost, Path: "/verify/scan/frame", Kind: Page, Roles: deskStaff, Handler: s.deskFrame},
		{Method: http.MethodGet, Path: "/verify/settings", Kind: Page, Roles: supervisors, Handler: s.deskSettingsPage},
		{Method: http.MethodPost, Path: "/verify/settings", Kind: Page, Roles: supervisors, Handler: s.deskSaveSettings},
		{Method: http.MethodPost, Path: "/api/v1/orgs/:org/verify", Kind: API, Roles: deskStaff, Handler: s.apiVerify},
		// --- end desk
		// --- vcapi (issue 7): the VC API verifier routes (vcverify.go), for
		// verifying staff and their tokens; public in open conformance mode
		// (loopback only), like the issuer routes ---
		{Method: http.MethodPost, Path: "/credentials/verify", Kind: API, Public: s.vcOpenOrg != "", Roles: vcVerifiers, Handler: s.vcVerify},
		{Method: http.MethodPost, Path: "/presentations/verify", Kind: API, Public: s.vcOpenOrg != "", Roles: vcVerifiers, Handler: s.vpVerify},
		// --- end vcapi
	}
}

// principalKey is where guard leaves the request's principal in echo's
// context.
const principalKey = "tally.principal"

func principalOf(c echo.Context) (issuer.Principal, bool) {
	p, ok := c.Get(principalKey).(issuer.Principal)
	return p, ok
}

// mustPrincipal is the principal of a guarded route's request.
func mustPrincipal(c echo.Context) issuer.Principal {
	p, _ := principalOf(c)
	return p
}

// guard is the one place where requests are authenticated and checked
// against their route's roles and organisation.
func (s *Server) guard(r Route) echo.HandlerFunc {
	return func(c echo.Context) error {
		if r.Public {
			// A signed-in visitor is still known on public pages (the
			// sign-in page, the layout's menu).
			if p, err := s.authenticate(c); err == nil {
				c.Set(principalKey, p)
			}
			return r.Handler(c)
		}
		if r.Holder {
			return s.guardHolder(c, r)
		}
		p, err := s.authenticate(c)
		if err != nil {
			if r.Kind == Page && c.Request().Method == http.MethodGet {
				return c.Redirect(http.StatusSeeOther, "/signin?next="+urlQueryEscape(c.Request().URL.RequestURI()))
			}
			return err
		}
		c.Set(principalKey, p)
		if err := mustChangeFirst(c, p, r); err != nil || c.Response().Committed {
			return err
		}
		if !slices.Contains(r.Roles, p.Role) {
			return issuer.ErrForbidden
		}
		if r.OrgScoped() && c.Param("org") != p.Org {
			return issuer.ErrForbidden
		}
		return r.Handler(c)
	}
}
