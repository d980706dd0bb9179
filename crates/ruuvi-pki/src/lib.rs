//! Ruuvi Desk's certificates (issue 4, first part): a local CA per installation, a server
//! certificate for the receiver, a client certificate per gateway, and PEM inspection with a
//! parsing library. Private keys are returned as PEM for now; keeping them in the OS keychain
//! is the other half of issue 4.

use std::net::IpAddr;

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose, SanType,
};
use sha2::{Digest, Sha256};
use time::{Duration, OffsetDateTime};
use x509_parser::extensions::GeneralName;
use x509_parser::prelude::FromDer;

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
}

/// A certificate and its private key, both PEM.
#[derive(Clone)]
pub struct Issued {
    pub cert_pem: String,
    pub key_pem: String,
}

impl std::fmt::Debug for Issued {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The key is a secret: never in logs.
        f.debug_struct("Issued")
            .field("cert_pem", &self.cert_pem)
            .field("key_pem", &"<redacted>")
            .finish()
    }
}

/// The installation's certificate authority (ECDSA P-256: the gateway's mbedTLS accepts it).
pub struct LocalCa {
    pub cert_pem: String,
    key_pem: String,
    issuer: Issuer<'static, KeyPair>,
}

fn validity(params: &mut CertificateParams, now: OffsetDateTime, days: i64) {
    // A little slack for clocks that are behind (gateways set theirs from NTP).
    params.not_before = now - Duration::hours(1);
    params.not_after = now + Duration::days(days);
}

impl LocalCa {
    /// A new CA named `common_name`, valid for `days` from `now`.
    pub fn generate(common_name: &str, now: OffsetDateTime, days: i64) -> Result<Self, PkiError> {
        let key = KeyPair::generate()?;
        let mut params = CertificateParams::new(Vec::<String>::new())?;
        params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
        params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        params
            .distinguished_name
            .push(DnType::CommonName, common_name);
        params
            .distinguished_name
            .push(DnType::OrganizationName, "Ruuvi Desk");
        validity(&mut params, now, days);
        let cert = params.self_signed(&key)?;
        Ok(Self {
            cert_pem: cert.pem(),
            key_pem: key.serialize_pem(),
            issuer: Issuer::new(params, key),
        })
    }

    /// An existing CA the user already has (PEM certificate + PEM private key).
    pub fn import(cert_pem: &str, key_pem: &str) -> Result<Self, PkiError> {
        let key = KeyPair::from_pem(key_pem)?;
        let issuer = Issuer::from_ca_cert_pem(cert_pem, key)?;
        Ok(Self {
            cert_pem: cert_pem.to_string(),
            key_pem: key_pem.to_string(),
            issuer,
        })
    }

    /// The CA's private key (PEM), for the keychain.
    pub fn key_pem(&self) -> &str {
        &self.key_pem
    }

    /// A server certificate for the receiver: every name becomes a SAN (DNS or IP).
    pub fn issue_server(
        &self,
        names: &[String],
        now: OffsetDateTime,
        days: i64,
    ) -> Result<Issued, PkiError> {
        let mut params = CertificateParams::new(Vec::<String>::new())?;
        for name in names {
            params.subject_alt_names.push(match name.parse::<IpAddr>() {
                Ok(ip) => SanType::IpAddress(ip),
                Err(_) if is_dns_name(name) => SanType::DnsName(
                    name.clone()
                        .try_into()
                        .map_err(|_| PkiError::BadName(name.clone()))?,
                ),
                Err(_) => return Err(PkiError::BadName(name.clone())),
            });
        }
        if let Some(first) = names.first() {
            params.distinguished_name.push(DnType::CommonName, first);
        }
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        validity(&mut params, now, days);
        self.sign(params)
    }

    /// A client certificate for one gateway: CN = its MAC, clientAuth (default 2 years).
    pub fn issue_client(
        &self,
        gateway_mac: &str,
        now: OffsetDateTime,
        days: i64,
    ) -> Result<Issued, PkiError> {
        let mut params = CertificateParams::new(Vec::<String>::new())?;
        params
            .distinguished_name
            .push(DnType::CommonName, gateway_mac);
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        validity(&mut params, now, days);
        self.sign(params)
    }

    fn sign(&self, params: CertificateParams) -> Result<Issued, PkiError> {
        let key = KeyPair::generate()?;
        let cert = params.signed_by(&key, &self.issuer)?;
        Ok(Issued {
            cert_pem: cert.pem(),
            key_pem: key.serialize_pem(),
        })
    }
}

/// Host-name syntax (RFC 1123 labels): what a gateway can put in a URL and check against a SAN.
fn is_dns_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 253
        && name.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        })
}

/// What a PEM certificate says, read with x509-parser.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertInfo {
    pub subject: String,
    pub issuer: String,
    /// DNS names and IP addresses.
    pub sans: Vec<String>,
    pub not_before: i64,
    pub not_after: i64,
    pub key_type: String,
    /// SHA-256 of the DER, upper-case hex with colons.
    pub fingerprint_sha256: String,
    pub is_ca: bool,
    pub server_auth: bool,
    pub client_auth: bool,
}

impl CertInfo {
    /// Whether the certificate expires within `days` of `now` (rotation warning).
    pub fn expires_within(&self, now: OffsetDateTime, days: i64) -> bool {
        self.not_after <= (now + Duration::days(days)).unix_timestamp()
    }
}

/// Reads the first certificate of a PEM text.
pub fn inspect(pem: &str) -> Result<CertInfo, PkiError> {
    let (_, pem) = x509_parser::pem::parse_x509_pem(pem.as_bytes())
        .map_err(|e| PkiError::NotPem(e.to_string()))?;
    let (_, cert) = x509_parser::certificate::X509Certificate::from_der(&pem.contents)
        .map_err(|e| PkiError::BadCertificate(e.to_string()))?;
    let mut sans = Vec::new();
    if let Ok(Some(ext)) = cert.subject_alternative_name() {
        for name in &ext.value.general_names {
            match name {
                GeneralName::DNSName(d) => sans.push((*d).to_string()),
                GeneralName::IPAddress(b) => match b.len() {
                    4 => sans
                        .push(IpAddr::from(<[u8; 4]>::try_from(*b).expect("4 bytes")).to_string()),
                    16 => sans.push(
                        IpAddr::from(<[u8; 16]>::try_from(*b).expect("16 bytes")).to_string(),
                    ),
                    _ => {}
                },
                _ => {}
            }
        }
    }
    let spki = cert.public_key();
    let key_type = match spki.parsed() {
        Ok(x509_parser::public_key::PublicKey::EC(_)) => {
            let curve = spki
                .algorithm
                .parameters
                .as_ref()
                .and_then(|p| p.as_oid().ok())
                .map(|oid| oid.to_id_string())
                .unwrap_or_default();
            match curve.as_str() {
                "1.2.840.10045.3.1.7" => "ECDSA P-256".to_string(),
                "1.3.132.0.34" => "ECDSA P-384".to_string(),
                other => format!("ECDSA ({other})"),
            }
        }
        Ok(x509_parser::public_key::PublicKey::RSA(rsa)) => format!("RSA {}", rsa.key_size()),
        Ok(other) => format!("{other:?}")
            .split('(')
            .next()
            .unwrap_or("other")
            .to_string(),
        Err(_) => spki.algorithm.algorithm.to_id_string(),
    };
    let (server_auth, client_auth) = match cert.extended_key_usage() {
        Ok(Some(eku)) => (eku.value.server_auth, eku.value.client_auth),
        _ => (false, false),
    };
    let fingerprint = Sha256::digest(&pem.contents);
    Ok(CertInfo {
        subject: cert.subject().to_string(),
        issuer: cert.issuer().to_string(),
        sans,
        not_before: cert.validity().not_before.timestamp(),
        not_after: cert.validity().not_after.timestamp(),
        key_type,
        fingerprint_sha256: fingerprint
            .iter()
            .map(|b| format!("{b:02X}"))
            .collect::<Vec<_>>()
            .join(":"),
        is_ca: cert.is_ca(),
        server_auth,
        client_auth,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use rustls::pki_types::{CertificateDer, ServerName, UnixTime};

    fn now() -> OffsetDateTime {
        OffsetDateTime::from_unix_timestamp(1_795_366_000).unwrap()
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
        let ca = LocalCa::generate("Ruuvi Desk CA", now(), 3650).unwrap();
        let info = inspect(&ca.cert_pem).unwrap();
        assert!(info.is_ca);
        assert_eq!(info.key_type, "ECDSA P-256");
        assert!(info.subject.contains("CN=Ruuvi Desk CA"));
        assert_eq!(info.subject, info.issuer, "self-signed");
        assert_eq!(info.fingerprint_sha256.len(), 32 * 3 - 1);
        assert!(format!(
            "{:?}",
            ca.issue_client("AA:BB:CC:DD:EE:FF", now(), 730).unwrap()
        )
        .contains("<redacted>"));
    }

    #[test]
    fn server_certificate_has_every_name_and_verifies_for_them_only() {
        let ca = LocalCa::generate("CA", now(), 3650).unwrap();
        let names =
            ["desk", "desk.local", "localhost", "127.0.0.1", "192.0.2.10"].map(String::from);
        let server = ca.issue_server(&names, now(), 825).unwrap();
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
            ca.issue_server(&["bad name!".to_string()], now(), 1),
            Err(PkiError::BadName(_))
        ));
    }

    #[test]
    fn client_certificate_per_gateway_and_rotation_warning() {
        let ca = LocalCa::generate("CA", now(), 3650).unwrap();
        let client = ca.issue_client("C8:25:2D:8E:9C:2C", now(), 730).unwrap();
        let info = inspect(&client.cert_pem).unwrap();
        assert_eq!(info.subject, "CN=C8:25:2D:8E:9C:2C");
        assert!(info.client_auth && !info.server_auth);
        verify(&ca.cert_pem, &client.cert_pem, false).unwrap();
        assert!(!info.expires_within(now(), 30));
        assert!(info.expires_within(now() + Duration::days(730 - 29), 30));
        // Another CA's certificate does not verify.
        let other = LocalCa::generate("Other", now(), 3650).unwrap();
        assert!(verify(&other.cert_pem, &client.cert_pem, false).is_err());
    }

    #[test]
    fn an_imported_ca_keeps_issuing_under_its_own_name() {
        let original = LocalCa::generate("Imported CA", now(), 3650).unwrap();
        let imported = LocalCa::import(&original.cert_pem, original.key_pem()).unwrap();
        let client = imported
            .issue_client("AA:BB:CC:DD:EE:FF", now(), 730)
            .unwrap();
        verify(&original.cert_pem, &client.cert_pem, false).unwrap();
        assert!(inspect(&client.cert_pem)
            .unwrap()
            .issuer
            .contains("CN=Imported CA"));
        assert!(LocalCa::import("garbage", original.key_pem()).is_err());
    }

    #[test]
    fn garbage_is_a_clear_error() {
        assert!(matches!(inspect("not pem"), Err(PkiError::NotPem(_))));
        let fake = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n";
        assert!(matches!(inspect(fake), Err(PkiError::BadCertificate(_))));
    }
}
