use zeroize::Zeroize;

/// A secret value in memory. `Debug` and `Display` print `<redacted>`, there is no `Serialize`
/// (so it cannot slip into IPC replies, JSON files or SQLite by accident), and the value is
/// overwritten when dropped. Read it with [`Sensitive::expose`] only where it is used.
///
/// ```compile_fail
/// let secret = ruuvi_secrets::Sensitive::new(String::from("hunter2"));
/// serde_json::to_string(&secret).unwrap(); // Sensitive does not implement Serialize
/// ```
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Sensitive<T: Zeroize>(T);

impl<T: Zeroize> Sensitive<T> {
    pub fn new(value: T) -> Self {
        Self(value)
    }

    /// The value itself, for the one place that needs it (a header, a TLS config, the keychain).
    pub fn expose(&self) -> &T {
        &self.0
    }
}

impl<T: Zeroize> From<T> for Sensitive<T> {
    fn from(value: T) -> Self {
        Self(value)
    }
}

impl<T: Zeroize> Drop for Sensitive<T> {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

impl<T: Zeroize> std::fmt::Debug for Sensitive<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("<redacted>")
    }
}

impl<T: Zeroize> std::fmt::Display for Sensitive<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("<redacted>")
    }
}

/// Secrets may arrive (a password typed in the UI, a key read from a file); they never leave.
impl<'de, T: Zeroize + serde::Deserialize<'de>> serde::Deserialize<'de> for Sensitive<T> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        T::deserialize(d).map(Self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prints_redacted_everywhere() {
        let s = Sensitive::new(String::from("hunter2"));
        assert_eq!(format!("{s}"), "<redacted>");
        assert_eq!(format!("{s:?}"), "<redacted>");
        assert_eq!(format!("{:?}", Some(&s)), "Some(<redacted>)");
        assert_eq!(s.expose(), "hunter2");
        #[derive(Debug)]
        #[allow(dead_code)]
        struct Login {
            user: String,
            password: Sensitive<String>,
        }
        let login = Login {
            user: "admin".into(),
            password: "pw-123".to_string().into(),
        };
        let text = format!("{login:?} {login:#?}");
        assert!(
            !text.contains("pw-123") && text.contains("<redacted>"),
            "{text}"
        );
    }

    #[test]
    fn can_be_read_from_json_but_not_written() {
        #[derive(serde::Deserialize)]
        struct Request {
            password: Sensitive<String>,
        }
        let r: Request = serde_json::from_str(r#"{"password": "s3cret"}"#).unwrap();
        assert_eq!(r.password.expose(), "s3cret");
    }
}
