//! Issuing: the local CA, the receiver's server certificate, a client certificate per gateway.

use std::net::IpAddr;

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose, PublicKeyData, SanType,
};
use ruuvi_secrets::Sensitive;
use time::{Duration, OffsetDateTime};

use crate::PkiError;

/// The key type of new keys.
///
/// ECDSA P-256 is the default: the gateway's TLS stack is mbedTLS (ESP-IDF
/// `CONFIG_ESP_TLS_USING_MBEDTLS=y`) built with `CONFIG_MBEDTLS_ECDSA_C=y`,
/// `CONFIG_MBEDTLS_ECP_DP_SECP256R1_ENABLED=y` and `CONFIG_MBEDTLS_KEY_EXCHANGE_ECDHE_ECDSA=y`
/// (ruuvi/ruuvi.gateway_esp.c `sdkconfig`). RSA 2048 is there for receivers or gateways whose
/// stack is configured without ECDSA.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum KeyAlgorithm {
    #[default]
    EcdsaP256,
    Rsa2048,
}

impl KeyAlgorithm {
    pub fn generate(self) -> Result<KeyPair, PkiError> {
        match self {
            KeyAlgorithm::EcdsaP256 => Ok(KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256)?),
            KeyAlgorithm::Rsa2048 => {
                // ring signs with RSA but cannot generate RSA keys; the rsa crate does.
                use rsa::pkcs8::EncodePrivateKey;
                let key = rsa::RsaPrivateKey::new(&mut rand_core::OsRng, 2048)
                    .map_err(|e| PkiError::Key(e.to_string()))?;
                let der = key
                    .to_pkcs8_der()
                    .map_err(|e| PkiError::Key(e.to_string()))?;
                Ok(KeyPair::from_pkcs8_der_and_sign_algo(
                    &der.as_bytes().into(),
                    &rcgen::PKCS_RSA_SHA256,
                )?)
            }
        }
    }
}

impl std::str::FromStr for KeyAlgorithm {
    type Err = PkiError;
    fn from_str(s: &str) -> Result<Self, PkiError> {
        match s {
            "ecdsa-p256" => Ok(Self::EcdsaP256),
            "rsa-2048" => Ok(Self::Rsa2048),
            _ => Err(PkiError::Key(format!(
                "unknown key algorithm {s:?} (ecdsa-p256 or rsa-2048)"
            ))),
        }
    }
}

/// When a certificate is valid.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Validity {
    pub not_before: OffsetDateTime,
    pub not_after: OffsetDateTime,
}

impl Validity {
    /// From an hour before `now` (slack for gateway clocks that are a little behind) to `days`
    /// after it.
    pub fn days_from(now: OffsetDateTime, days: i64) -> Self {
        Self {
            not_before: now - Duration::hours(1),
            not_after: now + Duration::days(days),
        }
    }
}

/// A certificate and its private key, both PEM; the key never prints.
#[derive(Debug, Clone)]
pub struct Issued {
    pub cert_pem: String,
    pub key_pem: Sensitive<String>,
}

/// A certificate authority that can sign: the installation's own or an imported one.
pub struct LocalCa {
    pub cert_pem: String,
    key_pem: Sensitive<String>,
    algorithm: KeyAlgorithm,
    issuer: Issuer<'static, KeyPair>,
}

impl std::fmt::Debug for LocalCa {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalCa")
            .field("cert_pem", &self.cert_pem)
            .field("key_pem", &self.key_pem)
            .field("algorithm", &self.algorithm)
            .finish()
    }
}

impl LocalCa {
    /// A new CA named `common_name`. Its leaf keys use the same algorithm.
    pub fn generate(
        common_name: &str,
        algorithm: KeyAlgorithm,
        validity: Validity,
    ) -> Result<Self, PkiError> {
        let key = algorithm.generate()?;
        let mut params = CertificateParams::new(Vec::<String>::new())?;
        // pathlen 0: this CA signs leaves only.
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
        params.not_before = validity.not_before;
        params.not_after = validity.not_after;
        let cert = params.self_signed(&key)?;
        Ok(Self {
            cert_pem: cert.pem(),
            key_pem: Sensitive::new(key.serialize_pem()),
            algorithm,
            issuer: Issuer::new(params, key),
        })
    }

    /// An existing CA (PEM certificate + PEM private key: PKCS#8, or the PKCS#1 / SEC1 files
    /// `openssl genrsa` and `openssl ecparam -genkey` write). The key must belong to the
    /// certificate and the certificate must be a CA.
    pub fn import(cert_pem: &str, key_pem: &Sensitive<String>) -> Result<Self, PkiError> {
        let info = crate::inspect(cert_pem)?;
        if !info.is_ca {
            return Err(PkiError::NotCa(info.subject));
        }
        let (key, algorithm) = load_key(key_pem)?;
        if !pair_matches(&key, cert_pem)? {
            return Err(PkiError::KeyMismatch);
        }
        let issuer = Issuer::from_ca_cert_pem(cert_pem, key)?;
        Ok(Self {
            cert_pem: cert_pem.to_string(),
            key_pem: Sensitive::new(issuer.key().serialize_pem()),
            algorithm,
            issuer,
        })
    }

    /// The CA's private key (PKCS#8 PEM), for the keychain.
    pub fn key_pem(&self) -> &Sensitive<String> {
        &self.key_pem
    }

    /// The key type of the leaves it issues (and, for a new CA, of its own key).
    pub fn algorithm(&self) -> KeyAlgorithm {
        self.algorithm
    }

    /// Issues leaves with `algorithm` keys, whatever the CA's own key is.
    pub fn with_leaf_algorithm(mut self, algorithm: KeyAlgorithm) -> Self {
        self.algorithm = algorithm;
        self
    }

    /// A server certificate for the receiver: every name becomes a SAN (DNS or IP).
    pub fn issue_server(&self, names: &[String], validity: Validity) -> Result<Issued, PkiError> {
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
        params.key_usages = vec![
            KeyUsagePurpose::DigitalSignature,
            KeyUsagePurpose::KeyEncipherment,
        ];
        self.sign(params, validity)
    }

    /// A client certificate for one gateway: CN = its MAC, clientAuth only.
    pub fn issue_client(&self, gateway_mac: &str, validity: Validity) -> Result<Issued, PkiError> {
        let mut params = CertificateParams::new(Vec::<String>::new())?;
        params
            .distinguished_name
            .push(DnType::CommonName, gateway_mac);
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
        params.key_usages = vec![
            KeyUsagePurpose::DigitalSignature,
            KeyUsagePurpose::KeyEncipherment,
        ];
        self.sign(params, validity)
    }

    fn sign(&self, mut params: CertificateParams, validity: Validity) -> Result<Issued, PkiError> {
        params.not_before = validity.not_before;
        params.not_after = validity.not_after;
        let key = self.algorithm.generate()?;
        let cert = params.signed_by(&key, &self.issuer)?;
        Ok(Issued {
            cert_pem: cert.pem(),
            key_pem: Sensitive::new(key.serialize_pem()),
        })
    }
}

fn pair_matches(key: &KeyPair, cert_pem: &str) -> Result<bool, PkiError> {
    Ok(key.der_bytes() == crate::inspect::public_key_bits(cert_pem)?.as_slice())
}

/// Whether a private key (PKCS#8, PKCS#1 or SEC1 PEM) belongs to a certificate.
pub fn key_matches(cert_pem: &str, key_pem: &Sensitive<String>) -> Result<bool, PkiError> {
    let (key, _) = load_key(key_pem)?;
    pair_matches(&key, cert_pem)
}

/// Reads a private key in any of the PEM forms users have, as rcgen's PKCS#8 key pair.
pub(crate) fn load_key(pem: &Sensitive<String>) -> Result<(KeyPair, KeyAlgorithm), PkiError> {
    let text = pem.expose();
    let pkcs8: Sensitive<Vec<u8>> = if text.contains("-----BEGIN RSA PRIVATE KEY-----") {
        use rsa::pkcs1::DecodeRsaPrivateKey;
        use rsa::pkcs8::EncodePrivateKey;
        let key = rsa::RsaPrivateKey::from_pkcs1_pem(text)
            .map_err(|e| PkiError::Key(format!("PKCS#1 RSA key: {e}")))?;
        Sensitive::new(
            key.to_pkcs8_der()
                .map_err(|e| PkiError::Key(e.to_string()))?
                .as_bytes()
                .to_vec(),
        )
    } else if text.contains("-----BEGIN EC PRIVATE KEY-----") {
        use p256::pkcs8::EncodePrivateKey;
        let key = p256::SecretKey::from_sec1_pem(text)
            .map_err(|e| PkiError::Key(format!("SEC1 EC key (only P-256 is supported): {e}")))?;
        Sensitive::new(
            key.to_pkcs8_der()
                .map_err(|e| PkiError::Key(e.to_string()))?
                .as_bytes()
                .to_vec(),
        )
    } else if text.contains("-----BEGIN PRIVATE KEY-----") {
        let (_, block) = x509_parser::pem::parse_x509_pem(text.as_bytes())
            .map_err(|e| PkiError::Key(format!("PEM: {e}")))?;
        Sensitive::new(block.contents)
    } else if text.contains("ENCRYPTED PRIVATE KEY") {
        return Err(PkiError::Key(
            "the key is encrypted: decrypt it first (openssl pkcs8 -in key.pem -out plain.pem)"
                .to_string(),
        ));
    } else {
        return Err(PkiError::Key("no PEM private key found".to_string()));
    };
    let der = rustls_pki_types::PrivatePkcs8KeyDer::from(pkcs8.expose().as_slice());
    for (alg, algorithm) in [
        (&rcgen::PKCS_ECDSA_P256_SHA256, KeyAlgorithm::EcdsaP256),
        (&rcgen::PKCS_RSA_SHA256, KeyAlgorithm::Rsa2048),
    ] {
        if let Ok(key) = KeyPair::from_pkcs8_der_and_sign_algo(&der, alg) {
            return Ok((key, algorithm));
        }
    }
    Err(PkiError::Key(
        "unsupported key type (ECDSA P-256 and RSA are supported)".to_string(),
    ))
}

/// Host-name syntax (RFC 1123 labels): what a gateway can put in a URL and check against a SAN.
pub(crate) fn is_dns_name(name: &str) -> bool {
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
