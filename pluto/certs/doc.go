// Package certs is pluto's X.509 store: the CA certificates of
// ipsec.d/cacerts, the CRLs of ipsec.d/crls and the end certificates in use
// (--cert, the peers'), with what the daemon and the state machine need from
// them. It does no I/O beyond reading the files it is asked to load, keeps
// no clock (callers pass now) and is safe for concurrent readers.
//
//   - Loading: LoadCAFile, LoadCADir, LoadCRLFile, LoadCRLDir (PEM or DER;
//     a CRL must verify with a loaded CA), LoadCertFile for --cert.
//   - Verification: Store.Verify, as pluto's verify_x509cert: a chain to a
//     loaded self-signed CA through the peer's and the loaded intermediate
//     CAs, every link valid at now, none revoked by a loaded CRL of its
//     issuer (and with SetStrictCRLPolicy, a current CRL for every issuer).
//     Errors name the certificate: `certificate "C=CH, CN=west" has expired
//     (not after ...)`, `... is revoked (...)`, `... issuer "..." is not a
//     loaded CA`; errors.Is tells ErrExpired, ErrRevoked, ErrUnknownCA, ...
//   - Identities: IDsOf lists what a certificate vouches for (subject DN as
//     ID_DER_ASN1_DN, subjectAltName DNS, email and IP); Matches compares an
//     ID payload with them, DNs as pluto's same_dn (SameDN; MatchDN adds
//     "*" wildcards).
//   - DN strings: ParseDN and FormatDN convert between pluto's
//     "C=CH, O=Linux strongSwan, CN=west" and DER; ParseID and IDString
//     extend fsm.ParseID and fsm.ID.String with DNs.
//   - whack: ListCerts, ListCACerts, ListCRLs write the --listcerts,
//     --listcacerts and --listcrls lines; CARequests gives the CA names for
//     CR payloads.
package certs
