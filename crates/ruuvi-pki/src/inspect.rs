//! Reading certificates with x509-parser (never by hand).

use std::net::IpAddr;

use sha2::{Digest, Sha256};
use time::{Duration, OffsetDateTime};
use x509_parser::extensions::GeneralName;
use x509_parser::prelude::FromDer;

use crate::PkiError;

/// What a PEM certificate says, read with x509-parser.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
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
    inspect_der(&certificate_der(pem)?)
}

/// What every certificate in a PEM text (a chain, a bundle) says.
pub fn inspect_all(pem: &str) -> Result<Vec<CertInfo>, PkiError> {
    certificates_der(pem)?
        .iter()
        .map(|der| inspect_der(der))
        .collect()
}

/// What a DER certificate says.
pub fn inspect_der(der: &[u8]) -> Result<CertInfo, PkiError> {
    let (_, cert) = x509_parser::certificate::X509Certificate::from_der(der)
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
    let fingerprint = fingerprint(der);
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

/// The DER of the first certificate in a PEM text.
pub fn certificate_der(pem: &str) -> Result<Vec<u8>, PkiError> {
    let (_, block) = x509_parser::pem::parse_x509_pem(pem.as_bytes())
        .map_err(|e| PkiError::NotPem(e.to_string()))?;
    if block.label != "CERTIFICATE" {
        return Err(PkiError::NotPem(format!(
            "expected a CERTIFICATE block, found {}",
            block.label
        )));
    }
    Ok(block.contents)
}

/// Every certificate in a PEM text (a chain or a bundle), as DER.
pub fn certificates_der(pem: &str) -> Result<Vec<Vec<u8>>, PkiError> {
    let mut out = Vec::new();
    for block in x509_parser::pem::Pem::iter_from_buffer(pem.as_bytes()) {
        let block = block.map_err(|e| PkiError::NotPem(e.to_string()))?;
        if block.label == "CERTIFICATE" {
            out.push(block.contents);
        }
    }
    if out.is_empty() {
        return Err(PkiError::NotPem("no CERTIFICATE block".to_string()));
    }
    Ok(out)
}

/// SHA-256 of a certificate's DER: how the receiver's allow-list knows a client certificate.
pub fn fingerprint(der: &[u8]) -> [u8; 32] {
    Sha256::digest(der).into()
}

/// The certificate's public key bits (EC point or PKCS#1 RSA key), to match a private key.
pub(crate) fn public_key_bits(pem: &str) -> Result<Vec<u8>, PkiError> {
    let der = certificate_der(pem)?;
    let (_, cert) = x509_parser::certificate::X509Certificate::from_der(&der)
        .map_err(|e| PkiError::BadCertificate(e.to_string()))?;
    Ok(cert.public_key().subject_public_key.data.to_vec())
}
