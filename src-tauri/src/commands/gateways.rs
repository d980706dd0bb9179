//! The Gateways page's commands: each calls `ruuvi_setup::Setup`; steps of a change go to the
//! window as `gateway-step` events.

use std::sync::Arc;

use ruuvi_setup::{
    ApplyResult, DiscoverRequest, FoundGateway, GatewayDetails, LoginRequest, OnStep,
    OwnServerForm, Preview, ProfileForm, SavedGateway, UrlCheck,
};
use tauri::{AppHandle, Emitter, Runtime, State};

use crate::error::IpcError;
use crate::feeds::Feeds;

/// A saved gateway with whether the app holds a session for it.
#[derive(Debug, Clone, serde::Serialize, ts_rs::TS)]
pub struct ListedGateway {
    #[serde(flatten)]
    pub gateway: SavedGateway,
    pub logged_in: bool,
}

fn steps_to<R: Runtime>(app: AppHandle<R>) -> OnStep {
    Arc::new(move |step| {
        let _ = app.emit("gateway-step", step);
    })
}

#[tauri::command]
pub fn gateways_list(feeds: State<'_, Feeds>) -> Vec<ListedGateway> {
    feeds
        .setup
        .gateways()
        .into_iter()
        .map(|gateway| ListedGateway {
            logged_in: feeds.setup.is_logged_in(&gateway.endpoint),
            gateway,
        })
        .collect()
}

#[tauri::command]
pub async fn gateways_discover(
    feeds: State<'_, Feeds>,
    request: DiscoverRequest,
) -> Result<Vec<FoundGateway>, IpcError> {
    Ok(feeds.setup.discover(request).await?)
}

#[tauri::command]
pub async fn gateways_login(
    feeds: State<'_, Feeds>,
    request: LoginRequest,
) -> Result<GatewayDetails, IpcError> {
    Ok(feeds.setup.login(request).await?)
}

/// A logged-in gateway's settings as last read, without asking it again.
#[tauri::command]
pub async fn gateways_details(
    feeds: State<'_, Feeds>,
    endpoint: String,
) -> Result<GatewayDetails, IpcError> {
    Ok(feeds.setup.details(&endpoint).await?)
}

#[tauri::command]
pub async fn gateways_forget(feeds: State<'_, Feeds>, endpoint: String) -> Result<bool, IpcError> {
    Ok(feeds.setup.forget(&endpoint).await?)
}

#[tauri::command]
pub async fn gateways_preview(
    feeds: State<'_, Feeds>,
    endpoint: String,
    form: ProfileForm,
) -> Result<Preview, IpcError> {
    Ok(feeds.setup.preview(&endpoint, &form).await?)
}

#[tauri::command]
pub async fn gateways_apply<R: Runtime>(
    app: AppHandle<R>,
    feeds: State<'_, Feeds>,
    endpoints: Vec<String>,
    form: ProfileForm,
) -> Result<Vec<ApplyResult>, IpcError> {
    Ok(feeds.setup.apply(endpoints, form, steps_to(app)).await)
}

/// Sets (or switches off) the MQTT target of every gateway in `endpoints`.
#[tauri::command]
pub async fn gateways_apply_mqtt<R: Runtime>(
    app: AppHandle<R>,
    feeds: State<'_, Feeds>,
    endpoints: Vec<String>,
    form: ruuvi_setup::MqttForm,
) -> Result<Vec<ApplyResult>, IpcError> {
    Ok(feeds.setup.apply_mqtt(endpoints, form, steps_to(app)).await)
}

#[tauri::command]
pub async fn gateways_check_url(
    feeds: State<'_, Feeds>,
    endpoint: String,
    server: OwnServerForm,
) -> Result<UrlCheck, IpcError> {
    Ok(feeds.setup.check_url(&endpoint, &server).await?)
}

/// The CA, the receiver's certificate and the gateways' client certificates.
#[tauri::command]
pub fn certificates(feeds: State<'_, Feeds>) -> Result<ruuvi_setup::Certificates, IpcError> {
    Ok(feeds.setup.certificates()?)
}

#[tauri::command]
pub fn certificates_create_ca(
    feeds: State<'_, Feeds>,
) -> Result<ruuvi_setup::Certificates, IpcError> {
    Ok(feeds.setup.create_ca()?)
}

/// A new client certificate for the gateway, uploaded to it when it is logged in.
#[tauri::command]
pub async fn certificates_renew(
    feeds: State<'_, Feeds>,
    gateway: String,
) -> Result<String, IpcError> {
    Ok(feeds.setup.renew_client(mac(&gateway)?).await?)
}

#[tauri::command]
pub fn certificates_revoke(feeds: State<'_, Feeds>, gateway: String) -> Result<bool, IpcError> {
    Ok(feeds.setup.revoke_client(mac(&gateway)?)?)
}

fn mac(text: &str) -> Result<ruuvi_protocol::MacAddress, IpcError> {
    text.parse().map_err(|e| IpcError {
        code: "bad_input",
        message: format!("{text:?}: {e}"),
    })
}

/// Turns the receiver on (HTTPS, certificates issued on first use) and points the gateway at it.
#[tauri::command]
pub async fn gateways_send_here<R: Runtime>(
    app: AppHandle<R>,
    feeds: State<'_, Feeds>,
    endpoint: String,
) -> Result<ApplyResult, IpcError> {
    feeds.receiver.ensure().await.map_err(|message| IpcError {
        code: "receiver",
        message,
    })?;
    Ok(feeds.setup.send_here(&endpoint, steps_to(app)).await?)
}
