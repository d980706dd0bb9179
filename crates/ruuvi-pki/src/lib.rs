//! Ruuvi Desk's certificates: a local CA per installation (generated or imported), the
//! receiver's server certificate with every name the machine answers to, a client certificate
//! per gateway, PEM inspection, rustls configuration for the receiver with an allow-list, and
//! the choice of host name a gateway must use. Private keys live in the keychain
//! ([`ruuvi_secrets`]), never in the PKI directory.

mod host;
mod inspect;
mod issue;
mod store;
mod tls;

use std::path::{Path, PathBuf};

pub use host::{
    host_for_gateway, local_addresses, local_host_name, route_source, server_names, url_host,
    LocalAddress, NameCheck,
};
pub use inspect::{
    certificate_der, certificates_der, fingerprint, inspect, inspect_all, inspect_der, CertInfo,
};
pub use issue::{key_matches, Issued, KeyAlgorithm, LocalCa, Validity};
pub use store::{
    ClientCert, Pki, ServerState, CA_DAYS, CLIENT_DAYS, ROTATION_WARNING_DAYS, SERVER_DAYS,
};
pub use time::OffsetDateTime;
pub use tls::{server_config, ClientAllowList, ClientAuth, SharedAllowList};

#[derive(Debug, thiserror::Error)]
pub enum PkiError {
    #[error("certificate generation failed: {0}")]
    Generate(#[from] rcgen::Error),
    #[error("not a PEM certificate: {0}")]
    NotPem(String),
    #[error("not a valid X.509 certificate: {0}")]
    BadCertificate(String),
    #[error("{0:?} is neither a DNS name nor an IP address")]
    BadName(String),
    #[error("private key: {0}")]
    Key(String),
    #[error("{0} is not a CA certificate")]
    NotCa(String),
    #[error("the private key does not belong to the certificate")]
    KeyMismatch,
    #[error("TLS configuration: {0}")]
    Tls(String),
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{0} is damaged: {1}")]
    Corrupt(String, String),
    #[error("the keychain has no {0}; re-issue the certificate")]
    MissingKey(String),
    #[error("{0} has not been issued yet")]
    NotIssued(String),
    #[error("no CA in {0} yet: run `ruuvictl pki init` (or import-ca) first")]
    NotInitialised(PathBuf),
    #[error("{0} already has a CA; replacing it invalidates every certificate it issued")]
    AlreadyInitialised(PathBuf),
    #[error(transparent)]
    Secret(#[from] ruuvi_secrets::SecretError),
}

impl PkiError {
    fn io(path: &Path, source: std::io::Error) -> Self {
        PkiError::Io {
            path: path.to_path_buf(),
            source,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
    use ruuvi_secrets::Sensitive;

    use time::{Duration, OffsetDateTime};

    fn now() -> OffsetDateTime {
        OffsetDateTime::from_unix_timestamp(1_795_366_000).unwrap()
    }

    fn days(n: i64) -> Validity {
        Validity::days_from(now(), n)
    }

    fn der(pem: &str) -> CertificateDer<'static> {
        let (_, p) = x509_parser::pem::parse_x509_pem(pem.as_bytes()).unwrap();
        CertificateDer::from(p.contents)
    }

    /// Verifies `leaf` against `ca` at `now` for server or client use, as a TLS peer would.
    fn verify(ca_pem: &str, leaf_pem: &str, server: bool) -> Result<(), webpki::Error> {
        let ca = der(ca_pem);
        let anchors = [webpki::anchor_from_trusted_cert(&ca).unwrap()];
        let leaf = der(leaf_pem);
        let cert = webpki::EndEntityCert::try_from(&leaf).unwrap();
        let algs = rustls::crypto::ring::default_provider()
            .signature_verification_algorithms
            .all;
        let usage = if server {
            webpki::KeyUsage::server_auth()
        } else {
            webpki::KeyUsage::client_auth()
        };
        let time = UnixTime::since_unix_epoch(std::time::Duration::from_secs(
            now().unix_timestamp() as u64,
        ));
        cert.verify_for_usage(algs, &anchors, &[], time, usage, None, None)
            .map(|_| ())
    }

    #[test]
    fn local_ca_is_an_ecdsa_p256_ca() {
        let ca = LocalCa::generate("Ruuvi Desk CA", KeyAlgorithm::EcdsaP256, days(3650)).unwrap();
        let info = inspect(&ca.cert_pem).unwrap();
        assert!(info.is_ca);
        assert_eq!(info.key_type, "ECDSA P-256");
        assert!(info.subject.contains("CN=Ruuvi Desk CA"));
        assert_eq!(info.subject, info.issuer, "self-signed");
        assert_eq!(info.fingerprint_sha256.len(), 32 * 3 - 1);
        assert!(format!(
            "{:?}",
            ca.issue_client("AA:BB:CC:DD:EE:FF", days(730)).unwrap()
        )
        .contains("<redacted>"));
        let debug = format!("{ca:?}");
        assert!(debug.contains("<redacted>") && !debug.contains("PRIVATE KEY"));
    }

    #[test]
    fn server_certificate_has_every_name_and_verifies_for_them_only() {
        let ca = LocalCa::generate("CA", KeyAlgorithm::EcdsaP256, days(3650)).unwrap();
        let names =
            ["desk", "desk.local", "localhost", "127.0.0.1", "192.0.2.10"].map(String::from);
        let server = ca.issue_server(&names, days(825)).unwrap();
        let info = inspect(&server.cert_pem).unwrap();
        assert_eq!(info.sans, names);
        assert!(info.server_auth && !info.client_auth && !info.is_ca);
        verify(&ca.cert_pem, &server.cert_pem, true).unwrap();
        assert!(
            verify(&ca.cert_pem, &server.cert_pem, false).is_err(),
            "not a client certificate"
        );
        let leaf = der(&server.cert_pem);
        let cert = webpki::EndEntityCert::try_from(&leaf).unwrap();
        for ok in ["localhost", "desk.local", "127.0.0.1"] {
            cert.verify_is_valid_for_subject_name(&ServerName::try_from(ok).unwrap())
                .unwrap();
        }
        assert!(cert
            .verify_is_valid_for_subject_name(&ServerName::try_from("example.com").unwrap())
            .is_err());
        assert!(matches!(
            ca.issue_server(&["bad name!".to_string()], days(1)),
            Err(PkiError::BadName(_))
        ));
    }

    #[test]
    fn client_certificate_per_gateway_and_rotation_warning() {
        let ca = LocalCa::generate("CA", KeyAlgorithm::EcdsaP256, days(3650)).unwrap();
        let client = ca.issue_client("C8:25:2D:8E:9C:2C", days(730)).unwrap();
        let info = inspect(&client.cert_pem).unwrap();
        assert_eq!(info.subject, "CN=C8:25:2D:8E:9C:2C");
        assert!(info.client_auth && !info.server_auth);
        verify(&ca.cert_pem, &client.cert_pem, false).unwrap();
        assert!(!info.expires_within(now(), 30));
        assert!(info.expires_within(now() + Duration::days(730 - 29), 30));
        // Another CA's certificate does not verify.
        let other = LocalCa::generate("Other", KeyAlgorithm::EcdsaP256, days(3650)).unwrap();
        assert!(verify(&other.cert_pem, &client.cert_pem, false).is_err());
    }

    #[test]
    fn an_imported_ca_keeps_issuing_under_its_own_name() {
        let original =
            LocalCa::generate("Imported CA", KeyAlgorithm::EcdsaP256, days(3650)).unwrap();
        let imported = LocalCa::import(&original.cert_pem, original.key_pem()).unwrap();
        let client = imported
            .issue_client("AA:BB:CC:DD:EE:FF", days(730))
            .unwrap();
        verify(&original.cert_pem, &client.cert_pem, false).unwrap();
        assert!(inspect(&client.cert_pem)
            .unwrap()
            .issuer
            .contains("CN=Imported CA"));
        assert!(LocalCa::import("garbage", original.key_pem()).is_err());
        // The key must be the certificate's, and the certificate a CA's.
        let other = LocalCa::generate("Other", KeyAlgorithm::EcdsaP256, days(10)).unwrap();
        assert!(matches!(
            LocalCa::import(&original.cert_pem, other.key_pem()),
            Err(PkiError::KeyMismatch)
        ));
        assert!(key_matches(&original.cert_pem, original.key_pem()).unwrap());
        assert!(!key_matches(&original.cert_pem, other.key_pem()).unwrap());
        let leaf = original.issue_client("AA:BB:CC:DD:EE:FF", days(1)).unwrap();
        assert!(matches!(
            LocalCa::import(&leaf.cert_pem, &leaf.key_pem),
            Err(PkiError::NotCa(_))
        ));
    }

    #[test]
    fn rsa_2048_option_issues_rsa_keys_that_verify() {
        let ca = LocalCa::generate("RSA CA", KeyAlgorithm::Rsa2048, days(3650)).unwrap();
        assert_eq!(inspect(&ca.cert_pem).unwrap().key_type, "RSA 2048");
        let server = ca
            .issue_server(&["localhost".to_string()], days(825))
            .unwrap();
        assert_eq!(inspect(&server.cert_pem).unwrap().key_type, "RSA 2048");
        verify(&ca.cert_pem, &server.cert_pem, true).unwrap();
        // An RSA CA can still issue ECDSA leaves, and the other way round.
        let mixed = LocalCa::import(&ca.cert_pem, ca.key_pem())
            .unwrap()
            .with_leaf_algorithm(KeyAlgorithm::EcdsaP256);
        let client = mixed.issue_client("AA:BB:CC:DD:EE:FF", days(730)).unwrap();
        assert_eq!(inspect(&client.cert_pem).unwrap().key_type, "ECDSA P-256");
        verify(&ca.cert_pem, &client.cert_pem, false).unwrap();
    }

    /// `openssl genrsa` writes PKCS#1 and `openssl ecparam -genkey` SEC1: both import.
    #[test]
    fn imports_openssl_style_pkcs1_and_sec1_keys() {
        use rsa::pkcs1::EncodeRsaPrivateKey;
        let rsa_key = rsa::RsaPrivateKey::new(&mut rand_core::OsRng, 2048).unwrap();
        let pkcs1 = rsa_key
            .to_pkcs1_pem(rsa::pkcs8::LineEnding::LF)
            .unwrap()
            .to_string();
        let ec_key = p256::SecretKey::random(&mut rand_core::OsRng);
        let sec1 = ec_key
            .to_sec1_pem(p256::pkcs8::LineEnding::LF)
            .unwrap()
            .to_string();
        for (pem, marker, algorithm) in [
            (pkcs1, "BEGIN RSA PRIVATE KEY", KeyAlgorithm::Rsa2048),
            (sec1, "BEGIN EC PRIVATE KEY", KeyAlgorithm::EcdsaP256),
        ] {
            assert!(pem.contains(marker));
            let key = Sensitive::new(pem);
            let (pair, alg) = issue::load_key(&key).unwrap();
            assert_eq!(alg, algorithm);
            // Self-sign a CA with that key, then import the pair.
            let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
            params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
            params
                .distinguished_name
                .push(rcgen::DnType::CommonName, "openssl CA");
            let cert = params.self_signed(&pair).unwrap();
            let ca = LocalCa::import(&cert.pem(), &key).unwrap();
            assert_eq!(ca.algorithm(), algorithm);
            let client = ca.issue_client("AA:BB:CC:DD:EE:FF", days(1)).unwrap();
            verify(&cert.pem(), &client.cert_pem, false).unwrap();
        }
        let encrypted = Sensitive::new(
            "-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----\n"
                .to_string(),
        );
        assert!(issue::load_key(&encrypted)
            .unwrap_err()
            .to_string()
            .contains("decrypt"));
    }

    #[test]
    fn expired_and_not_yet_valid_certificates_do_not_verify() {
        let ca = LocalCa::generate("CA", KeyAlgorithm::EcdsaP256, days(3650)).unwrap();
        let expired = ca
            .issue_client(
                "AA:BB:CC:DD:EE:FF",
                Validity {
                    not_before: now() - Duration::days(800),
                    not_after: now() - Duration::days(70),
                },
            )
            .unwrap();
        assert!(inspect(&expired.cert_pem).unwrap().expires_within(now(), 0));
        assert!(matches!(
            verify(&ca.cert_pem, &expired.cert_pem, false),
            Err(webpki::Error::CertExpired { .. })
        ));
    }

    #[test]
    fn garbage_is_a_clear_error() {
        assert!(matches!(inspect("not pem"), Err(PkiError::NotPem(_))));
        let fake = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n";
        assert!(matches!(inspect(fake), Err(PkiError::BadCertificate(_))));
    }
}
