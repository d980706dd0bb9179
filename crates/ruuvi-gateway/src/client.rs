//! One logged-in conversation with one gateway.
//!
//! The gateway handles one request at a time and keeps one pending login challenge and one ECDH
//! context for everybody, so a client takes `&mut self` and does one thing at a time.
//!
//! Reading `/ruuvi.json` puts the gateway into configuration mode: it stops forwarding data for
//! 60 s (spec §5.3). [`GatewayClient::config`] says so; use [`GatewayClient::status`] or
//! [`GatewayClient::history`] to see whether a gateway is alive.

use std::time::Duration;

use rand_core::RngCore;
use ruuvi_secrets::Sensitive;

use crate::auth::{self, AuthInfo, Challenge, Credentials};
use crate::ecdh::{Handshake, SessionKey, PUB_KEY_HEADER};
use crate::firmware::{FirmwareVersion, RequestLimits};
use crate::http::{self, Endpoint, Method, Request, Response};
use crate::GatewayError;

#[derive(Debug, Clone)]
pub struct ClientOptions {
    /// Per request. `/validate_url` may take 25 s on the gateway and every POST 1 s more.
    pub timeout: Duration,
    /// Login attempts when another client's login keeps replacing our challenge.
    pub login_attempts: u32,
}

impl Default for ClientOptions {
    fn default() -> Self {
        Self {
            timeout: Duration::from_secs(35),
            login_attempts: 6,
        }
    }
}

/// How requests are authorised once logged in.
#[derive(Debug)]
enum Login {
    Pending,
    /// `lan_auth_allow`: nothing needed.
    Open,
    /// `RUUVISESSION=<id>` of an authorised session.
    Cookie(Sensitive<String>),
    Basic(Sensitive<String>),
    Digest {
        realm: String,
        nonce: String,
        opaque: String,
        nc: u32,
    },
    Bearer,
}

/// The outcome of a gateway-side connectivity check (`/validate_url`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ValidateOutcome {
    /// The HTTP status the gateway got from the target (or 502 for a network error).
    pub status: u16,
    pub message: String,
}

impl ValidateOutcome {
    /// The gateway's `{"status": …, "message": …}`.
    fn of(value: &serde_json::Value) -> Self {
        Self {
            status: value["status"]
                .as_u64()
                .and_then(|s| u16::try_from(s).ok())
                .unwrap_or(0),
            message: value["message"].as_str().unwrap_or_default().to_string(),
        }
    }

    /// As the gateway's own UI reads it: 2xx valid, 401 credentials wrong, 502 the message,
    /// 500 an internal error.
    pub fn summary(&self) -> String {
        match self.status {
            200..=299 => "the gateway reached the server".to_string(),
            401 => "the server refused the credentials".to_string(),
            500 => "Ruuvi Gateway internal error".to_string(),
            _ => self.message.clone(),
        }
    }

    pub fn ok(&self) -> bool {
        (200..300).contains(&self.status)
    }
}

pub struct GatewayClient {
    endpoint: Endpoint,
    credentials: Credentials,
    options: ClientOptions,
    login: Login,
    ecdh: Option<SessionKey>,
    info: Option<AuthInfo>,
    firmware: Option<FirmwareVersion>,
    mac: Option<String>,
}

fn cookie_value(response: &Response, name: &str) -> Option<String> {
    response
        .headers
        .iter()
        .filter(|(n, _)| n.eq_ignore_ascii_case("Set-Cookie"))
        .find_map(|(_, v)| {
            let (k, rest) = v.split_once('=')?;
            (k.trim() == name).then(|| rest.split(';').next().unwrap_or("").to_string())
        })
        .filter(|v| !v.is_empty())
}

/// Waits a random 150–650 ms: two clients that collide on the one pending challenge should not
/// collide again.
async fn jitter() {
    let ms = 150 + u64::from(rand_core::OsRng.next_u32() % 500);
    tokio::time::sleep(Duration::from_millis(ms)).await;
}

impl GatewayClient {
    /// A client for the gateway at `endpoint`; nothing is sent until [`GatewayClient::login`].
    pub fn new(endpoint: Endpoint, credentials: Credentials, options: ClientOptions) -> Self {
        Self {
            endpoint,
            credentials,
            options,
            login: Login::Pending,
            ecdh: None,
            info: None,
            firmware: None,
            mac: None,
        }
    }

    pub fn endpoint(&self) -> &Endpoint {
        &self.endpoint
    }

    /// What this client logs in with.
    pub fn credentials(&self) -> &Credentials {
        &self.credentials
    }

    /// A new client for the same gateway and options with other credentials (not logged in).
    pub fn with_credentials(&self, credentials: Credentials) -> GatewayClient {
        GatewayClient::new(self.endpoint.clone(), credentials, self.options.clone())
    }

    /// The auth JSON from the last `/auth` exchange.
    pub fn info(&self) -> Option<&AuthInfo> {
        self.info.as_ref()
    }

    pub fn firmware(&self) -> Option<FirmwareVersion> {
        self.firmware
    }

    /// The gateway's BLE MAC (its id everywhere), once known.
    pub fn mac(&self) -> Option<&str> {
        self.mac.as_deref()
    }

    /// Whether bodies are sent encrypted (firmware ≥ v1.15 answered the handshake).
    pub fn encrypts(&self) -> bool {
        self.ecdh.is_some()
    }

    pub fn request_limits(&self) -> RequestLimits {
        self.firmware
            .map(FirmwareVersion::request_limits)
            .unwrap_or(RequestLimits::STRICTEST)
    }

    async fn send(&self, request: &Request) -> Result<Response, GatewayError> {
        http::send(&self.endpoint, request, self.options.timeout).await
    }

    fn password(&self) -> Result<(&str, &Sensitive<String>), GatewayError> {
        match &self.credentials {
            Credentials::Password { user, password } => Ok((user, password)),
            _ => Err(GatewayError::Unauthorized(
                "this gateway asks for a user name and password".to_string(),
            )),
        }
    }

    fn remember(&mut self, response: &Response) {
        if let Some(info) = AuthInfo::parse(&response.body) {
            if let Some(v) = info.fw_ver.as_deref().and_then(FirmwareVersion::parse) {
                self.firmware = Some(v);
            }
            self.info = Some(info);
        }
    }

    fn take_ecdh(&mut self, handshake: Handshake, response: &Response) -> Result<(), GatewayError> {
        if let Some(theirs) = response.header(PUB_KEY_HEADER) {
            self.ecdh = Some(handshake.finish(theirs)?);
        }
        Ok(())
    }

    /// Logs in with the credentials given, in whatever mode the gateway is in: the realm and
    /// the scheme come from its challenge. Retries with jitter when another client's login
    /// replaces our pending challenge.
    pub async fn login(&mut self) -> Result<(), GatewayError> {
        self.login = Login::Pending;
        if let Credentials::ApiKey(_) = self.credentials {
            self.login = Login::Bearer;
            // `/auth` ignores bearer keys (and would disturb someone's login): learn the
            // firmware from /metrics, and do the ECDH handshake there. /metrics is only a
            // convenience: when it fails otherwise than by refusing the key, /status.json
            // (any key may read it) proves the key and carries the handshake instead.
            match self.read_metrics(true).await {
                Err(GatewayError::Protocol(why)) => {
                    tracing::debug!(gateway = %self.endpoint, "{why}; trying /status.json");
                    self.check_key_on("/status.json").await?;
                }
                other => other?,
            }
            return Ok(());
        }
        let mut silent_refusals = 0;
        for _ in 0..self.options.login_attempts.max(1) {
            let (handshake, ours) = Handshake::start();
            let request = Request::new(Method::Get, "/auth").header(PUB_KEY_HEADER, ours);
            let response = self.send(&request).await?;
            self.take_ecdh(handshake, &response)?;
            self.remember(&response);
            match response.status {
                200 => {
                    self.login = match cookie_value(&response, "RUUVISESSION") {
                        Some(id) => Login::Cookie(Sensitive::new(format!("RUUVISESSION={id}"))),
                        None => Login::Open,
                    };
                }
                403 => {
                    return Err(GatewayError::Unauthorized(
                        "LAN access is denied on this gateway (lan_auth_deny): use an API key"
                            .to_string(),
                    ))
                }
                401 => {
                    let challenge = response
                        .header("WWW-Authenticate")
                        .and_then(Challenge::parse)
                        .ok_or_else(|| {
                            GatewayError::Protocol("401 from /auth without a challenge".into())
                        })?;
                    match self.answer(challenge).await? {
                        true => {}
                        // Firmware ≤ v1.13 refuses a wrong password without a message, just as
                        // it refuses a challenge another client replaced: give it two tries.
                        false if self.info.as_ref().is_some_and(|i| i.success.is_some()) => {
                            silent_refusals += 1;
                            if silent_refusals >= 2 {
                                return Err(GatewayError::Unauthorized(
                                    "the gateway refused the user name or password".to_string(),
                                ));
                            }
                            jitter().await;
                            continue;
                        }
                        // Someone else's login replaced our challenge: try again a bit later.
                        false => {
                            tracing::debug!(gateway = %self.endpoint, "login collided; retrying");
                            jitter().await;
                            continue;
                        }
                    }
                }
                503 => return Err(GatewayError::Rejected {
                    status: 503,
                    message:
                        "the gateway does not accept LAN requests right now (its hotspot is active)"
                            .into(),
                }),
                other => {
                    return Err(GatewayError::Protocol(format!(
                        "GET /auth answered {other}"
                    )))
                }
            }
            // Best effort: the firmware and MAC also come with `/ruuvi.json`, and a gateway
            // that hides its version from strangers (after v1.17.3) shows it there.
            if self.firmware.is_none() || self.mac.is_none() {
                if let Err(e) = self.read_metrics(false).await {
                    tracing::debug!(gateway = %self.endpoint, "no firmware or MAC from /metrics: {e}");
                }
            }
            return Ok(());
        }
        Err(GatewayError::LoginCollision(self.endpoint.to_string()))
    }

    /// Answers a challenge; `Ok(false)` when the interactive login lost its challenge to another
    /// client.
    async fn answer(&mut self, challenge: Challenge) -> Result<bool, GatewayError> {
        let (user, password) = self.password()?;
        let (user, password) = (user.to_string(), password.clone());
        match challenge {
            Challenge::Interactive {
                realm,
                challenge,
                session_cookie,
                session_id,
            } => {
                let cookie = format!("{session_cookie}={session_id}");
                let body = auth::interactive_login_body(&user, &password, &realm, &challenge);
                let request = Request::new(Method::Post, "/auth")
                    .header("Cookie", cookie.clone())
                    .body(body);
                let response = self.send(&request).await?;
                self.remember(&response);
                match response.status {
                    200 => {
                        self.login = Login::Cookie(Sensitive::new(cookie));
                        Ok(true)
                    }
                    401 => match self.info.as_ref().and_then(|i| i.message.clone()) {
                        Some(message) => Err(GatewayError::Unauthorized(message)),
                        None => Ok(false),
                    },
                    other => Err(GatewayError::Protocol(format!(
                        "POST /auth answered {other}"
                    ))),
                }
            }
            Challenge::Basic { .. } => {
                self.login = Login::Basic(auth::basic_authorization(&user, &password));
                self.verify_login().await.map(|_| true)
            }
            Challenge::Digest {
                realm,
                nonce,
                opaque,
            } => {
                self.login = Login::Digest {
                    realm,
                    nonce,
                    opaque,
                    nc: 0,
                };
                self.verify_login().await.map(|_| true)
            }
        }
    }

    /// `GET /auth` with the Basic/Digest header: 200 means the credentials are right.
    async fn verify_login(&mut self) -> Result<(), GatewayError> {
        let request = self.authorise(Request::new(Method::Get, "/auth"))?;
        let response = self.send(&request).await?;
        self.remember(&response);
        match response.status {
            200 => Ok(()),
            _ => Err(GatewayError::Unauthorized(
                "the gateway refused the user name or password".to_string(),
            )),
        }
    }

    /// `GET /metrics`: the firmware version and MAC without entering configuration mode.
    async fn read_metrics(&mut self, handshake: bool) -> Result<(), GatewayError> {
        let mut request = self.authorise(Request::new(Method::Get, "/metrics"))?;
        let pending = if handshake {
            let (h, ours) = Handshake::start();
            request = request.header(PUB_KEY_HEADER, ours);
            Some(h)
        } else {
            None
        };
        let response = self.send(&request).await?;
        match response.status {
            200 => {}
            401 | 403 => {
                return Err(GatewayError::Unauthorized(
                    "the gateway refused the API key".to_string(),
                ))
            }
            other => {
                return Err(GatewayError::Protocol(format!(
                    "GET /metrics answered {other}"
                )))
            }
        }
        if let Some(h) = pending {
            self.take_ecdh(h, &response)?;
        }
        let text = response.text();
        let label = |name: &str| {
            let at = text.find("ruuvigw_info{")?;
            let line = text[at..].lines().next()?;
            let start = line.find(&format!("{name}=\""))? + name.len() + 2;
            line[start..].split('"').next().map(str::to_string)
        };
        if let Some(v) = label("esp_fw").as_deref().and_then(FirmwareVersion::parse) {
            self.firmware = Some(v);
        }
        if let Some(mac) = label("mac") {
            self.mac = Some(mac);
        }
        Ok(())
    }

    /// `GET path` with the API key and an ECDH handshake: 200 proves the key.
    async fn check_key_on(&mut self, path: &str) -> Result<(), GatewayError> {
        let (h, ours) = Handshake::start();
        let request = self
            .authorise(Request::new(Method::Get, path))?
            .header(PUB_KEY_HEADER, ours);
        let response = self.send(&request).await?;
        match response.status {
            200 => self.take_ecdh(h, &response),
            401 | 403 => Err(GatewayError::Unauthorized(
                "the gateway refused the API key".to_string(),
            )),
            other => Err(GatewayError::Protocol(format!(
                "GET {path} answered {other}"
            ))),
        }
    }

    /// The gateway's MAC: from `/metrics` or the auth exchange when they said it, else from
    /// `/ruuvi.json`'s `gw_mac` (which enters configuration mode for a minute, §5.3).
    pub async fn learn_mac(&mut self) -> Result<String, GatewayError> {
        if let Some(mac) = &self.mac {
            return Ok(mac.clone());
        }
        self.config().await?;
        self.mac.clone().ok_or_else(|| {
            GatewayError::Protocol(
                "the gateway said its MAC neither in /metrics nor in /ruuvi.json".into(),
            )
        })
    }

    /// Adds what proves we are logged in.
    fn authorise(&mut self, request: Request) -> Result<Request, GatewayError> {
        Ok(match &mut self.login {
            Login::Pending | Login::Open => request,
            Login::Cookie(cookie) => request.header("Cookie", cookie.expose().clone()),
            Login::Basic(value) => request.header("Authorization", value.expose().clone()),
            Login::Digest {
                realm,
                nonce,
                opaque,
                nc,
            } => {
                *nc += 1;
                let (user, password) = match &self.credentials {
                    Credentials::Password { user, password } => (user, password),
                    _ => unreachable!("digest logins come from a password"),
                };
                let path = request.path.clone();
                let value =
                    auth::digest_authorization(user, password, realm, nonce, opaque, &path, *nc);
                request.header("Authorization", value.expose().clone())
            }
            Login::Bearer => match &self.credentials {
                Credentials::ApiKey(key) => {
                    request.header("Authorization", format!("Bearer {}", key.expose()))
                }
                _ => unreachable!("bearer logins come from an API key"),
            },
        })
    }

    /// Sends with our authorisation; logs in again once when the gateway dropped our session
    /// (a 302 to `/#auth` or a 401 — e.g. after its auth settings changed or it rebooted).
    pub async fn request(&mut self, request: Request) -> Result<Response, GatewayError> {
        if matches!(self.login, Login::Pending) {
            self.login().await?;
        }
        let path = request.path.clone();
        let (method, headers, body) = (request.method, request.headers, request.body);
        let rebuild = || {
            let mut r = Request::new(method, path.clone()).body(body.clone());
            r.headers = headers.clone();
            r
        };
        let first = self.authorise(rebuild())?;
        let response = self.send(&first).await?;
        let dropped = (response.status == 302
            && response
                .header("Location")
                .is_some_and(|l| l.contains("#auth")))
            || (response.status == 401 && !matches!(self.login, Login::Bearer));
        if !dropped {
            return Ok(response);
        }
        tracing::debug!(gateway = %self.endpoint, "session dropped; logging in again");
        self.login().await?;
        let again = self.authorise(rebuild())?;
        self.send(&again).await
    }

    /// A GET that must answer 200 with JSON.
    pub async fn get_json(&mut self, path: &str) -> Result<serde_json::Value, GatewayError> {
        let response = self.request(Request::new(Method::Get, path)).await?;
        expect_ok(&response, path)?;
        response.json()
    }

    /// POSTs `plain`, encrypted when the gateway supports it (always for secrets), checking the
    /// firmware's request-size limits first. A stale ECDH key (someone else's handshake) is
    /// renewed once.
    pub async fn post_sealed(
        &mut self,
        path: &str,
        plain: &Sensitive<Vec<u8>>,
    ) -> Result<Response, GatewayError> {
        for attempt in 0..2 {
            let (body, encrypted) = match &self.ecdh {
                Some(key) => (key.seal(plain.expose()).to_json().into_bytes(), true),
                None => (plain.expose().clone(), false),
            };
            let mut request = Request::new(Method::Post, path).body(body);
            if encrypted {
                request = request.header("Ruuvi-Ecdh-Encrypted", "true");
            }
            // Measure with the authorisation it will carry.
            let mut measured = Request::new(Method::Post, path);
            measured.headers = request.headers.clone();
            let head = self.authorise(measured)?.head_len(&self.endpoint);
            if let Err(limit) =
                self.request_limits()
                    .check(head, request.body.len(), plain.expose().len())
            {
                return Err(GatewayError::TooLarge {
                    what: path.to_string(),
                    size: head + request.body.len(),
                    limit,
                });
            }
            let response = self.request(request).await?;
            if response.status == 400 && encrypted && attempt == 0 {
                self.refresh_ecdh().await?;
                continue;
            }
            return Ok(response);
        }
        unreachable!("the loop returns")
    }

    /// Whether uploading `len` bytes as `name` fits this firmware's request limit.
    pub fn upload_fits(&mut self, name: &str, len: usize) -> Result<(), GatewayError> {
        let body_len = if self.ecdh.is_some() {
            crate::ecdh::Envelope::json_len(len)
        } else {
            len
        };
        let mut request =
            Request::new(Method::Post, format!("/ssl_cert?file={name}")).body(vec![0u8; body_len]);
        if self.ecdh.is_some() {
            request = request.header("Ruuvi-Ecdh-Encrypted", "true");
        }
        let head = self.authorise(request)?.head_len(&self.endpoint);
        self.request_limits()
            .check(head, body_len, len)
            .map_err(|limit| GatewayError::TooLarge {
                what: format!("{name} ({len} bytes of PEM)"),
                size: head + body_len,
                limit,
            })
    }

    /// A new handshake on `GET /status.json` (allowed with any login, no side effects beyond
    /// extending configuration mode).
    pub async fn refresh_ecdh(&mut self) -> Result<(), GatewayError> {
        let (h, ours) = Handshake::start();
        let request = Request::new(Method::Get, "/status.json").header(PUB_KEY_HEADER, ours);
        let response = self.request(request).await?;
        expect_ok(&response, "/status.json")?;
        self.take_ecdh(h, &response)
    }

    /// `/status.json`: network state and firmware-update progress. Cheap and side-effect free
    /// (except that it extends configuration mode if the gateway is in it).
    pub async fn status(&mut self) -> Result<serde_json::Value, GatewayError> {
        self.get_json("/status.json").await
    }

    /// The configuration. **Side effect**: the gateway stops forwarding data for 60 s
    /// (configuration mode, spec §5.3). Read it only to show or change settings.
    pub async fn config(&mut self) -> Result<crate::config::GatewayConfig, GatewayError> {
        let value = self.get_json("/ruuvi.json").await?;
        let config = crate::config::GatewayConfig::from_json(value)?;
        if let Some(v) = config.fw_ver().and_then(FirmwareVersion::parse) {
            self.firmware = Some(v);
        }
        if let Some(mac) = config.gw_mac() {
            self.mac = Some(mac.to_string());
        }
        Ok(config)
    }

    /// `POST /ruuvi.json` (encrypted when possible); the gateway answers `{}`.
    pub async fn post_config(
        &mut self,
        body: &serde_json::Map<String, serde_json::Value>,
    ) -> Result<(), GatewayError> {
        let plain = Sensitive::new(serde_json::to_vec(body).expect("JSON map"));
        let response = self.post_sealed("/ruuvi.json", &plain).await?;
        expect_ok(&response, "/ruuvi.json")
    }

    /// Uploads a certificate, key or extra file to the gateway's store (`/ssl_cert`).
    pub async fn upload_file(
        &mut self,
        name: &str,
        content: &Sensitive<String>,
    ) -> Result<(), GatewayError> {
        if !crate::config::STORAGE_FILES.contains(&name) {
            return Err(GatewayError::BadInput(format!(
                "{name} is not one of the gateway's files"
            )));
        }
        let plain = Sensitive::new(content.expose().as_bytes().to_vec());
        let response = self
            .post_sealed(&format!("/ssl_cert?file={name}"), &plain)
            .await
            .map_err(|e| match e {
                GatewayError::TooLarge { size, limit, .. } => GatewayError::TooLarge {
                    what: format!(
                        "{name} ({} bytes of PEM; the firmware takes at most {limit} bytes per request)",
                        content.expose().len()
                    ),
                    size,
                    limit,
                },
                other => other,
            })?;
        expect_ok(&response, name)
    }

    /// Removes a file from the gateway's store.
    pub async fn delete_file(&mut self, name: &str) -> Result<(), GatewayError> {
        let response = self
            .request(Request::new(
                Method::Delete,
                format!("/ssl_cert?file={name}"),
            ))
            .await?;
        expect_ok(&response, name)
    }

    /// Makes the gateway test `url` (`validate_type=check_post_advs`) with the auth type and
    /// secret given (encrypted), or with the secret it already has (`secret: None`).
    pub async fn validate_url(
        &mut self,
        url: &str,
        auth_type: &str,
        user: &str,
        secret: Option<&Sensitive<String>>,
        use_client_cert: bool,
        use_server_cert: bool,
    ) -> Result<ValidateOutcome, GatewayError> {
        let enc = |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
        let mut path = format!(
            "/validate_url?url={}&validate_type=check_post_advs&auth_type={}&use_ssl_client_cert={use_client_cert}&use_ssl_server_cert={use_server_cert}",
            enc(url),
            enc(auth_type)
        );
        if !user.is_empty() {
            path.push_str(&format!("&user={}", enc(user)));
        }
        self.check(path, secret).await
    }

    /// Makes the gateway connect to an MQTT broker as it would publish
    /// (`validate_type=check_mqtt`): `transport` TCP/SSL/WS/WSS, the topic prefix and client id
    /// (empty: its defaults), `user` with `password` (encrypted) or the one it has saved
    /// (`None`); certificates are the ones in its store.
    #[allow(clippy::too_many_arguments)]
    pub async fn validate_mqtt(
        &mut self,
        transport: &str,
        host: &str,
        port: u16,
        prefix: &str,
        client_id: &str,
        user: &str,
        password: Option<&Sensitive<String>>,
        disable_retained_messages: bool,
    ) -> Result<ValidateOutcome, GatewayError> {
        let scheme = match transport {
            "SSL" => "mqtts",
            "WS" => "mqttws",
            "WSS" => "mqttwss",
            _ => "mqtt",
        };
        let tls = matches!(transport, "SSL" | "WSS");
        let enc = |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
        let mut path = format!(
            "/validate_url?url={}&validate_type=check_mqtt&auth_type=none&mqtt_topic_prefix={}&mqtt_client_id={}&mqtt_disable_retained_messages={disable_retained_messages}&use_ssl_client_cert={tls}&use_ssl_server_cert={tls}",
            enc(&format!("{scheme}://{host}:{port}")),
            enc(prefix),
            enc(client_id),
        );
        if !user.is_empty() {
            path.push_str(&format!("&user={}", enc(user)));
        }
        // Without a user there is no password to send or use.
        if user.is_empty() {
            let value = self.get_json(&path).await?;
            return Ok(ValidateOutcome::of(&value));
        }
        self.check(path, password).await
    }

    /// `POST /gw_cfg_download`: the gateway downloads its remote configuration now and applies
    /// it (§5.15); the answer is `{"status", "message"}` like a URL check.
    pub async fn download_config_now(&mut self) -> Result<ValidateOutcome, GatewayError> {
        let response = self
            .request(Request::new(Method::Post, "/gw_cfg_download"))
            .await?;
        expect_ok(&response, "/gw_cfg_download")?;
        Ok(ValidateOutcome::of(&response.json()?))
    }

    /// Runs a `/validate_url` check: the secret encrypted into the query, or the saved one.
    async fn check(
        &mut self,
        mut path: String,
        secret: Option<&Sensitive<String>>,
    ) -> Result<ValidateOutcome, GatewayError> {
        let enc = |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
        match secret {
            Some(secret) => {
                if self.ecdh.is_none() {
                    self.refresh_ecdh().await?;
                }
                let key = self.ecdh.as_ref().ok_or_else(|| {
                    GatewayError::Unsupported(
                        "this firmware cannot take a password for a check (no ECDH); save it first and check with the saved one"
                            .to_string(),
                    )
                })?;
                let env = key.seal(secret.expose().as_bytes());
                path.push_str(&format!(
                    "&encrypted_password={}&encrypted_password_iv={}&encrypted_password_hash={}",
                    enc(&env.encrypted),
                    enc(&env.iv),
                    enc(&env.hash)
                ));
            }
            None => path.push_str("&use_saved_password=true"),
        }
        let value = self.get_json(&path).await?;
        Ok(ValidateOutcome::of(&value))
    }

    /// The latest advertisement of every tag the gateway hears (`/history`, decoded).
    pub async fn history(&mut self) -> Result<ruuvi_protocol::GatewayDocument, GatewayError> {
        let response = self.request(Request::new(Method::Get, "/history")).await?;
        expect_ok(&response, "/history")?;
        ruuvi_protocol::GatewayDocument::parse(&response.body)
            .map_err(|e| GatewayError::Protocol(format!("/history: {e}")))
    }

    /// Ends an interactive session (other modes have nothing to end).
    pub async fn logout(&mut self) -> Result<(), GatewayError> {
        if let Login::Cookie(_) = self.login {
            let request = self.authorise(Request::new(Method::Delete, "/auth"))?;
            let _ = self.send(&request).await?;
        }
        self.login = Login::Pending;
        Ok(())
    }
}

/// 200, or the error that says what the gateway refused.
pub(crate) fn expect_ok(response: &Response, what: &str) -> Result<(), GatewayError> {
    match response.status {
        200 => Ok(()),
        401 | 403 => Err(GatewayError::Unauthorized(format!(
            "{what}: the gateway answered {} (a read-only API key cannot change settings)",
            response.status
        ))),
        status => Err(GatewayError::Rejected {
            status,
            message: format!("{what}: {}", response.text()),
        }),
    }
}
