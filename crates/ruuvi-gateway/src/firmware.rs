//! What a gateway's firmware version allows (spec §11), from the `fw_ver` string it reports.

/// `v1.17.3`, or a development build `v1.17.3-24-g5d0ab90` (24 commits after v1.17.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
pub struct FirmwareVersion {
    pub major: u16,
    pub minor: u16,
    pub patch: u16,
    /// Commits after the tag (0 for a release).
    pub build: u32,
}

impl FirmwareVersion {
    pub const fn new(major: u16, minor: u16, patch: u16) -> Self {
        Self {
            major,
            minor,
            patch,
            build: 0,
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        let text = text.trim().strip_prefix('v').unwrap_or(text.trim());
        let (tag, build) = match text.split_once('-') {
            Some((tag, rest)) => (tag, rest.split('-').next()?.parse().unwrap_or(0)),
            None => (text, 0),
        };
        let mut parts = tag.split('.').map(|p| p.parse::<u16>().ok());
        Some(Self {
            major: parts.next()??,
            minor: parts.next()??,
            patch: parts.next().flatten().unwrap_or(0),
            build,
        })
    }

    /// Optional ECDH payload encryption (§4).
    pub fn has_ecdh(self) -> bool {
        self >= Self::new(1, 15, 0)
    }

    /// The certificate store (`/ssl_cert`), `use_http_ruuvi`, `http_auth` and `http_data_format`.
    pub fn has_http_backend_settings(self) -> bool {
        self >= Self::new(1, 14, 0)
    }

    /// `http_period`, the `ruuvi_raw_and_decoded` / `ruuvi_decoded` formats.
    pub fn has_http_period_and_formats(self) -> bool {
        self >= Self::new(1, 15, 0)
    }

    /// `http_auth: api_key`.
    pub fn has_api_key_auth(self) -> bool {
        self >= Self::new(1, 16, 0)
    }

    /// `/extra_cfg` and the larger request limits.
    pub fn has_extra_cfg(self) -> bool {
        self >= Self::new(1, 17, 2)
    }

    /// The request-size limits of this firmware (§1).
    pub fn request_limits(self) -> RequestLimits {
        if self.has_extra_cfg() {
            RequestLimits::Split {
                head: 4096,
                content: 11_434,
                plaintext: 8192,
            }
        } else {
            RequestLimits::Whole(4096)
        }
    }
}

impl std::fmt::Display for FirmwareVersion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "v{}.{}.{}", self.major, self.minor, self.patch)?;
        if self.build > 0 {
            write!(f, "+{}", self.build)?;
        }
        Ok(())
    }
}

/// How large a request the gateway accepts; a larger one is silently dropped (old firmware) or
/// refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequestLimits {
    /// Request line + headers + body (firmware ≤ v1.17.1).
    Whole(usize),
    /// Header block, `Content-Length`, decrypted content (firmware ≥ v1.17.2).
    Split {
        head: usize,
        content: usize,
        plaintext: usize,
    },
}

impl RequestLimits {
    /// Unknown firmware: assume the strictest.
    pub const STRICTEST: RequestLimits = RequestLimits::Whole(4096);

    /// `Err(limit)` when a request of this shape does not fit.
    pub fn check(self, head: usize, body: usize, plaintext: usize) -> Result<(), usize> {
        match self {
            RequestLimits::Whole(limit) if head + body > limit => Err(limit),
            RequestLimits::Split { head: h, .. } if head > h => Err(h),
            RequestLimits::Split { content, .. } if body > content => Err(content),
            RequestLimits::Split { plaintext: p, .. } if plaintext > p => Err(p),
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_order_and_features() {
        let v = |s| FirmwareVersion::parse(s).unwrap();
        assert!(v("v1.17.3-24-g5d0ab90") > v("v1.17.3"));
        assert!(v("v1.13.1") < v("v1.14.0"));
        assert_eq!(v("1.9").patch, 0);
        assert!(FirmwareVersion::parse("dev").is_none());
        assert!(!v("v1.14.3").has_ecdh() && v("v1.15.0").has_ecdh());
        assert!(v("v1.16.2").has_api_key_auth() && !v("v1.15.0").has_api_key_auth());
        assert_eq!(v("v1.17.1").request_limits(), RequestLimits::Whole(4096));
        assert_eq!(RequestLimits::Whole(4096).check(200, 3897, 0), Err(4096));
        assert!(v("v1.17.2")
            .request_limits()
            .check(200, 11_000, 8000)
            .is_ok());
        assert_eq!(
            v("v1.17.2").request_limits().check(200, 11_000, 8200),
            Err(8192)
        );
        assert_eq!(v("v1.17.3-24-g1").to_string(), "v1.17.3+24");
    }
}
