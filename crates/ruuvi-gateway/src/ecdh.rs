//! The client half of the gateway's optional payload encryption (spec §4, firmware ≥ v1.15):
//! a P-256 handshake on a GET, then AES-256-CBC envelopes for every body that carries a secret.

use aes::cipher::{block_padding::Pkcs7, BlockEncryptMut, KeyIvInit};
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use p256::ecdh::EphemeralSecret;
use p256::elliptic_curve::sec1::ToEncodedPoint;
use p256::PublicKey;
use rand_core::RngCore;
use sha2::{Digest, Sha256};

use crate::GatewayError;

/// The header both sides put their public key in.
pub const PUB_KEY_HEADER: &str = "Ruuvi-Ecdh-Pub-Key";

/// Our half of a handshake in progress.
pub struct Handshake {
    secret: EphemeralSecret,
}

impl Handshake {
    /// A fresh key pair and the header value announcing it.
    pub fn start() -> (Self, String) {
        let secret = EphemeralSecret::random(&mut rand_core::OsRng);
        let ours = B64.encode(secret.public_key().to_encoded_point(false).as_bytes());
        (Self { secret }, ours)
    }

    /// The AES key from the gateway's answer: SHA-256 of the shared X coordinate.
    pub fn finish(self, theirs_b64: &str) -> Result<SessionKey, GatewayError> {
        let bad = |why: &str| GatewayError::Protocol(format!("the gateway's ECDH key: {why}"));
        let bytes = B64
            .decode(theirs_b64.trim())
            .map_err(|_| bad("not base64"))?;
        let theirs = PublicKey::from_sec1_bytes(&bytes).map_err(|_| bad("not a P-256 point"))?;
        let shared = self.secret.diffie_hellman(&theirs);
        Ok(SessionKey(Sha256::digest(shared.raw_secret_bytes()).into()))
    }
}

/// The AES-256 key of one handshake. The gateway keeps one for everybody: the latest
/// handshake from any client wins, so a key can go stale (the gateway then answers 400).
#[derive(Clone)]
pub struct SessionKey([u8; 32]);

impl std::fmt::Debug for SessionKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SessionKey(<redacted>)")
    }
}

impl Drop for SessionKey {
    fn drop(&mut self) {
        self.0 = [0; 32];
    }
}

/// `{encrypted, iv, hash}`, each base64: the body of an encrypted POST, or the three
/// `encrypted_password*` query parameters of `/validate_url`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Envelope {
    pub encrypted: String,
    pub iv: String,
    pub hash: String,
}

impl SessionKey {
    pub fn seal(&self, plain: &[u8]) -> Envelope {
        let mut iv = [0u8; 16];
        rand_core::OsRng.fill_bytes(&mut iv);
        let ciphertext = cbc::Encryptor::<aes::Aes256>::new(&self.0.into(), &iv.into())
            .encrypt_padded_vec_mut::<Pkcs7>(plain);
        Envelope {
            encrypted: B64.encode(ciphertext),
            iv: B64.encode(iv),
            hash: B64.encode(Sha256::digest(plain)),
        }
    }

    #[cfg(test)]
    pub(crate) fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }
}

impl Envelope {
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("three strings")
    }

    /// The size of the JSON body for a plaintext of `plain_len` bytes, without encrypting.
    pub fn json_len(plain_len: usize) -> usize {
        let b64 = |n: usize| n.div_ceil(3) * 4;
        let cipher = (plain_len / 16 + 1) * 16;
        r#"{"encrypted":"","iv":"","hash":""}"#.len() + b64(cipher) + b64(16) + b64(32)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aes::cipher::BlockDecryptMut;

    #[test]
    fn handshake_and_envelope_match_the_gateway_side() {
        // Play both sides with the same construction the firmware uses.
        let (ours, our_pub) = Handshake::start();
        let (theirs, their_pub) = Handshake::start();
        let k1 = ours.finish(&their_pub).unwrap();
        let k2 = theirs.finish(&our_pub).unwrap();
        assert_eq!(k1.0, k2.0);
        let plain = br#"{"http_bearer_token":"s3cr3t"}"#;
        let env = k1.seal(plain);
        assert_eq!(env.to_json().len(), Envelope::json_len(plain.len()));
        let iv = B64.decode(&env.iv).unwrap();
        let mut data = B64.decode(&env.encrypted).unwrap();
        let out = cbc::Decryptor::<aes::Aes256>::new(&k2.0.into(), iv.as_slice().into())
            .decrypt_padded_mut::<Pkcs7>(&mut data)
            .unwrap();
        assert_eq!(out, plain);
        assert_eq!(
            B64.decode(&env.hash).unwrap(),
            Sha256::digest(plain).to_vec()
        );
        assert_eq!(format!("{k1:?}"), "SessionKey(<redacted>)");
        assert!(Handshake::start().0.finish("AAAA").is_err());
        let _ = SessionKey::from_bytes([1; 32]);
    }
}
