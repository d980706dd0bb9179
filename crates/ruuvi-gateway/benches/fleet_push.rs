//! Fleet push time for 1, 10 and 50 simulated gateways with the firmware's real 1 s POST delay:
//! a profile with a per-gateway client certificate, our CA and bearer auth (3 uploads + 1
//! config POST + reads). The goal is 50 gateways in less than twice the time of one; read the
//! figures as ratios to the 1-gateway line of the same run.
//!
//! `cargo bench -p ruuvi-gateway --bench fleet_push`

use std::sync::Arc;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use ruuvi_gateway::{
    push_fleet, ClientIdentity, ClientOptions, Credentials, CustomProfile, DataFormat, Endpoint,
    FleetTarget, GatewayClient, GatewayError, GatewayState, HttpAuth, HttpProfile, ProfileFor,
};
use ruuvi_gw_sim::{Firmware, GatewayOptions, RunningGateway};
use ruuvi_pki::{KeyAlgorithm, LocalCa, OffsetDateTime, Validity};
use ruuvi_secrets::Sensitive;

fn profile_for(ca: Arc<LocalCa>) -> ProfileFor {
    Arc::new(move |c: &GatewayClient| {
        let mac = c
            .mac()
            .ok_or_else(|| GatewayError::Protocol("no MAC".into()))?;
        let now = OffsetDateTime::now_utc();
        let issued = ca.issue_client(mac, Validity::days_from(now, 730)).unwrap();
        Ok(HttpProfile {
            ruuvi_cloud: true,
            custom: Some(CustomProfile {
                extra: Default::default(),
                url: "https://desk.local:8443/ruuvi".into(),
                data_format: DataFormat::RuuviRawAndDecoded,
                period_s: 10,
                auth: HttpAuth::Bearer {
                    token: Some(Sensitive::new("bench-token".into())),
                },
                client_identity: Some(ClientIdentity {
                    cert_pem: issued.cert_pem,
                    key_pem: issued.key_pem,
                }),
                server_ca_pem: Some(ca.cert_pem.clone()),
            }),
        })
    })
}

fn fleet_push(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let ca = Arc::new(
        LocalCa::generate(
            "bench CA",
            KeyAlgorithm::EcdsaP256,
            Validity::days_from(OffsetDateTime::now_utc(), 10),
        )
        .unwrap(),
    );
    let mut group = c.benchmark_group("fleet_push");
    group.sample_size(10);
    group.warm_up_time(Duration::from_secs(1));
    group.measurement_time(Duration::from_secs(10));
    for size in [1usize, 10, 50] {
        let fleet: Vec<RunningGateway> = runtime.block_on(async {
            let mut fleet = Vec::new();
            for i in 0..size {
                // GatewayOptions::new keeps the firmware's 1 s POST delay.
                let mut o = GatewayOptions::new("127.0.0.1:0".parse().unwrap(), Firmware::Head);
                o.index = i as u64;
                o.api_key_rw = "RW".into();
                fleet.push(RunningGateway::start(o).await.unwrap());
            }
            fleet
        });
        let targets: Vec<FleetTarget> = fleet
            .iter()
            .map(|gw| FleetTarget {
                endpoint: Endpoint::new("127.0.0.1", gw.addr.port()),
                credentials: Credentials::ApiKey(Sensitive::new("RW".into())),
            })
            .collect();
        group.bench_with_input(BenchmarkId::from_parameter(size), &size, |b, _| {
            b.to_async(&runtime).iter(|| async {
                let outcomes = push_fleet(
                    targets.clone(),
                    profile_for(ca.clone()),
                    ClientOptions::default(),
                    64,
                    None,
                )
                .await;
                assert!(outcomes.iter().all(|o| o.state == GatewayState::Applied));
            })
        });
        runtime.block_on(async {
            for gw in fleet {
                gw.stop().await;
            }
        });
    }
    group.finish();
}

criterion_group!(benches, fleet_push);
criterion_main!(benches);
