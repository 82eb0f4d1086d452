// Package certs issues and loads the certificates that secure innonet's
// network paths, and binds a TLS connection to a site.
//
// Every site holds a certificate signed by the cluster CA that names its
// site code in a URI SAN (spiffe://innonet/site/BOS). Between sites,
// connections are mutual TLS: each end verifies the other's chain against
// the cluster CA and reads the site code from the certificate, so a peer
// holding BOS's key can only ever act as BOS. The client API may also
// require client certificates from a separate client CA.
//
// [Generate] writes a CA and per-site certificates for a topology (demos,
// tests and small deployments). [Load] reads a site's files into a
// [Store], whose TLS configurations always use the current files: call
// [Store.Reload] on SIGHUP, or run [Store.Watch] to reload on change, and
// new connections use the new certificates without a restart.
//
// What this package does not do: revocation lists or OCSP. A compromised
// site key is handled by issuing a new CA and reloading every site.
package certs
