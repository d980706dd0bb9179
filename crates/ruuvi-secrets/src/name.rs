/// What a secret is for; the keychain entry is named `<kind>/<id>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SecretKind {
    /// The password of a gateway's web UI (`id` = the gateway's MAC).
    GatewayPassword,
    /// A gateway's bearer key for its local API, read-only (`lan_auth_api_key`).
    GatewayApiKey,
    /// A gateway's bearer key with write access (`lan_auth_api_key_rw`).
    GatewayApiKeyRw,
    /// A secret the receiver expects from gateways (Basic password, Bearer token, API key).
    ReceiverAuth,
    /// An HMAC key for signed gateway posts.
    HmacKey,
    /// The Ruuvi Network Internal API secret.
    InternalApiSecret,
    /// A private key (PEM): the CA's, the receiver's, a gateway's client key.
    PrivateKey,
    /// A PostgreSQL password (`id` = `host:port:user`).
    DatabasePassword,
    /// An MQTT broker password (`id` = `host:port:user`).
    MqttPassword,
    /// Served remote configuration: its token and the documents' secret values.
    RemoteConfig,
}

const KINDS: [(SecretKind, &str); 10] = [
    (SecretKind::GatewayPassword, "gateway-password"),
    (SecretKind::GatewayApiKey, "gateway-api-key"),
    (SecretKind::GatewayApiKeyRw, "gateway-api-key-rw"),
    (SecretKind::ReceiverAuth, "receiver-auth"),
    (SecretKind::HmacKey, "hmac-key"),
    (SecretKind::InternalApiSecret, "internal-api-secret"),
    (SecretKind::PrivateKey, "private-key"),
    (SecretKind::DatabasePassword, "database-password"),
    (SecretKind::MqttPassword, "mqtt-password"),
    (SecretKind::RemoteConfig, "remote-config"),
];

impl SecretKind {
    pub fn as_str(self) -> &'static str {
        KINDS
            .iter()
            .find(|(k, _)| *k == self)
            .map(|(_, s)| *s)
            .expect("every kind is listed")
    }

    pub fn all() -> impl Iterator<Item = SecretKind> {
        KINDS.iter().map(|(k, _)| *k)
    }
}

/// A keychain entry's name: `<kind>/<id>`, e.g. `gateway-password/C8:25:2D:8E:9C:2C`.
/// Names are not secret (they appear in listings and logs); only the values are.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SecretName {
    kind: SecretKind,
    text: String,
}

impl SecretName {
    /// `id`: 1 to 128 of `A-Z a-z 0-9 : . _ -`.
    pub fn new(kind: SecretKind, id: &str) -> Result<Self, crate::SecretError> {
        let bad = |reason| crate::SecretError::BadName {
            name: id.to_string(),
            reason,
        };
        if id.is_empty() || id.len() > 128 {
            return Err(bad("the id must be 1 to 128 characters"));
        }
        if !id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b":._-".contains(&b))
        {
            return Err(bad("the id may only contain letters, digits and : . _ -"));
        }
        Ok(Self {
            kind,
            text: format!("{}/{id}", kind.as_str()),
        })
    }

    pub fn kind(&self) -> SecretKind {
        self.kind
    }

    pub fn id(&self) -> &str {
        &self.text[self.kind.as_str().len() + 1..]
    }

    pub fn as_str(&self) -> &str {
        &self.text
    }
}

impl std::str::FromStr for SecretName {
    type Err = crate::SecretError;

    /// `<kind>/<id>` as printed by `Display`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (kind, id) = s.split_once('/').ok_or(crate::SecretError::BadName {
            name: s.to_string(),
            reason: "expected <kind>/<id>",
        })?;
        let kind = KINDS
            .iter()
            .find(|(_, name)| *name == kind)
            .map(|(k, _)| *k)
            .ok_or(crate::SecretError::BadName {
                name: s.to_string(),
                reason: "unknown kind (gateway-password, gateway-api-key, gateway-api-key-rw, \
                         receiver-auth, hmac-key, internal-api-secret, private-key, \
                         database-password, mqtt-password, remote-config)",
            })?;
        Self::new(kind, id)
    }
}

impl std::fmt::Display for SecretName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_through_text() {
        for kind in SecretKind::all() {
            let name = SecretName::new(kind, "C8:25:2D:8E:9C:2C").unwrap();
            assert_eq!(name.to_string().parse::<SecretName>().unwrap(), name);
            assert_eq!(name.id(), "C8:25:2D:8E:9C:2C");
            assert_eq!(name.kind(), kind);
        }
        assert_eq!(
            "private-key/ca".parse::<SecretName>().unwrap().as_str(),
            "private-key/ca"
        );
    }

    #[test]
    fn bad_names_are_refused_with_a_reason() {
        for bad in [
            "nokind",
            "colour/x",
            "private-key/",
            "private-key/a b",
            "private-key/../x",
        ] {
            // (Dots are allowed in ids; a slash is not.)
            assert!(bad.parse::<SecretName>().is_err(), "{bad}");
        }
        assert!(SecretName::new(SecretKind::HmacKey, &"x".repeat(129)).is_err());
    }
}
