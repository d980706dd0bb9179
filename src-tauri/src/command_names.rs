/// Every command the window may call; each gets an `allow-<command>` permission that the
/// capability file grants (a command missing here is refused at the IPC boundary). Read by
/// build.rs and by the test that checks the capability file against the handler.
pub const COMMANDS: &[&str] = &[
    "app_info",
    "ble_status",
    "dashboard",
    "decode_advertisement",
    "series",
    "export_csv",
    "first_paint",
    "app_settings",
    "set_app_settings",
    "receiver_status",
    "receiver_start",
    "gateways_list",
    "gateways_discover",
    "gateways_login",
    "gateways_forget",
    "gateways_details",
    "gateways_preview",
    "gateways_apply",
    "gateways_check_url",
    "gateways_send_here",
    "certificates",
    "certificates_create_ca",
    "certificates_renew",
    "certificates_revoke",
];
