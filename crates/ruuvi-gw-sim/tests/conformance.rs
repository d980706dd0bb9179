//! Conformance of the simulator with gateway-local-api.md, over raw sockets: requests are
//! written by hand here, not through any client of this project, so the two cannot share a
//! misunderstanding. Each test runs against the oldest and the newest firmware the spec
//! describes unless the behaviour belongs to one of them.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use tokio::net::TcpListener;

use ruuvi_gw_sim::{Firmware, LanAuth};

mod common;
use common::*;

const OLDEST: Firmware = Firmware::V1_13;
const NEWEST: Firmware = Firmware::Head;
/// Logs in with the Ruuvi interactive scheme; returns the session cookie header line.
async fn login(addr: SocketAddr, user: &str, password: &str) -> String {
    let r = get(addr, "/auth", "").await;
    assert_eq!(r.status, 401, "{r:?}");
    let www = r.header("WWW-Authenticate").unwrap();
    let field = |name: &str| {
        let at = www.find(&format!("{name}=\"")).unwrap() + name.len() + 2;
        www[at..].split('"').next().unwrap().to_string()
    };
    let (realm, challenge, session) = (field("realm"), field("challenge"), field("session_id"));
    assert_eq!(
        r.header("Set-Cookie").unwrap(),
        format!("RUUVISESSION={session}")
    );
    let stored = ruuvi_protocol::login::stored_password_hash(user, &realm, password);
    let hash = ruuvi_protocol::login::login_password_hash(&challenge, &stored);
    let cookie = format!("Cookie: RUUVISESSION={session}\r\n");
    let r = post(
        addr,
        "/auth",
        &cookie,
        &format!("{{\"login\":\"{user}\",\"password\":\"{hash}\"}}"),
    )
    .await;
    assert_eq!(r.status, 200, "{r:?}");
    cookie
}

// ---- §12.1 transport ----

#[tokio::test]
async fn http_1_0_server_header_close_and_bare_errors() {
    for fw in [OLDEST, NEWEST] {
        let gw = gateway(fw, None, "", "RW").await;
        let rw = "Authorization: Bearer RW\r\n";
        let r = get(gw.addr, "/nothing.json", rw).await;
        assert_eq!(r.status_line, "HTTP/1.0 404 Not Found");
        assert_eq!(r.head, "HTTP/1.0 404 Not Found\r\nServer: Ruuvi Gateway\r\nContent-type: application/json; charset=utf-8\r\nContent-Length: 2");
        assert_eq!(r.body, "{}");
        let r = send(
            gw.addr,
            format!("PUT /ruuvi.json HTTP/1.1\r\nHost: {}\r\n\r\n", gw.addr),
        )
        .await;
        assert_eq!(r.status_line, "HTTP/1.0 400 Bad Request");
        // Static files are never auth-checked.
        let r = get(gw.addr, "/", "").await;
        assert_eq!(r.status, 200);
        assert_eq!(r.header("Server").unwrap(), "Ruuvi Gateway");
        assert!(r.header("Date").is_some() && r.header("Pragma").as_deref() == Some("no-cache"));
        // A POST to an unknown path is 404, after the POST delay.
        let t = Instant::now();
        let r = post(gw.addr, "/nowhere", rw, "{}").await;
        assert_eq!(r.status, 404);
        if fw.delays_posts() {
            assert!(t.elapsed() >= POST_DELAY);
        }
        gw.stop().await;
    }
}

#[tokio::test]
async fn requests_are_handled_one_at_a_time() {
    let gw = gateway(NEWEST, Some((LanAuth::Allow, "", "")), "", "").await;
    // A POST holds the server for POST_DELAY; a GET sent meanwhile waits behind it.
    let addr = gw.addr;
    let slow = tokio::spawn(async move { post(addr, "/ruuvi.json", "", "{}").await });
    tokio::time::sleep(Duration::from_millis(30)).await;
    let t = Instant::now();
    let r = get(addr, "/status.json", "").await;
    assert_eq!(r.status, 200);
    assert!(
        t.elapsed() >= POST_DELAY / 2,
        "the GET was served while the POST was sleeping: {:?}",
        t.elapsed()
    );
    assert_eq!(slow.await.unwrap().status, 200);
    gw.stop().await;
}

#[tokio::test]
async fn request_size_limits_depend_on_the_firmware() {
    let big = format!("{{\"coordinates\": \"{}\"}}", "x".repeat(5000));
    let old = gateway(OLDEST, Some((LanAuth::Allow, "", "")), "", "").await;
    // ≤ v1.17.1: the whole request must fit in 4096 bytes, else it is dropped without a reply.
    let r = post(old.addr, "/ruuvi.json", "", &big).await;
    assert_eq!((r.status, r.head.as_str()), (0, ""), "{r:?}");
    old.stop().await;
    let new = gateway(NEWEST, Some((LanAuth::Allow, "", "")), "", "").await;
    assert_eq!(post(new.addr, "/ruuvi.json", "", &big).await.status, 200);
    let huge = "y".repeat(12_000);
    assert_eq!(
        post(new.addr, "/ruuvi.json", "", &huge).await.status,
        0,
        "Content-Length > 11434 is dropped"
    );
    new.stop().await;
}

// ---- §3.8 decision table, one test per cell ----

#[tokio::test]
async fn allow_without_credentials() {
    let new = gateway(NEWEST, Some((LanAuth::Allow, "", "")), "", "").await;
    assert_eq!(get(new.addr, "/history", "").await.status, 200);
    assert_eq!(post(new.addr, "/ruuvi.json", "", "{}").await.status, 200);
    new.stop().await;
    // Before the #1070 fix (v1.16) a session from GET /auth was needed even in allow mode.
    let old = gateway(OLDEST, Some((LanAuth::Allow, "", "")), "", "").await;
    assert_eq!(get(old.addr, "/history", "").await.status, 302);
    let r = get(old.addr, "/auth", "").await;
    assert_eq!(r.status, 200);
    let cookie = format!("Cookie: {}\r\n", r.header("Set-Cookie").unwrap());
    assert_eq!(get(old.addr, "/history", &cookie).await.status, 200);
    old.stop().await;
}

#[tokio::test]
async fn deny_without_and_with_credentials() {
    for fw in [OLDEST, NEWEST] {
        let gw = gateway(fw, Some((LanAuth::Deny, "", "")), "RO", "RW").await;
        let r = get(gw.addr, "/history", "").await;
        assert_eq!(r.status, 403, "{fw}");
        assert_eq!(r.json()["lan_auth_type"], "lan_auth_deny");
        assert_eq!(post(gw.addr, "/ruuvi.json", "", "{}").await.status, 403);
        // Only API keys work.
        assert_eq!(
            get(gw.addr, "/history", "Authorization: Bearer RO\r\n")
                .await
                .status,
            200
        );
        assert_eq!(
            post(gw.addr, "/ruuvi.json", "Authorization: Bearer RW\r\n", "{}")
                .await
                .status,
            200
        );
        gw.stop().await;
    }
}

#[tokio::test]
async fn default_without_credentials() {
    for fw in [OLDEST, NEWEST] {
        let gw = gateway(fw, None, "", "").await;
        let r = get(gw.addr, "/history", "").await;
        assert_eq!(r.status, 302, "{fw}");
        assert_eq!(
            r.header("Location").unwrap(),
            format!("http://{}/#auth", gw.addr)
        );
        assert_eq!(r.header("Set-Cookie").unwrap(), "RUUVI_PREV_URL=/history");
        let r = get(gw.addr, "/ruuvi.json", "").await;
        assert_eq!(
            (r.status, r.header("Set-Cookie").unwrap()),
            (302, "RUUVI_PREV_URL=/ruuvi.json".into())
        );
        // No path cookie for ap.json and status.json.
        let r = get(gw.addr, "/status.json", "").await;
        assert_eq!((r.status, r.header("Set-Cookie")), (302, None));
        let r = post(gw.addr, "/ruuvi.json", "", "{}").await;
        assert_eq!(r.status, 401);
        assert_eq!(r.header("WWW-Authenticate"), None);
        let j = r.json();
        assert_eq!(j["lan_auth_type"], "lan_auth_default");
        if fw.legacy_auth() {
            assert_eq!(j["success"], false);
        } else {
            assert_eq!(j["lan"], true);
        }
        gw.stop().await;
    }
}

#[tokio::test]
async fn default_with_session_or_api_key() {
    for fw in [OLDEST, NEWEST] {
        let gw = gateway(fw, None, "RO", "RW").await;
        let id = gw.identity().await;
        let cookie = login(gw.addr, "Admin", &id.default_password()).await;
        assert_eq!(get(gw.addr, "/history", &cookie).await.status, 200, "{fw}");
        assert_eq!(
            post(gw.addr, "/ruuvi.json", &cookie, "{}").await.status,
            200
        );
        assert_eq!(
            get(gw.addr, "/history", "Authorization: Bearer RO\r\n")
                .await
                .status,
            200
        );
        assert_eq!(
            post(gw.addr, "/ruuvi.json", "Authorization: Bearer RW\r\n", "{}")
                .await
                .status,
            200
        );
        // The same cookie from another IP is not a session.
        let r = send_from(
            gw.addr,
            "127.0.0.2",
            format!("GET /history HTTP/1.1\r\nHost: x\r\n{cookie}\r\n"),
        )
        .await;
        assert_eq!(r.status, 302);
        gw.stop().await;
    }
}

#[tokio::test]
async fn ruuvi_custom_credentials() {
    let gw = gateway(NEWEST, Some((LanAuth::Ruuvi, "bob", "secret")), "", "").await;
    let r = get(gw.addr, "/auth", "").await;
    assert_eq!(r.json()["lan_auth_type"], "lan_auth_ruuvi");
    let cookie = login(gw.addr, "bob", "secret").await;
    assert_eq!(
        get(gw.addr, "/ruuvi.json", &cookie).await.json()["lan_auth_user"],
        "bob"
    );
    gw.stop().await;
}

#[tokio::test]
async fn basic_without_and_with_credentials() {
    for fw in [OLDEST, NEWEST] {
        let gw = gateway(fw, Some((LanAuth::Basic, "user1", "pass1")), "", "").await;
        let r = get(gw.addr, "/history", "").await;
        assert_eq!(r.status, 401, "no 302 for basic ({fw})");
        assert_eq!(
            r.header("WWW-Authenticate").unwrap(),
            // The realm: the host name, or the hotspot SSID on v1.13 (§3.2).
            format!(
                "Basic realm=\"{}\", charset=\"UTF-8\"",
                gw.identity().await.realm()
            )
        );
        assert_eq!(r.json()["lan_auth_type"], "lan_auth_basic");
        assert_eq!(
            get(
                gw.addr,
                "/history",
                "Authorization: Basic dXNlcjE6cGFzczE=\r\n"
            )
            .await
            .status,
            200
        );
        assert_eq!(
            get(
                gw.addr,
                "/history",
                "Authorization: Basic dXNlcjE6cGFzczI=\r\n"
            )
            .await
            .status,
            401
        );
        gw.stop().await;
    }
}

#[tokio::test]
async fn digest_without_and_with_credentials() {
    use md5::{Digest, Md5};
    for fw in [OLDEST, NEWEST] {
        let gw = gateway(fw, Some((LanAuth::Digest, "dave", "pw")), "", "").await;
        let r = get(gw.addr, "/ruuvi.json", "").await;
        assert_eq!(r.status, 401);
        let www = r.header("WWW-Authenticate").unwrap();
        assert!(
            www.starts_with("Digest realm=\"")
                && www.contains(" qop=\"auth\" nonce=\"")
                && !www.contains(','),
            "{www}"
        );
        let realm = gw.identity().await.realm();
        let ha1 = hex::encode(Md5::digest(format!("dave:{realm}:pw")));
        let ha2 = hex::encode(Md5::digest("GET:/ruuvi.json"));
        // The method in HA2 is always GET, even for POST; any nonce is accepted.
        let resp = hex::encode(Md5::digest(format!("{ha1}:abc:00000001:xyz:auth:{ha2}")));
        let auth = format!("Authorization: Digest username=\"dave\", realm=\"{realm}\", nonce=\"abc\", uri=\"/ruuvi.json\", qop=auth, nc=00000001, cnonce=\"xyz\", response=\"{resp}\", opaque=\"o\"\r\n");
        assert_eq!(get(gw.addr, "/ruuvi.json", &auth).await.status, 200, "{fw}");
        assert_eq!(post(gw.addr, "/ruuvi.json", &auth, "{}").await.status, 200);
        assert_eq!(
            get(gw.addr, "/ruuvi.json", &auth.replace("dave", "eve"))
                .await
                .status,
            401
        );
        gw.stop().await;
    }
}

#[tokio::test]
async fn api_key_table() {
    for fw in [OLDEST, NEWEST] {
        let gw = gateway(fw, None, "RO", "RW").await;
        let ro = "Authorization: Bearer RO\r\n";
        let rw = "Authorization: Bearer RW\r\n";
        assert_eq!(get(gw.addr, "/ruuvi.json", ro).await.status, 200);
        assert_eq!(
            get(gw.addr, "/ap.json", ro).await.status,
            401,
            "ap.json needs the RW key"
        );
        assert_eq!(get(gw.addr, "/ap.json", rw).await.status, 200);
        let r = post(gw.addr, "/ruuvi.json", ro, "{}").await;
        assert_eq!(r.status, 401);
        assert_eq!(r.json()["lan_auth_type"], "lan_auth_bearer");
        let r = get(gw.addr, "/history", "Authorization: Bearer nope\r\n").await;
        assert_eq!(r.status, 401, "a wrong key is 401, never a 302");
        assert_eq!(r.json()["lan_auth_type"], "lan_auth_bearer");
        // /auth ignores bearer headers.
        assert_eq!(get(gw.addr, "/auth", rw).await.status, 401);
        gw.stop().await;
    }
}

// ---- §12.3 login state machine ----

#[tokio::test]
async fn one_pending_challenge_and_messages() {
    for fw in [OLDEST, NEWEST] {
        let gw = gateway(fw, None, "", "").await;
        let first = get(gw.addr, "/auth", "").await;
        let second = get(gw.addr, "/auth", "").await;
        let cookie = |r: &Raw| format!("Cookie: {}\r\n", r.header("Set-Cookie").unwrap());
        // The first challenge was replaced by the second.
        let r = post(
            gw.addr,
            "/auth",
            &cookie(&first),
            r#"{"login":"Admin","password":"x"}"#,
        )
        .await;
        assert_eq!(r.status, 401);
        assert!(
            r.json().get("message").is_none(),
            "a stale session gets no message"
        );
        assert!(r
            .header("WWW-Authenticate")
            .unwrap()
            .starts_with("x-ruuvi-interactive "));
        let third = get(gw.addr, "/auth", "").await;
        let r = post(
            gw.addr,
            "/auth",
            &cookie(&third),
            r#"{"login":"Admin","password":"x"}"#,
        )
        .await;
        if fw.legacy_auth() {
            assert_eq!(r.json()["success"], false);
        } else {
            assert_eq!(r.json()["message"], "Incorrect password");
        }
        let _ = second;
        gw.stop().await;
    }
}

#[tokio::test]
async fn auth_change_drops_sessions_and_logout() {
    let gw = gateway(NEWEST, None, "", "").await;
    let id = gw.identity().await;
    let cookie = login(gw.addr, "Admin", &id.default_password()).await;
    assert_eq!(get(gw.addr, "/auth", &cookie).await.status, 200);
    let new_hash = ruuvi_protocol::login::stored_password_hash("carol", &id.realm(), "pw2");
    let body = format!("{{\"lan_auth_type\": \"lan_auth_ruuvi\", \"lan_auth_user\": \"carol\", \"lan_auth_pass\": \"{new_hash}\"}}");
    assert_eq!(
        post(gw.addr, "/ruuvi.json", &cookie, &body).await.status,
        200
    );
    assert_eq!(
        get(gw.addr, "/history", &cookie).await.status,
        302,
        "sessions dropped on auth change"
    );
    let cookie = login(gw.addr, "carol", "pw2").await;
    let r = send(
        gw.addr,
        format!("DELETE /auth HTTP/1.1\r\nHost: x\r\n{cookie}\r\n"),
    )
    .await;
    assert_eq!((r.status, r.body.as_str()), (200, "{}"));
    assert_eq!(
        get(gw.addr, "/history", &cookie).await.status,
        302,
        "logged out"
    );
    gw.stop().await;
}

#[tokio::test]
async fn prev_url_cookie_is_returned_after_login() {
    let gw = gateway(NEWEST, None, "", "").await;
    let id = gw.identity().await;
    let r = get(gw.addr, "/auth", "").await;
    let www = r.header("WWW-Authenticate").unwrap();
    let at = www.find("challenge=\"").unwrap() + 11;
    let challenge = &www[at..at + 64];
    let session = r.header("Set-Cookie").unwrap();
    let hash = ruuvi_protocol::login::login_password_hash(challenge, &id.default_password_hash());
    let r = post(
        gw.addr,
        "/auth",
        &format!("Cookie: {session}; RUUVI_PREV_URL=/history\r\n"),
        &format!("{{\"login\":\"Admin\",\"password\":\"{hash}\"}}"),
    )
    .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.header("Ruuvi-prev-url").unwrap(), "/history");
    assert_eq!(
        r.header("Set-Cookie").unwrap(),
        "RUUVI_PREV_URL=; Max-Age=-1; Expires=Thu, 01 Jan 1970 00:00:00 GMT"
    );
    gw.stop().await;
}

// ---- §12.5–6 configuration ----

#[tokio::test]
async fn ruuvi_json_get_hides_secrets_and_post_merges() {
    for fw in [OLDEST, NEWEST] {
        let gw = gateway(fw, None, "", "RW").await;
        let rw = "Authorization: Bearer RW\r\n";
        let r = get(gw.addr, "/ruuvi.json", rw).await;
        assert!(
            r.body.starts_with("{\n\t\"fw_ver\":\t\""),
            "cJSON layout: {:?}",
            &r.body[..30]
        );
        let cfg = r.json();
        assert_eq!(cfg["lan_auth_api_key_rw_use"], true);
        assert!(cfg.get("lan_auth_api_key_rw").is_none() && cfg.get("lan_auth_pass").is_none());
        assert_eq!(
            cfg["use_http"], true,
            "Ruuvi-Cloud-only is shown as the legacy custom form"
        );
        assert_eq!(cfg["http_url"], "https://network.ruuvi.com/record");
        let body = r#"{"use_http": true, "http_url": "http://127.0.0.1:1/x", "http_auth": "bearer", "http_bearer_token": "T", "mqtt_prefix": "p/", "use_eth": false}"#;
        let r = post(gw.addr, "/ruuvi.json", rw, body).await;
        assert_eq!((r.status, r.body.as_str()), (200, "{}"));
        let cfg = get(gw.addr, "/ruuvi.json", rw).await.json();
        assert_eq!(cfg["http_url"], "http://127.0.0.1:1/x");
        assert!(cfg.get("http_bearer_token").is_none());
        assert_eq!(
            cfg["use_eth"], true,
            "network keys are ignored from the LAN"
        );
        assert_eq!(cfg["mqtt_prefix"], "p/");
        post(gw.addr, "/ruuvi.json", rw, "{}").await;
        let cfg = get(gw.addr, "/ruuvi.json", rw).await.json();
        assert_eq!(
            cfg["mqtt_prefix"],
            format!("ruuvi/{}/", gw.identity().await.ble_mac),
            "reset when absent"
        );
        assert_eq!(
            post(gw.addr, "/ruuvi.json", rw, "not json").await.status,
            503
        );
        gw.stop().await;
    }
}

// ---- §12.10 /history ----

#[tokio::test]
async fn history_decode_time_and_counter() {
    let gw = gateway(NEWEST, Some((LanAuth::Allow, "", "")), "", "").await;
    let r = get(gw.addr, "/history", "").await;
    let doc = ruuvi_protocol::GatewayDocument::parse(r.body.as_bytes()).unwrap();
    assert_eq!(doc.tags.len(), 4);
    assert!(doc.nonce.is_none(), "history has no nonce");
    assert!(r.body.contains("\"dataFormat\""), "decoded by default");
    assert!(r.body.contains("\"ble_phy\": "));
    let (ok, failed) = ruuvi_protocol::Observation::from_gateway(
        &doc,
        ruuvi_protocol::Feed::GatewayHistory {
            gateway: doc.gw_mac,
        },
        0,
    );
    assert_eq!((ok.len(), failed.len()), (4, 0));
    let r = get(gw.addr, "/history?decode=false", "").await;
    assert!(!r.body.contains("dataFormat"));
    // Counters instead of timestamps when NTP is off; `counter=` filters on them.
    post(gw.addr, "/ruuvi.json", "", r#"{"ntp_use": false}"#).await;
    let doc =
        ruuvi_protocol::GatewayDocument::parse(get(gw.addr, "/history", "").await.body.as_bytes())
            .unwrap();
    assert!(doc.timestamp.is_none());
    let counters: Vec<u64> = doc
        .tags
        .iter()
        .map(|t| match t.time {
            Some(ruuvi_protocol::TagTime::Counter(c)) => c,
            other => panic!("{other:?}"),
        })
        .collect();
    let min = *counters.iter().min().unwrap();
    let r = get(gw.addr, &format!("/history?counter={min}"), "").await;
    assert_eq!(
        ruuvi_protocol::GatewayDocument::parse(r.body.as_bytes())
            .unwrap()
            .tags
            .len(),
        3
    );
    gw.stop().await;

    // v1.13: numbers as strings, no decoding, no ble fields.
    let old = gateway(OLDEST, Some((LanAuth::Allow, "", "")), "RO", "").await;
    let r = get(old.addr, "/history", "Authorization: Bearer RO\r\n").await;
    assert!(r.body.contains("\"timestamp\": \""), "{}", r.body);
    assert!(!r.body.contains("dataFormat") && !r.body.contains("ble_phy"));
    old.stop().await;
}

// ---- §12.9 the data sender ----

#[tokio::test]
async fn sender_posts_signed_data_and_follows_key_rotation() {
    let (addr, mut rx) = receiver().await;
    let gw = gateway(NEWEST, Some((LanAuth::Allow, "", "")), "", "").await;
    let id = gw.identity().await;
    let body = format!(
        r#"{{"use_http_ruuvi": false, "use_http": true, "http_url": "http://{addr}/record", "http_period": 1, "http_data_format": "ruuvi_raw_and_decoded", "http_auth": "token", "http_api_key": "tok125"}}"#
    );
    assert_eq!(post(gw.addr, "/ruuvi.json", "", &body).await.status, 200);
    let mut nonces = Vec::new();
    let mut arrivals = Vec::new();
    for i in 0..3 {
        let (head, body) = tokio::time::timeout(Duration::from_secs(30), rx.recv())
            .await
            .expect("a post arrives")
            .unwrap();
        arrivals.push(Instant::now());
        assert!(head.starts_with("POST /record HTTP/1.1"), "{head}");
        assert_eq!(
            header_of(&head, "User-Agent").unwrap(),
            "Ruuvi Gateway HTTP Client/1.0"
        );
        assert_eq!(
            header_of(&head, "Content-Type").unwrap(),
            "application/json"
        );
        assert_eq!(header_of(&head, "Authorization").unwrap(), "Token tok125");
        let signature = header_of(&head, "Ruuvi-HMAC-SHA256").unwrap();
        // First post: key = device id; after the server's Ruuvi-HMAC-KEY: the new key.
        let key = if i == 0 {
            id.device_id_string()
        } else {
            "rotated-key".to_string()
        };
        assert!(
            ruuvi_protocol::signature::verify_firmware_signature(key.as_bytes(), &body, &signature),
            "post {i}"
        );
        let doc = ruuvi_protocol::GatewayDocument::parse(&body).unwrap();
        assert_eq!(doc.gw_mac, Some(id.ble_mac));
        assert_eq!(doc.tags.len(), 4);
        assert!(String::from_utf8_lossy(&body).contains("\"dataFormat\""));
        nonces.push(doc.nonce.unwrap());
    }
    assert_eq!(
        nonces[1],
        nonces[0] + 1,
        "the nonce advances by one per post"
    );
    // The server answered `X-Ruuvi-Gateway-Rate: 2`: that period replaces http_period (1 s).
    assert!(
        arrivals[2] - arrivals[1] >= Duration::from_millis(1800),
        "{:?}",
        arrivals[2] - arrivals[1]
    );
    gw.stop().await;
}

#[tokio::test]
async fn configuration_mode_pauses_the_sender() {
    let (addr, mut rx) = receiver().await;
    let gw = gateway(NEWEST, Some((LanAuth::Allow, "", "")), "", "").await;
    let body = format!(
        r#"{{"use_http_ruuvi": false, "use_http": true, "http_url": "http://{addr}/r", "http_period": 1}}"#
    );
    post(gw.addr, "/ruuvi.json", "", &body).await;
    tokio::time::timeout(Duration::from_secs(30), rx.recv())
        .await
        .expect("sending")
        .unwrap();
    // GET /ruuvi.json enters configuration mode: relaying stops.
    assert_eq!(get(gw.addr, "/ruuvi.json", "").await.status, 200);
    while rx.try_recv().is_ok() {}
    tokio::time::sleep(Duration::from_millis(200)).await;
    while rx.try_recv().is_ok() {}
    assert!(
        tokio::time::timeout(Duration::from_millis(2500), rx.recv())
            .await
            .is_err(),
        "no post in configuration mode"
    );
    // A POST ends it after 5 s; then posts resume.
    post(gw.addr, "/ruuvi.json", "", &body).await;
    tokio::time::timeout(Duration::from_secs(15), rx.recv())
        .await
        .expect("posts resume")
        .unwrap();
    gw.stop().await;
}

// ---- §12.8 /validate_url ----

#[tokio::test]
async fn validate_url_really_posts_and_reports() {
    let gw = gateway(NEWEST, None, "RO", "RW").await;
    let id = gw.identity().await;
    let rw = "Authorization: Bearer RW\r\n";
    let (ok_addr, mut ok_rx) =
        replying("HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n").await;
    let body = format!(
        r#"{{"use_http": true, "http_url": "http://{ok_addr}/record", "http_auth": "bearer", "http_bearer_token": "saved-token"}}"#
    );
    post(gw.addr, "/ruuvi.json", rw, &body).await;
    let q = |url: &str, extra: &str| {
        format!("/validate_url?url={}&validate_type=check_post_advs&auth_type=bearer&use_ssl_client_cert=false&use_ssl_server_cert=false{extra}", url.replace(':', "%3A").replace('/', "%2F"))
    };
    let r = get(
        gw.addr,
        &q(
            &format!("http://{ok_addr}/record"),
            "&use_saved_password=true",
        ),
        "Authorization: Bearer RO\r\n",
    )
    .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body, "{\n\t\"status\":\t200,\n\t\"message\":\t\"{}\"\n}");
    let (head, sent) = ok_rx.recv().await.unwrap();
    assert_eq!(
        header_of(&head, "Authorization").unwrap(),
        "Bearer saved-token"
    );
    let sig = header_of(&head, "Ruuvi-HMAC-SHA256").unwrap();
    assert!(ruuvi_protocol::signature::verify_firmware_signature(
        id.device_id_string().as_bytes(),
        &sent,
        &sig
    ));
    let doc = ruuvi_protocol::GatewayDocument::parse(&sent).unwrap();
    assert!(doc.tags.is_empty(), "a connection check carries no tags");

    // The server's refusal is reported with its code and body, inside an HTTP 200.
    let (no_addr, _no_rx) =
        replying("HTTP/1.1 401 Unauthorized\r\nContent-Length: 4\r\nConnection: close\r\n\r\nnope")
            .await;
    let r = get(
        gw.addr,
        &q(&format!("http://{no_addr}/record"), ""),
        "Authorization: Bearer RO\r\n",
    )
    .await;
    assert_eq!(r.status, 200);
    assert_eq!(
        (r.json()["status"].clone(), r.json()["message"].clone()),
        (
            401.into(),
            "HTTP response status: 401, Message from the server: nope".into()
        )
    );
    // Nobody listening → 502 network error; bad parameters → 400 / 500; bad URL → status 400.
    let closed = TcpListener::bind("127.0.0.1:0")
        .await
        .unwrap()
        .local_addr()
        .unwrap();
    let r = get(
        gw.addr,
        &q(&format!("http://{closed}/x"), ""),
        "Authorization: Bearer RO\r\n",
    )
    .await;
    assert_eq!(r.json()["status"], 502);
    assert!(r.json()["message"]
        .as_str()
        .unwrap()
        .starts_with("Network error when communicating with the server"));
    assert_eq!(
        get(
            gw.addr,
            "/validate_url?url=x",
            "Authorization: Bearer RO\r\n"
        )
        .await
        .status,
        400
    );
    assert_eq!(
        get(
            gw.addr,
            "/validate_url?url=http%3A%2F%2Fa&validate_type=check_nothing&auth_type=none",
            "Authorization: Bearer RO\r\n"
        )
        .await
        .status,
        500
    );
    let r = get(
        gw.addr,
        "/validate_url?url=not%20a%20url&validate_type=check_post_advs&auth_type=none",
        "Authorization: Bearer RO\r\n",
    )
    .await;
    assert_eq!((r.status, r.json()["status"].clone()), (200, 400.into()));
    // Auth-checked like any GET.
    assert_eq!(
        get(gw.addr, &q(&format!("http://{ok_addr}/record"), ""), "")
            .await
            .status,
        302
    );
    gw.stop().await;
}

// ---- §12.2 LAN vs hotspot ----

#[tokio::test]
async fn hotspot_versus_lan() {
    for fw in [OLDEST, NEWEST] {
        let mut o = ruuvi_gw_sim::GatewayOptions::new("127.0.0.1:0".parse().unwrap(), fw);
        o.hotspot_listen = Some("127.0.0.1:0".parse().unwrap());
        o.post_delay = POST_DELAY;
        o.api_key_rw = "RW".into();
        let gw = ruuvi_gw_sim::RunningGateway::start(o).await.unwrap();
        let ap = gw.hotspot_addr.unwrap();
        let on_ap = |method: &str, path: &str, host: &str, body: &str| {
            format!(
                "{method} {path} HTTP/1.1\r\nHost: {host}\r\nContent-Length: {}\r\n\r\n{body}",
                body.len()
            )
        };
        // A foreign host name on the hotspot is sent to the captive portal.
        let r = send(ap, on_ap("GET", "/history", "example.com", "")).await;
        assert_eq!(
            (r.status, r.header("Location")),
            (302, Some("http://10.10.0.1/".into()))
        );
        // No authentication on the hotspot; /auth says allow and lan false.
        let r = send(ap, on_ap("GET", "/auth", "10.10.0.1", "")).await;
        assert_eq!(r.status, 200);
        assert_eq!(r.json()["lan_auth_type"], "lan_auth_allow");
        if !fw.legacy_auth() {
            assert_eq!(r.json()["lan"], false);
        }
        assert_eq!(
            send(ap, on_ap("GET", "/history", "10.10.0.1", ""))
                .await
                .status,
            200
        );
        let info = send(ap, on_ap("GET", "/info.json", "10.10.0.1", "")).await;
        assert_eq!(
            info.json()["DEVICE_ID"],
            gw.identity().await.device_id_string()
        );
        assert_eq!(
            send(
                ap,
                on_ap(
                    "POST",
                    "/connect.json",
                    "10.10.0.1",
                    r#"{"ssid": "home", "password": "pw"}"#
                )
            )
            .await
            .status,
            200
        );
        assert_eq!(
            send(
                ap,
                on_ap(
                    "POST",
                    "/connect.json",
                    "10.10.0.1",
                    r#"{"ssid": null, "password": "pw"}"#
                )
            )
            .await
            .status,
            400
        );
        // From the LAN: connect.json is forbidden, info.json is not found.
        let rw = "Authorization: Bearer RW\r\n";
        let r = post(
            gw.addr,
            "/connect.json",
            rw,
            r#"{"ssid": "home", "password": "pw"}"#,
        )
        .await;
        assert_eq!(
            (r.status, r.header("Content-type")),
            (403, Some("text/html; charset=utf-8".into()))
        );
        assert_eq!(get(gw.addr, "/info.json", rw).await.status, 404);
        // Network settings: applied from the hotspot, ignored from the LAN.
        post(gw.addr, "/ruuvi.json", rw, r#"{"use_eth": false}"#).await;
        assert_eq!(
            get(gw.addr, "/ruuvi.json", rw).await.json()["use_eth"],
            true
        );
        send(
            ap,
            on_ap(
                "POST",
                "/ruuvi.json",
                "10.10.0.1",
                r#"{"use_eth": true, "eth_dhcp": false, "eth_static_ip": "192.0.2.5"}"#,
            ),
        )
        .await;
        let cfg = get(gw.addr, "/ruuvi.json", rw).await.json();
        assert_eq!(
            (cfg["eth_dhcp"].clone(), cfg["eth_static_ip"].clone()),
            (false.into(), "192.0.2.5".into())
        );
        gw.stop().await;
    }
}

#[tokio::test]
async fn state_dir_keeps_configuration_and_files_across_restarts() {
    let dir = std::env::temp_dir().join(format!("ruuvi-gw-sim-state-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let start = || {
        let mut o = ruuvi_gw_sim::GatewayOptions::new("127.0.0.1:0".parse().unwrap(), NEWEST);
        o.post_delay = POST_DELAY;
        o.api_key_rw = "RW".into();
        o.state_dir = Some(dir.clone());
        ruuvi_gw_sim::RunningGateway::start(o)
    };
    let rw = "Authorization: Bearer RW\r\n";
    let gw = start().await.unwrap();
    post(
        gw.addr,
        "/ruuvi.json",
        rw,
        r#"{"coordinates": "kept", "lan_auth_type": "lan_auth_allow"}"#,
    )
    .await;
    post(
        gw.addr,
        "/ssl_cert?file=http_srv_cert",
        rw,
        "-----BEGIN CERTIFICATE-----\nAA==\n-----END CERTIFICATE-----\n",
    )
    .await;
    gw.stop().await;
    let gw = start().await.unwrap();
    let cfg = get(gw.addr, "/ruuvi.json", "").await.json();
    assert_eq!(
        (cfg["coordinates"].clone(), cfg["lan_auth_type"].clone()),
        ("kept".into(), "lan_auth_allow".into())
    );
    assert_eq!(cfg["storage"]["http_srv_cert"], true);
    gw.stop().await;
    let _ = std::fs::remove_dir_all(&dir);
}

// ---- §5.12 firmware update ----

#[tokio::test]
async fn firmware_update_progress_and_409() {
    let gw = gateway(NEWEST, None, "", "RW").await;
    let rw = "Authorization: Bearer RW\r\n";
    let (missing, _m) =
        replying("HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n").await;
    let r = post(
        gw.addr,
        "/fw_update.json",
        rw,
        &format!(r#"{{"url": "http://{missing}/v9/"}}"#),
    )
    .await;
    assert_eq!(
        (r.status, r.body.as_str()),
        (
            200,
            r#"{"status":404,"message":"Failed to download ruuvi_gateway_esp.bin"}"#
        )
    );
    assert_eq!(
        post(gw.addr, "/fw_update.json", rw, "nope").await.body,
        r#"{"status":400,"message":"Failed to parse HTTP body"}"#
    );

    let (files, _f) =
        replying("HTTP/1.1 200 OK\r\nContent-Length: 1\r\nConnection: close\r\n\r\nx").await;
    let r = post(
        gw.addr,
        "/fw_update.json",
        rw,
        &format!(r#"{{"url": "http://{files}/v9/"}}"#),
    )
    .await;
    assert_eq!(r.body, r#"{"status":200,"message":"OK"}"#);
    let status = get(gw.addr, "/status.json", rw).await.json();
    assert!(
        (1..=5).contains(&status["extra"]["fw_updating"].as_u64().unwrap()),
        "{status}"
    );
    // Application POSTs are refused while it runs.
    assert_eq!(post(gw.addr, "/ruuvi.json", rw, "{}").await.status, 409);
    assert_eq!(
        get(
            gw.addr,
            "/validate_url?url=x&validate_type=check_post_advs&auth_type=none",
            rw
        )
        .await
        .status,
        409
    );
    // After the last stage the gateway reboots: progress gone, POSTs accepted again.
    tokio::time::sleep(Duration::from_millis(7600)).await;
    let status = get(gw.addr, "/status.json", rw).await.json();
    assert!(status.get("extra").is_none(), "{status}");
    assert_eq!(post(gw.addr, "/ruuvi.json", rw, "{}").await.status, 200);
    let r = post(
        gw.addr,
        "/fw_update_url.json",
        rw,
        r#"{"url": "http://127.0.0.1:1/fw"}"#,
    )
    .await;
    assert_eq!(r.body, r#"{"status":200,"message":"OK"}"#);
    assert_eq!(
        get(gw.addr, "/ruuvi.json", rw).await.json()["fw_update_url"],
        "http://127.0.0.1:1/fw"
    );
    gw.stop().await;
}

#[tokio::test]
async fn failed_posts_wait_the_retry_period() {
    let (addr, mut rx) = replying(
        "HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
    )
    .await;
    let mut o = ruuvi_gw_sim::GatewayOptions::new("127.0.0.1:0".parse().unwrap(), NEWEST);
    o.post_delay = POST_DELAY;
    o.lan_auth = Some((LanAuth::Allow, String::new(), String::new()));
    // Stands for the firmware's 67 s.
    o.retry_after_failure = Duration::from_millis(2000);
    let gw = ruuvi_gw_sim::RunningGateway::start(o).await.unwrap();
    let body = format!(
        r#"{{"use_http_ruuvi": false, "use_http": true, "http_url": "http://{addr}/r", "http_period": 1}}"#
    );
    post(gw.addr, "/ruuvi.json", "", &body).await;
    rx.recv().await.unwrap();
    let first = Instant::now();
    rx.recv().await.unwrap();
    let gap = first.elapsed();
    assert!(
        gap >= Duration::from_millis(1800),
        "retried after {gap:?}, not after the failure wait"
    );
    assert!(
        gw.state.lock().await.stats.custom_failed >= 1,
        "the failure was counted"
    );
    gw.stop().await;
}

#[tokio::test]
async fn oldest_firmware_has_no_ecdh_but_validates_urls() {
    let gw = gateway(OLDEST, None, "RO", "RW").await;
    // v1.13 predates ECDH: the handshake header is ignored, not answered.
    let key =
        "BAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";
    let r = get(gw.addr, "/auth", &format!("Ruuvi-Ecdh-Pub-Key: {key}\r\n")).await;
    assert_eq!((r.status, r.header("Ruuvi-Ecdh-Pub-Key")), (401, None));
    // /validate_url exists since v1.13.
    let (ok_addr, mut ok_rx) =
        replying("HTTP/1.1 204 No Content\r\nContent-Length: 0\r\nConnection: close\r\n\r\n").await;
    let path = format!(
        "/validate_url?url=http%3A%2F%2F{ok_addr}%2Fr&validate_type=check_post_advs&auth_type=none"
    );
    let r = get(gw.addr, &path, "Authorization: Bearer RO\r\n").await;
    assert_eq!(r.json()["status"], 200);
    let (_, sent) = ok_rx.recv().await.unwrap();
    assert!(
        String::from_utf8_lossy(&sent).contains("\"nonce\": \""),
        "v1.13 writes numbers as strings"
    );
    gw.stop().await;
}

#[tokio::test]
async fn validate_url_downloads_files_and_release_info() {
    let gw = gateway(NEWEST, None, "RO", "RW").await;
    let ro = "Authorization: Bearer RO\r\n";
    let (bins, _b) =
        replying("HTTP/1.1 200 OK\r\nContent-Length: 1\r\nConnection: close\r\n\r\nx").await;
    let release = format!(
        r#"{{"latest":{{"version":"v9.9.9","url":"http://{bins}/v9.9.9","created_at":"2026-11-01T00:00:00Z"}}}}"#
    );
    let reply: &'static str = Box::leak(
        format!(
            "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{release}",
            release.len()
        )
        .into_boxed_str(),
    );
    let (rel, _r) = replying(reply).await;
    let r = get(gw.addr, &format!("/validate_url?url=http%3A%2F%2F{rel}%2Ffw&validate_type=check_fw_update_url&auth_type=none"), ro).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["status"], 200);
    assert_eq!(r.json()["json"]["latest"]["version"], "v9.9.9");
    let r = get(
        gw.addr,
        &format!(
            "/validate_url?url=http%3A%2F%2F{bins}%2Ff.txt&validate_type=check_file&auth_type=none"
        ),
        ro,
    )
    .await;
    assert_eq!(r.json()["status"], 200);
    // Basic needs a user and a password.
    let r = get(gw.addr, &format!("/validate_url?url=http%3A%2F%2F{bins}%2Ff&validate_type=check_file&auth_type=basic&user=u"), ro).await;
    assert_eq!(r.status, 400);
    gw.stop().await;
}

#[tokio::test]
async fn statistics_posts_are_signed_with_their_own_key() {
    let (addr, mut rx) = receiver().await;
    let mut o = ruuvi_gw_sim::GatewayOptions::new("127.0.0.1:0".parse().unwrap(), NEWEST);
    o.post_delay = POST_DELAY;
    o.lan_auth = Some((LanAuth::Allow, String::new(), String::new()));
    o.stats_first = Duration::from_millis(500);
    o.stats_period = Duration::from_millis(700);
    o.tags = 3;
    let gw = ruuvi_gw_sim::RunningGateway::start(o).await.unwrap();
    let id = gw.identity().await;
    let body = format!(
        r#"{{"use_http_stat": true, "http_stat_url": "http://{addr}/status", "http_stat_user": "u", "http_stat_pass": "p"}}"#
    );
    post(gw.addr, "/ruuvi.json", "", &body).await;
    for key in [id.device_id_string(), "rotated-key".to_string()] {
        let (head, sent) = tokio::time::timeout(Duration::from_secs(10), rx.recv())
            .await
            .expect("a statistics post")
            .unwrap();
        assert!(head.starts_with("POST /status"), "{head}");
        assert_eq!(header_of(&head, "Authorization").unwrap(), "Basic dTpw");
        let sig = header_of(&head, "Ruuvi-HMAC-SHA256").unwrap();
        assert!(ruuvi_protocol::signature::verify_firmware_signature(
            key.as_bytes(),
            &sent,
            &sig
        ));
        let text = String::from_utf8(sent).unwrap();
        assert!(text.starts_with("{\n\t\"DEVICE_ADDR\":\t\""), "{text}");
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(v["DEVICE_ADDR"], id.ble_mac.to_string());
        assert_eq!(v["ACTIVE_SENSORS"].as_array().unwrap().len(), 3);
    }
    gw.stop().await;
}

#[tokio::test]
async fn remote_configuration_download() {
    let gw = gateway(NEWEST, None, "RO", "RW").await;
    let id = gw.identity().await;
    let rw = "Authorization: Bearer RW\r\n";
    let cfg = r#"{"remote_cfg_use": true, "coordinates": "from remote"}"#;
    let reply: &'static str = Box::leak(
        format!(
            "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{cfg}",
            cfg.len()
        )
        .into_boxed_str(),
    );
    let (addr, mut rx) = replying(reply).await;
    let body = format!(
        r#"{{"remote_cfg_url": "http://{addr}/cfg", "remote_cfg_auth_type": "bearer", "remote_cfg_auth_bearer_token": "rt"}}"#
    );
    post(gw.addr, "/ruuvi.json", rw, &body).await;
    let r = post(gw.addr, "/gw_cfg_download", rw, "").await;
    assert_eq!(
        (r.status, r.body.as_str()),
        (200, r#"{"status":200,"message":""}"#)
    );
    let (head, _) = rx.recv().await.unwrap();
    let mac = id.ble_mac.to_string();
    assert!(
        head.starts_with(&format!("GET /cfg/{}.json", mac.replace(':', ""))),
        "{head}"
    );
    assert_eq!(header_of(&head, "ruuvi_gw_mac").unwrap(), mac);
    assert_eq!(header_of(&head, "Authorization").unwrap(), "Bearer rt");
    assert_eq!(
        get(gw.addr, "/ruuvi.json", rw).await.json()["coordinates"],
        "from remote"
    );
    // A document without remote_cfg_use: true is refused.
    let (bad, _b) =
        replying("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}").await;
    let r = get(gw.addr, &format!("/validate_url?url=http%3A%2F%2F{bad}%2Fc.json&validate_type=check_remote_cfg&auth_type=none"), "Authorization: Bearer RO\r\n").await;
    assert_eq!((r.status, r.json()["status"].clone()), (200, 502.into()));
    gw.stop().await;
}

/// The firmware downloads by itself: at start when remote configuration is on, then every
/// refresh interval (a "minute" is 100 ms here), never while configuration mode lasts.
#[tokio::test]
async fn remote_configuration_is_downloaded_at_start_and_every_refresh_interval() {
    let cfg = r#"{"remote_cfg_use": true, "remote_cfg_refresh_interval_minutes": 2}"#;
    let reply: &'static str = Box::leak(
        format!(
            "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{cfg}",
            cfg.len()
        )
        .into_boxed_str(),
    );
    let (addr, mut rx) = replying(reply).await;
    let dir = std::env::temp_dir().join(format!("gw-sim-rcfg-{}", std::process::id()));
    let mut o = ruuvi_gw_sim::GatewayOptions::new("127.0.0.1:0".parse().unwrap(), NEWEST);
    o.post_delay = POST_DELAY;
    o.api_key_rw = "RW".into();
    o.tags = 1;
    o.state_dir = Some(dir.clone());
    o.remote_cfg_minute = Duration::from_millis(100);
    let gw = ruuvi_gw_sim::RunningGateway::start(o.clone())
        .await
        .unwrap();
    let rw = "Authorization: Bearer RW\r\n";
    // Off: nothing is fetched.
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert!(rx.try_recv().is_err());
    let body = format!(
        r#"{{"remote_cfg_use": true, "remote_cfg_url": "http://{addr}/cfg/", "remote_cfg_auth_type": "none", "remote_cfg_refresh_interval_minutes": 1}}"#
    );
    post(gw.addr, "/ruuvi.json", rw, &body).await;
    // Every "minute", then every two once the document says so.
    let started = std::time::Instant::now();
    for _ in 0..3 {
        let (head, _) = tokio::time::timeout(Duration::from_secs(5), rx.recv())
            .await
            .expect("a periodic download")
            .unwrap();
        assert!(head.starts_with("GET /cfg/"), "{head}");
    }
    assert!(
        started.elapsed() >= Duration::from_millis(250),
        "{:?}",
        started.elapsed()
    );
    // Configuration mode (a GET of /ruuvi.json) holds the downloads back.
    let _ = get(gw.addr, "/ruuvi.json", rw).await;
    while rx.try_recv().is_ok() {}
    tokio::time::sleep(Duration::from_millis(700)).await;
    assert!(rx.try_recv().is_err(), "downloaded in configuration mode");
    gw.stop().await;
    while rx.try_recv().is_ok() {}
    // After a restart (settings kept like flash) the first download is at start.
    let gw = ruuvi_gw_sim::RunningGateway::start(o).await.unwrap();
    let (head, _) = tokio::time::timeout(Duration::from_millis(150), rx.recv())
        .await
        .expect("a download at start")
        .unwrap();
    assert!(head.starts_with("GET /cfg/"), "{head}");
    gw.stop().await;
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn validate_url_checks_an_mqtt_broker() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    // A broker that accepts user "u" / password "p" and refuses anything else (code 5).
    let broker = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = broker.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut s, _)) = broker.accept().await {
            let mut buf = vec![0u8; 512];
            let n = s.read(&mut buf).await.unwrap_or(0);
            let packet = &buf[..n];
            let ok = packet.windows(3).any(|w| w == b"\x00\x01u") && packet.ends_with(b"\x00\x01p");
            let _ = s
                .write_all(&[0x20, 0x02, 0x00, if ok { 0 } else { 5 }])
                .await;
        }
    });
    let gw = gateway(NEWEST, None, "RO", "RW").await;
    post(
        gw.addr,
        "/ruuvi.json",
        "Authorization: Bearer RW\r\n",
        r#"{"mqtt_pass": "p"}"#,
    )
    .await;
    let q = |extra: &str| {
        format!("/validate_url?url=mqtt%3A%2F%2F{addr}&validate_type=check_mqtt&auth_type=none&mqtt_topic_prefix=ruuvi%2F&mqtt_client_id=gw1{extra}")
    };
    let r = get(
        gw.addr,
        &q("&user=u&use_saved_password=true"),
        "Authorization: Bearer RO\r\n",
    )
    .await;
    assert_eq!(
        (r.status, r.json()["status"].clone()),
        (200, 200.into()),
        "{}",
        r.body
    );
    let r = get(gw.addr, &q("&user=u"), "Authorization: Bearer RO\r\n").await;
    assert_eq!(r.json()["status"], 401, "no password → refused");
    let r = get(
        gw.addr,
        &format!("/validate_url?url=mqtt%3A%2F%2F{addr}&validate_type=check_mqtt&auth_type=none"),
        "Authorization: Bearer RO\r\n",
    )
    .await;
    assert_eq!(r.status, 400, "topic prefix and client id are required");
    gw.stop().await;
}

#[tokio::test]
async fn sender_data_formats_raw_and_decoded_only() {
    let (addr, mut rx) =
        replying("HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n").await;
    let gw = gateway(NEWEST, Some((LanAuth::Allow, "", "")), "", "").await;
    let cfg = |format: &str| {
        format!(
            r#"{{"use_http_ruuvi": false, "use_http": true, "http_url": "http://{addr}/r", "http_period": 1, "http_data_format": "{format}"}}"#
        )
    };
    // `ruuvi`: raw data only.
    post(gw.addr, "/ruuvi.json", "", &cfg("ruuvi")).await;
    let (_, body) = tokio::time::timeout(Duration::from_secs(20), rx.recv())
        .await
        .unwrap()
        .unwrap();
    let text = String::from_utf8(body).unwrap();
    assert!(
        text.contains("\"data\": \"") && !text.contains("dataFormat"),
        "{text}"
    );
    // `ruuvi_decoded`: decoded values, no raw data; still readable as observations.
    post(gw.addr, "/ruuvi.json", "", &cfg("ruuvi_decoded")).await;
    while rx.try_recv().is_ok() {}
    let text = loop {
        let (_, body) = tokio::time::timeout(Duration::from_secs(20), rx.recv())
            .await
            .unwrap()
            .unwrap();
        let text = String::from_utf8(body).unwrap();
        if text.contains("dataFormat") {
            break text;
        }
    };
    assert!(!text.contains("\"data\": \""), "{text}");
    let doc = ruuvi_protocol::GatewayDocument::parse(text.as_bytes()).unwrap();
    let (ok, failed) = ruuvi_protocol::Observation::from_gateway(
        &doc,
        ruuvi_protocol::Feed::GatewayPost {
            gateway: doc.gw_mac,
        },
        0,
    );
    assert_eq!((ok.len(), failed.len()), (4, 0));
    assert!(ok.iter().all(|o| o.readings.temperature_c.is_some()));
    gw.stop().await;
}

#[tokio::test]
async fn status_json_extends_configuration_mode() {
    let (addr, mut rx) = receiver().await;
    let mut o = ruuvi_gw_sim::GatewayOptions::new("127.0.0.1:0".parse().unwrap(), NEWEST);
    o.post_delay = POST_DELAY;
    o.lan_auth = Some((LanAuth::Allow, String::new(), String::new()));
    // Stands for the firmware's 60 s.
    o.config_mode = Duration::from_millis(1500);
    let gw = ruuvi_gw_sim::RunningGateway::start(o).await.unwrap();
    let body = format!(
        r#"{{"use_http_ruuvi": false, "use_http": true, "http_url": "http://{addr}/r", "http_period": 1}}"#
    );
    post(gw.addr, "/ruuvi.json", "", &body).await;
    tokio::time::timeout(Duration::from_secs(10), rx.recv())
        .await
        .expect("sending")
        .unwrap();
    get(gw.addr, "/ruuvi.json", "").await;
    let entered = Instant::now();
    while rx.try_recv().is_ok() {}
    // Keep extending it with /status.json for 3 s: twice the mode's own length.
    while entered.elapsed() < Duration::from_millis(3000) {
        get(gw.addr, "/status.json", "").await;
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    assert!(
        rx.try_recv().is_err(),
        "a post arrived while /status.json kept configuration mode on"
    );
    // Left alone, the mode ends and posts resume.
    tokio::time::timeout(Duration::from_secs(6), rx.recv())
        .await
        .expect("posts resume")
        .unwrap();
    gw.stop().await;
}
