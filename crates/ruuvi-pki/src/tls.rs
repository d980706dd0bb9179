//! rustls configuration for the receiver: the server certificate, and client certificates that
//! must chain to our CA *and* be on the allow-list. Removing a gateway's certificate from the
//! allow-list is how it is revoked; the check runs in every handshake, so it takes effect at once.

use parking_lot::RwLock;
use std::collections::HashMap;
use std::sync::Arc;

use rustls::client::danger::HandshakeSignatureValid;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, UnixTime};
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::server::WebPkiClientVerifier;
use rustls::{CertificateError, DigitallySignedStruct, DistinguishedName, SignatureScheme};
use ruuvi_secrets::Sensitive;

use crate::{fingerprint, PkiError};

/// Client certificates the receiver accepts, by SHA-256 fingerprint, each with its gateway.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClientAllowList {
    gateways: HashMap<[u8; 32], String>,
}

impl ClientAllowList {
    pub fn allow(&mut self, cert_der: &[u8], gateway_mac: &str) {
        self.gateways
            .insert(fingerprint(cert_der), gateway_mac.to_string());
    }

    pub fn remove(&mut self, cert_der: &[u8]) -> bool {
        self.gateways.remove(&fingerprint(cert_der)).is_some()
    }

    /// The gateway a client certificate was issued to, if it is allowed.
    pub fn gateway_of(&self, cert_der: &[u8]) -> Option<&str> {
        self.gateways
            .get(&fingerprint(cert_der))
            .map(String::as_str)
    }

    pub fn len(&self) -> usize {
        self.gateways.len()
    }

    pub fn is_empty(&self) -> bool {
        self.gateways.is_empty()
    }
}

/// The allow-list as the running receiver holds it; replace its contents to revoke.
pub type SharedAllowList = Arc<RwLock<ClientAllowList>>;

/// Whether the receiver asks gateways for a client certificate.
#[derive(Debug, Clone)]
pub enum ClientAuth {
    None,
    /// A certificate from our CA that is on the allow-list is required.
    Required(SharedAllowList),
    /// Asked for, not required: a certificate that is sent must chain to our CA and be on the
    /// allow-list; whether a gateway must send one is the receiver's per-gateway decision.
    Optional(SharedAllowList),
}

#[derive(Debug)]
struct AllowListVerifier {
    chain: Arc<dyn ClientCertVerifier>,
    allowed: SharedAllowList,
    mandatory: bool,
}

impl ClientCertVerifier for AllowListVerifier {
    fn client_auth_mandatory(&self) -> bool {
        self.mandatory
    }

    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        self.chain.root_hint_subjects()
    }

    fn verify_client_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        now: UnixTime,
    ) -> Result<ClientCertVerified, rustls::Error> {
        let verified = self
            .chain
            .verify_client_cert(end_entity, intermediates, now)?;
        let allowed = self.allowed.read().gateway_of(end_entity).is_some();
        if allowed {
            Ok(verified)
        } else {
            Err(rustls::Error::InvalidCertificate(CertificateError::Revoked))
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.chain.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.chain.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.chain.supported_verify_schemes()
    }
}

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// The receiver's TLS configuration. TLS 1.2 stays enabled: older gateway firmware's mbedTLS
/// may not offer 1.3.
pub fn server_config(
    ca_pem: &str,
    server_cert_pem: &str,
    server_key_pem: &Sensitive<String>,
    client_auth: ClientAuth,
) -> Result<rustls::ServerConfig, PkiError> {
    let chain: Vec<CertificateDer<'static>> = crate::certificates_der(server_cert_pem)?
        .into_iter()
        .map(CertificateDer::from)
        .collect();
    let key = PrivateKeyDer::from_pem_slice(server_key_pem.expose().as_bytes())
        .map_err(|e| PkiError::Key(format!("server key: {e}")))?;
    let builder = rustls::ServerConfig::builder_with_provider(provider())
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
        .map_err(|e| PkiError::Tls(e.to_string()))?;
    let mandatory = matches!(client_auth, ClientAuth::Required(_));
    let builder = match client_auth {
        ClientAuth::None => builder.with_no_client_auth(),
        ClientAuth::Required(allowed) | ClientAuth::Optional(allowed) => {
            let mut roots = rustls::RootCertStore::empty();
            for der in crate::certificates_der(ca_pem)? {
                roots
                    .add(CertificateDer::from(der))
                    .map_err(|e| PkiError::Tls(format!("CA certificate: {e}")))?;
            }
            let mut chain =
                WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider());
            if !mandatory {
                chain = chain.allow_unauthenticated();
            }
            let chain = chain.build().map_err(|e| PkiError::Tls(e.to_string()))?;
            builder.with_client_cert_verifier(Arc::new(AllowListVerifier {
                chain,
                allowed,
                mandatory,
            }))
        }
    };
    builder
        .with_single_cert(chain, key)
        .map_err(|e| PkiError::Tls(format!("server certificate and key: {e}")))
}
