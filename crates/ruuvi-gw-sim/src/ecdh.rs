//! The optional ECDH payload encryption of firmware ≥ v1.15 (gateway-local-api §4): a P-256
//! handshake on any GET, then AES-256-CBC envelopes for POST bodies. Plain bodies stay valid.

use aes::cipher::{block_padding::NoPadding, BlockDecryptMut, KeyIvInit};
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use p256::ecdh::EphemeralSecret;
use p256::elliptic_curve::sec1::ToEncodedPoint;
use p256::PublicKey;
use sha2::{Digest, Sha256};

use crate::gateway::GatewayState;
use crate::http::Request;

type Aes256CbcDec = cbc::Decryptor<aes::Aes256>;

/// A client key the gateway cannot use (answered with 500).
#[derive(Debug, thiserror::Error)]
#[error("Ruuvi-Ecdh-Pub-Key is not a base64 65-byte uncompressed P-256 point")]
pub struct BadClientKey;

/// Answers a handshake: the client's 65-byte uncompressed point in, ours out. The gateway keeps
/// one context for everybody: the latest handshake wins.
pub fn handshake(st: &mut GatewayState, client_key_b64: &str) -> Result<String, BadClientKey> {
    let bytes = B64
        .decode(client_key_b64.trim())
        .map_err(|_| BadClientKey)?;
    if bytes.len() != 65 || bytes[0] != 0x04 {
        return Err(BadClientKey);
    }
    let client = PublicKey::from_sec1_bytes(&bytes).map_err(|_| BadClientKey)?;
    let secret = EphemeralSecret::random(&mut rand_core::OsRng);
    let ours = secret.public_key().to_encoded_point(false);
    let shared = secret.diffie_hellman(&client);
    st.ecdh_key = Some(Sha256::digest(shared.raw_secret_bytes()).into());
    Ok(B64.encode(ours.as_bytes()))
}

/// The body of a POST: decrypted when `Ruuvi-Ecdh-Encrypted: true`, as sent otherwise.
/// `Err(400)` when the envelope does not decrypt or its hash does not match.
pub fn unwrap_body(st: &GatewayState, req: &Request) -> Result<Vec<u8>, u16> {
    if !st.firmware().has_ecdh() || req.header("Ruuvi-Ecdh-Encrypted").as_deref() != Some("true") {
        return Ok(req.body.clone());
    }
    let envelope: serde_json::Value = serde_json::from_slice(&req.body).map_err(|_| 400u16)?;
    let field = |name: &str| {
        envelope
            .get(name)
            .and_then(|v| v.as_str())
            .unwrap_or("")
            .to_string()
    };
    decrypt(st, &field("encrypted"), &field("iv"), &field("hash")).ok_or(400)
}

/// Decrypts one envelope (base64 ciphertext, IV and SHA-256 of the plaintext) with the key of
/// the latest handshake; `None` on any failure.
pub fn decrypt(st: &GatewayState, encrypted: &str, iv: &str, hash: &str) -> Option<Vec<u8>> {
    decrypt_with_key(&st.ecdh_key?, encrypted, iv, hash)
}

/// [`decrypt`] with a given AES-256 key.
pub fn decrypt_with_key(key: &[u8; 32], encrypted: &str, iv: &str, hash: &str) -> Option<Vec<u8>> {
    let key = *key;
    let (mut data, iv, hash) = (
        B64.decode(encrypted).ok()?,
        B64.decode(iv).ok()?,
        B64.decode(hash).ok()?,
    );
    if iv.len() != 16 || data.is_empty() || data.len() % 16 != 0 {
        return None;
    }
    let plain_len = Aes256CbcDec::new(&key.into(), iv.as_slice().into())
        .decrypt_padded_mut::<NoPadding>(&mut data)
        .ok()?
        .len();
    // Like the firmware, only check that the PKCS#7 pad is at most one block.
    let pad = usize::from(*data[..plain_len].last()?);
    if pad == 0 || pad > 16 || pad > plain_len {
        return None;
    }
    data.truncate(plain_len - pad);
    (Sha256::digest(&data).as_slice() == hash.as_slice()).then_some(data)
}
