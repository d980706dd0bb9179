//! The UI's gateway set-up against the simulator over real sockets on 127.0.0.1, with the real
//! keychain (run inside `tests/with-keychain.sh`) and a real receiver + hub.

use parking_lot::{Mutex, RwLock};
use std::sync::Arc;
use std::time::Duration;

use ruuvi_gateway::GatewayState;
use ruuvi_gw_sim::{Firmware, GatewayOptions, LanAuth, RunningGateway};
use ruuvi_hub::{Hub, HubOptions};
use ruuvi_receiver::{Policies, PolicyFile, Receiver, ReceiverOptions};
use ruuvi_secrets::{Keychain, SecretKind, SecretName, SecretStore};
use ruuvi_setup::{
    LoginRequest, OnStep, ProfileForm, ReceiverTarget, Setup, SetupError, StepEvent,
};

fn temp_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("ruuvi-setup-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Gateway `index` of the simulated fleet (each has its own MAC).
async fn sim_at(index: u64, password: &str) -> RunningGateway {
    let mut o = GatewayOptions::new("127.0.0.1:0".parse().unwrap(), Firmware::Head);
    o.index = index;
    o.post_delay = Duration::from_millis(20);
    o.retry_after_failure = Duration::from_secs(1);
    o.tags = 3;
    o.lan_auth = Some((LanAuth::Ruuvi, "Admin".into(), password.into()));
    RunningGateway::start(o).await.unwrap()
}

async fn sim(password: &str) -> RunningGateway {
    sim_at(0, password).await
}

fn login(endpoint: &str, password: Option<&str>, remember: bool) -> LoginRequest {
    serde_json::from_value(serde_json::json!({
        "endpoint": endpoint, "password": password, "remember": remember
    }))
    .unwrap()
}

fn recorder() -> (OnStep, Arc<Mutex<Vec<StepEvent>>>) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let s = seen.clone();
    (Arc::new(move |e| s.lock().push(e)), seen)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the keychain: tests/with-keychain.sh cargo test -p ruuvi-setup -- --ignored"]
async fn log_in_preview_apply_and_send_data_to_this_computer() {
    let dir = temp_dir("journey");
    let keychain: Arc<dyn SecretStore> = Arc::new(Keychain::new("ruuvi-setup-test"));
    let gw = sim("label-id-1234").await;
    let endpoint = format!("127.0.0.1:{}", gw.addr.port());
    let setup = Setup::new(&dir, keychain.clone()).unwrap();

    // A wrong password is refused with a code the UI branches on; nothing is remembered.
    let e = setup
        .gateways
        .login(login(&endpoint, Some("wrong"), true))
        .await
        .unwrap_err();
    assert_eq!(e.code(), "unauthorised", "{e}");
    assert!(setup.gateways.list().is_empty());

    let details = setup
        .gateways
        .login(login(&endpoint, Some("label-id-1234"), true))
        .await
        .unwrap();
    let mac = details.mac.clone().expect("the gateway's MAC");
    assert!(details.remembered);
    assert!(details.http.ruuvi_cloud, "factory settings: Ruuvi Cloud on");
    assert_eq!(setup.gateways.list().len(), 1);
    let list = std::fs::read_to_string(dir.join("gateways.json")).unwrap();
    assert!(
        !list.contains("label-id-1234"),
        "no secret in the list: {list}"
    );

    // After a restart the keychain logs in.
    let again = Setup::new(&dir, keychain.clone()).unwrap();
    assert!(!again.gateways.is_logged_in(&endpoint));
    again
        .gateways
        .login(login(&endpoint, None, false))
        .await
        .unwrap();
    assert!(again.gateways.is_logged_in(&endpoint));

    // Preview: every change named, secrets hidden, certificates to upload listed.
    let form: ProfileForm = serde_json::from_value(serde_json::json!({
        "ruuvi_cloud": false,
        "own_server": {"url": "https://example.invalid:8443/record",
            "data_format": "ruuvi_raw_and_decoded", "period_s": 20, "auth": "bearer",
            "secret": "t0ken-for-preview", "client_cert": {"kind": "issue"},
            "server_ca": {"kind": "ours"}}
    }))
    .unwrap();
    let preview = again.backends.preview(&endpoint, &form).await.unwrap();
    let keys: Vec<&str> = preview.changes.iter().map(|c| c.key.as_str()).collect();
    for key in [
        "use_cloud",
        "use_http",
        "http_url",
        "http_period",
        "http_auth",
        "http_bearer_token",
    ] {
        assert!(keys.contains(&key), "{key} missing from {keys:?}");
    }
    assert_eq!(
        preview.uploads,
        ["http_srv_cert", "http_cli_cert", "http_cli_key"]
    );
    assert!(preview.problems.is_empty(), "{:?}", preview.problems);
    assert!(!format!("{preview:?}").contains("t0ken-for-preview"));

    // Apply it to this gateway and a second one at once: each one's progress reaches 100 % in
    // order, each reads back the new settings (with its own client certificate).
    let second = sim_at(1, "second-label").await;
    let second_endpoint = format!("127.0.0.1:{}", second.addr.port());
    again
        .gateways
        .login(login(&second_endpoint, Some("second-label"), false))
        .await
        .unwrap();
    let (on_step, steps) = recorder();
    let results = again
        .backends
        .apply(
            vec![endpoint.clone(), second_endpoint.clone()],
            form,
            on_step,
        )
        .await;
    assert_eq!(results.len(), 2);
    for (result, target) in results.iter().zip([&endpoint, &second_endpoint]) {
        assert_eq!(
            &result.endpoint, target,
            "results come back in target order"
        );
        assert_eq!(result.state, GatewayState::Applied, "{:?}", result.error);
        let percents: Vec<u8> = steps
            .lock()
            .iter()
            .filter(|s| &s.endpoint == target)
            .map(|s| s.percent)
            .collect();
        assert!(percents.windows(2).all(|w| w[0] <= w[1]), "{percents:?}");
        assert_eq!(percents.last(), Some(&100));
    }
    assert_eq!(
        second.state.lock().await.config.str("http_url"),
        "https://example.invalid:8443/record"
    );
    assert!(again.gateways.forget(&second_endpoint).await.unwrap());
    second.stop().await;
    {
        let state = gw.state.lock().await;
        assert_eq!(
            state.config.str("http_url"),
            "https://example.invalid:8443/record"
        );
        assert!(!state.config.bool("use_cloud"));
    }
    assert_eq!(
        again.gateways.list()[0].last_change.as_deref(),
        Some("applied")
    );
    // The page shows the settings as read back, without asking the gateway again.
    let now = again.gateways.details(&endpoint).await.unwrap();
    assert!(!now.http.ruuvi_cloud);
    assert_eq!(now.http.custom.unwrap().period_s, Some(20));

    // Certificates: the CA and this gateway's client certificate, issued by the apply.
    let certs = again.certificates.certificates().unwrap();
    assert!(
        certs.ca.is_some()
            && certs
                .ca_pem
                .as_deref()
                .unwrap()
                .contains("BEGIN CERTIFICATE")
    );
    // One for each gateway of the apply; the second one's is revoked for the rest.
    let second_mac = certs
        .clients
        .iter()
        .map(|c| c.gateway)
        .find(|g| g.to_string() != mac)
        .expect("the second gateway's certificate");
    assert!(again.certificates.revoke_client(second_mac).unwrap());
    let certs = again.certificates.certificates().unwrap();
    assert_eq!(certs.clients.len(), 1);
    assert_eq!(certs.clients[0].gateway.to_string(), mac);
    assert!(
        certs.clients[0].cert.days_left > 700,
        "{:?}",
        certs.clients[0]
    );
    let said = again
        .certificates
        .renew_client(mac.parse().unwrap())
        .await
        .unwrap();
    assert!(said.contains("uploaded"), "{said}");
    let certs = again.certificates.certificates().unwrap();
    assert_eq!(
        certs.clients.iter().map(|c| c.previous).collect::<Vec<_>>(),
        [false, true],
        "the renewed one and the one it replaces (accepted until it expires)"
    );
    assert!(again
        .certificates
        .revoke_client(mac.parse().unwrap())
        .unwrap());
    assert!(again
        .certificates
        .certificates()
        .unwrap()
        .clients
        .is_empty());

    // Not logged in: a clear error, not a panic.
    let other = again
        .backends
        .preview(
            "127.0.0.1:1",
            &serde_json::from_value(serde_json::json!({"ruuvi_cloud": true, "own_server": null}))
                .unwrap(),
        )
        .await
        .unwrap_err();
    assert!(matches!(other, SetupError::NotLoggedIn(_)));

    // "Send data to this computer" with a plain-HTTP receiver: a bearer token only the
    // receiver and the gateway know, and data arrives through the hub.
    let (hub, _task) = Hub::start(
        ruuvi_store::SqliteStore::open_in_memory().unwrap(),
        HubOptions::default(),
    );
    let policies = Arc::new(RwLock::new(Policies::default()));
    let receiver = Receiver::start(
        ReceiverOptions::new("127.0.0.1:0".parse().unwrap()),
        policies.clone(),
        Arc::new(ruuvi_wiring::ToHub(hub.clone())),
    )
    .await
    .unwrap();
    let target = ReceiverTarget {
        https: false,
        port: receiver.addr.port(),
        path: "/record".into(),
    };
    let (on_step, _) = recorder();
    let plan = again
        .this_computer
        .prepare(&endpoint, &target, &on_step)
        .await
        .unwrap();
    assert_eq!(plan.gateway.to_string(), mac);
    assert!(
        !plan.require_client_cert,
        "plain HTTP: no client certificate"
    );
    assert_eq!(
        plan.url,
        format!("http://127.0.0.1:{}/record", receiver.addr.port())
    );
    // The receiver learns the token before the gateway does (what the app core does).
    ruuvi_wiring::expect_gateway(&dir, keychain.as_ref(), plan.gateway, &plan.token, false)
        .unwrap();
    let result = again.this_computer.send(plan, on_step).await.unwrap();
    assert_eq!(result.state, GatewayState::Applied, "{:?}", result.error);
    let file = PolicyFile::load(&dir.join("receiver.json")).unwrap();
    let entry = &file.gateways[&mac.parse().unwrap()];
    assert_eq!(entry.auth.as_deref(), Some("bearer"));
    let token = keychain
        .get(&SecretName::new(SecretKind::ReceiverAuth, &mac).unwrap())
        .unwrap()
        .expect("the token is in the keychain");
    assert_eq!(token.expose().len(), 32);
    assert!(!std::fs::read_to_string(dir.join("receiver.json"))
        .unwrap()
        .contains(token.expose().as_str()));
    // The receiver now insists on the token (as `ruuvictl serve` does after reloading).
    *policies.write() = file.to_policies(keychain.as_ref()).unwrap();
    {
        let state = gw.state.lock().await;
        assert_eq!(
            state.config.str("http_url"),
            format!("http://127.0.0.1:{}/record", receiver.addr.port())
        );
        assert!(
            !state.config.bool("use_cloud"),
            "Ruuvi Cloud left as it was"
        );
    }
    let mut updates = hub.subscribe();
    let from_gateway = tokio::time::timeout(Duration::from_secs(20), async {
        loop {
            let o = updates.recv().await.unwrap();
            if let ruuvi_protocol::Feed::GatewayPost { gateway: Some(g) } = &o.feed {
                if g.to_string() == mac {
                    return o;
                }
            }
        }
    })
    .await
    .expect("an observation from the gateway within 20 s");
    assert!(from_gateway.readings.temperature_c.is_some());

    // Forget: gone from the list and the keychain.
    assert!(again.gateways.forget(&endpoint).await.unwrap());
    assert!(again.gateways.list().is_empty());
    let fresh = Setup::new(&dir, keychain.clone()).unwrap();
    let e = fresh
        .gateways
        .login(login(&endpoint, None, false))
        .await
        .unwrap_err();
    assert_eq!(e.code(), "unauthorised", "{e}");
    let _ = keychain.delete(&SecretName::new(SecretKind::ReceiverAuth, &mac).unwrap());
    receiver.stop().await;
    gw.stop().await;
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the keychain: tests/with-keychain.sh cargo test -p ruuvi-setup -- --ignored"]
async fn one_gateway_under_two_addresses_gets_one_matching_certificate() {
    // Two simulators with the same identity stand for one gateway listed twice (its old and
    // new address): both pushes issue or reuse the certificate at the same moment, and each
    // must upload a key that belongs to the certificate it uploads.
    let dir = temp_dir("same-mac");
    let keychain: Arc<dyn SecretStore> = Arc::new(Keychain::new("ruuvi-setup-test-same-mac"));
    let (a, b) = (sim_at(7, "pw").await, sim_at(7, "pw").await);
    let setup = Setup::new(&dir, keychain.clone()).unwrap();
    let endpoints: Vec<String> = [&a, &b]
        .iter()
        .map(|g| format!("127.0.0.1:{}", g.addr.port()))
        .collect();
    for e in &endpoints {
        setup
            .gateways
            .login(login(e, Some("pw"), false))
            .await
            .unwrap();
    }
    let form: ProfileForm = serde_json::from_value(serde_json::json!({
        "ruuvi_cloud": true,
        "own_server": {"url": "https://example.invalid:8443/record",
            "data_format": "ruuvi_raw_and_decoded", "period_s": 10, "auth": "none",
            "client_cert": {"kind": "issue"}, "server_ca": {"kind": "ours"}}
    }))
    .unwrap();
    let results = setup.backends.apply(endpoints, form, recorder().0).await;
    for r in &results {
        assert_eq!(r.state, GatewayState::Applied, "{:?}", r.error);
    }
    let certs = setup.certificates.certificates().unwrap();
    assert_eq!(
        certs.clients.len(),
        1,
        "one certificate, reused: {:?}",
        certs.clients
    );
    let _ = setup.certificates.revoke_client(certs.clients[0].gateway);
    a.stop().await;
    b.stop().await;
    std::fs::remove_dir_all(&dir).unwrap();
}
