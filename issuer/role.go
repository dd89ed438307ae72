package issuer

import "slices"

// Role is what a staff member or an API token may do. Routes declare the
// roles they admit; the HTTP layer checks them in one place.
type Role string

// The roles of DESIGN.md.
const (
	// RoleAdmin manages the organisation: its staff, settings and keys.
	RoleAdmin Role = "admin"
	// RoleRegistrar registers people, corrects registrations and issues
	// credentials.
	RoleRegistrar Role = "registrar"
	// RoleSupervisor reviews registrations, corrects and revokes.
	RoleSupervisor Role = "supervisor"
	// RoleAuditor reads the audit log, and reads and searches
	// registrations to check the work; it changes nothing.
	RoleAuditor Role = "auditor"
	// RoleVerifier checks credentials at a service point; it sees no
	// registration.
	RoleVerifier Role = "verifier"
	// RoleConsortium manages the instance's dedup domains and the trust
	// lists its verifiers use; it sees no registration and checks no
	// credential.
	RoleConsortium Role = "consortium-admin"
)

// AllRoles lists every role, in the order forms show them.
func AllRoles() []Role {
	return []Role{RoleAdmin, RoleRegistrar, RoleSupervisor, RoleAuditor, RoleVerifier, RoleConsortium}
}

// Valid reports whether r is one of AllRoles.
func (r Role) Valid() bool { return slices.Contains(AllRoles(), r) }

// String returns the role's name.
func (r Role) String() string { return string(r) }
