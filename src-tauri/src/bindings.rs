//! `ui/src/lib/bindings.ts`: the TypeScript declarations of every type that crosses the IPC
//! boundary (and `ruuvictl serve --ui`'s HTTP API, which carries the same types), and the
//! `Commands` map of every command's arguments and reply, generated from the Rust types and the
//! app core's command table with ts-rs. The test below fails when the committed file is stale;
//! `UPDATE_BINDINGS=1 cargo test -p ruuvi-desk --lib bindings` rewrites it.

use ts_rs::{Config, TS};

/// Every declaration, in a fixed order, as one module.
pub fn declarations() -> String {
    let cfg = Config::new().with_large_int("number");
    let mut out = String::from(
        "// Generated from the Rust types by src-tauri/src/bindings.rs (ts-rs). Do not edit:\n\
         // UPDATE_BINDINGS=1 cargo test -p ruuvi-desk --lib bindings\n",
    );
    macro_rules! declare {
        ($($t:ty),* $(,)?) => {$(
            out.push_str("\nexport ");
            out.push_str(&<$t as TS>::decl(&cfg));
            out.push('\n');
        )*};
    }
    declare!(
        ruuvi_app::ApiError,
        ruuvi_app::api::AppInfo,
        ruuvi_app::api::ImportReply,
        ruuvi_app::history::HistoryReport,
        ruuvi_app::history::DownloadProgress,
        ruuvi_ble::DownloadStep,
        ruuvi_ble::history::LogKind,
        ruuvi_app::api::BleStatusReply,
        ruuvi_app::api::Measurement,
        ruuvi_app::AppSettings,
        ruuvi_app::PolledGateway,
        ruuvi_app::PollStatus,
        ruuvi_gateway::history::PollReport,
        ruuvi_ble::BleStatus,
        ruuvi_ble::Unavailable,
        ruuvi_dashboard::Dashboard,
        ruuvi_dashboard::SensorCard,
        ruuvi_dashboard::SensorKind,
        ruuvi_dashboard::Series,
        ruuvi_dashboard::Sparkline,
        ruuvi_dashboard::Point,
        ruuvi_protocol::Readings,
        ruuvi_protocol::SensorProfile,
        ruuvi_protocol::Calibration,
        ruuvi_protocol::derived::Derived,
        ruuvi_protocol::Feed,
        ruuvi_protocol::DataFormat,
        ruuvi_protocol::MacAddress,
        ruuvi_app::api::ListedGateway,
        ruuvi_app::api::KnownGateway,
        ruuvi_wiring::ReceiverRules,
        ruuvi_app::api::NetworkView,
        ruuvi_app::api::WhitelistedGateway,
        ruuvi_app::api::RegisteredSensorView,
        ruuvi_app::api::PlanView,
        ruuvi_wiring::ReceiverRule,
        ruuvi_setup::SavedGateway,
        ruuvi_setup::FleetSummary,
        ruuvi_setup::LoginKind,
        ruuvi_setup::DiscoverRequest,
        ruuvi_setup::FoundGateway,
        ruuvi_gateway::discovery::Found,
        ruuvi_gateway::Endpoint,
        ruuvi_setup::LoginRequest,
        ruuvi_setup::GatewayDetails,
        ruuvi_gateway::HttpBackend,
        ruuvi_gateway::config::CustomServer,
        ruuvi_gateway::config::ExtraHttp,
        ruuvi_gateway::ScanProfile,
        ruuvi_gateway::TagFilter,
        ruuvi_gateway::Radio,
        ruuvi_setup::KeyAction,
        ruuvi_setup::LanLoginForm,
        ruuvi_gateway::config::Storage,
        ruuvi_setup::ProfileForm,
        ruuvi_setup::OwnServerForm,
        ruuvi_setup::ClientCertChoice,
        ruuvi_setup::ServerCaChoice,
        ruuvi_setup::MqttForm,
        ruuvi_wiring::app_settings::MqttFeedSettings,
        ruuvi_wiring::app_settings::MqttSinkSettings,
        ruuvi_wiring::Connections,
        ruuvi_wiring::MqttView,
        ruuvi_mqtt::feed::FeedStatus,
        ruuvi_mqtt::sink::SinkStatus,
        ruuvi_setup::MqttBrokerForm,
        ruuvi_gateway::config::Mqtt,
        ruuvi_setup::Preview,
        ruuvi_gateway::Change,
        ruuvi_setup::ApplyResult,
        ruuvi_gateway::GatewayState,
        ruuvi_setup::StepEvent,
        ruuvi_setup::UrlCheck,
        ruuvi_gateway::RemoteCfgState,
        ruuvi_setup::Areas,
        ruuvi_gateway::TimePlaceProfile,
        ruuvi_gateway::Clock,
        ruuvi_app::remote_config::RemoteConfigView,
        ruuvi_app::remote_config::ServedFile,
        ruuvi_app::remote_config::ConfigFetch,
        ruuvi_app::api::Published,
        ruuvi_setup::FirmwareOffer,
        ruuvi_gateway::Release,
        ruuvi_setup::UpdateResult,
        ruuvi_gateway::RolloutState,
        ruuvi_gateway::AutoUpdateProfile,
        ruuvi_gateway::StatisticsState,
        ruuvi_setup::StatisticsForm,
        ruuvi_setup::StatisticsTargetForm,
        ruuvi_setup::Certificates,
        ruuvi_setup::CertSummary,
        ruuvi_setup::ClientSummary,
        ruuvi_alerts::AlertsView,
        ruuvi_alerts::TypeUnits,
        ruuvi_alerts::Rule,
        ruuvi_alerts::AlertType,
        ruuvi_alerts::TriggerType,
        ruuvi_alerts::HistoryEntry,
        ruuvi_alerts::Fired,
        ruuvi_wiring::ReceiverStatus,
        ruuvi_wiring::OutcomeCount,
        ruuvi_wiring::GatewayActivity,
        ruuvi_receiver::GatewayEntry,
        ruuvi_receiver::Received,
        ruuvi_receiver::Outcome,
    );
    out.push_str(&ruuvi_app::api::typescript(&cfg));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bindings_are_current() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("ui/src/lib/bindings.ts");
        let fresh = declarations();
        if std::env::var_os("UPDATE_BINDINGS").is_some() {
            std::fs::write(&path, &fresh).unwrap();
        }
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            committed == fresh,
            "{} is stale: run UPDATE_BINDINGS=1 cargo test -p ruuvi-desk --lib bindings",
            path.display()
        );
    }
}
