// Generated from the Rust types by src-tauri/src/bindings.rs (ts-rs). Do not edit:
// UPDATE_BINDINGS=1 cargo test -p ruuvi-desk --lib bindings

export type ApiError = { code: string, message: string, };

export type AppInfo = { name: string, 
/**
 * The workspace's version (the one place it is set).
 */
version: string, license: string, };

export type ImportReply = { 
/**
 * Observations read from the file.
 */
read: number, stored: number, 
/**
 * Already stored (or twice in the file).
 */
skipped: number, };

export type HistoryReport = { sensor: string, kind: LogKind, 
/**
 * Records the sensor sent.
 */
received: number, 
/**
 * New in the store.
 */
stored: number, 
/**
 * At a time already covered (live or from a gateway), or stored before.
 */
already_had: number, 
/**
 * Why it ended early (what arrived before is stored).
 */
error: string | null, };

export type DownloadProgress = { sensor: string, } & ({ "step": "finding" } | { "step": "connecting" } | { "step": "reading", records: number, } | { "step": "done", records: number, });

export type DownloadStep = { "step": "finding" } | { "step": "connecting" } | { "step": "reading", records: number, } | { "step": "done", records: number, };

export type LogKind = "ruuvi_tag" | "ruuvi_air";

export type BleStatusReply = { message: string, } & ({ "state": "off" } | { "state": "starting" } | { "state": "scanning", adapter: string, } | { "state": "unavailable", kind: Unavailable, reason: string, 
/**
 * What the user can do about it.
 */
hint: string, });

export type Measurement = Record<string, unknown>;

export type AppSettings = { 
/**
 * The receiver runs at start (turned on by "Send data to this computer" or the Receiver
 * page).
 */
receiver_enabled: boolean, 
/**
 * Scan for sensors with this computer's Bluetooth.
 */
bluetooth: boolean, 
/**
 * Delete observations older than this many days (`None`: keep everything).
 */
keep_days: number | null, 
/**
 * Keep one observation per sensor per this many minutes for history older than a day
 * (`None`: full resolution).
 */
resolution_minutes: number | null, 
/**
 * POST every alert here as the seed's push payload (`None`: no webhook). Read at start.
 */
alert_webhook: string | null, 
/**
 * Where observations are kept: `None` the SQLite file in the data directory, or
 * `postgres://user@host:port/database` (its password in the keychain). Read at start.
 */
store: string | null, 
/**
 * Read gateways' MQTT messages from a broker.
 */
mqtt_feed: MqttFeedSettings | null, 
/**
 * Republish every stored observation to a broker.
 */
mqtt_sink: MqttSinkSettings | null, 
/**
 * Gateways read through their `/history`, without changing their configuration.
 */
polls: Array<PolledGateway>, 
/**
 * Where the Internal API (whitelist, gwinfo, sensors, plans) listens, e.g.
 * `127.0.0.1:8444` (`None`: off). Its secrets are in the keychain. Read at start.
 */
internal_api: string | null, 
/**
 * The demo was chosen on the first-run guide (`Some(true)`), switched off (`Some(false)`),
 * or not chosen yet.
 */
demo: boolean | null, };

export type PolledGateway = { 
/**
 * `host` or `host:port`.
 */
endpoint: string, 
/**
 * Seconds between polls ([`PolledGateway::INTERVALS`]).
 */
interval_s: number, 
/**
 * `None`: the gateway's read-only API key from the keychain (`gateway-api-key/<endpoint>`),
 * or no login when there is none (`lan_auth_allow`). A user: the password is
 * `gateway-password/<endpoint>`.
 */
user: string | null, };

export type PollStatus = { 
/**
 * The gateway's MAC, from its login.
 */
mac: string | null, report: PollReport, 
/**
 * The feed ended (a login refused): it needs new credentials.
 */
stopped: boolean, 
/**
 * `host` or `host:port`.
 */
endpoint: string, 
/**
 * Seconds between polls ([`PolledGateway::INTERVALS`]).
 */
interval_s: number, 
/**
 * `None`: the gateway's read-only API key from the keychain (`gateway-api-key/<endpoint>`),
 * or no login when there is none (`lan_auth_allow`). A user: the password is
 * `gateway-password/<endpoint>`.
 */
user: string | null, };

export type PollReport = { 
/**
 * Answers read since the start.
 */
polls: number, 
/**
 * Observations taken from them (before the hub drops repeats).
 */
observations: number, 
/**
 * When the last answer came (Unix ms).
 */
last_ok_ms: number | null, 
/**
 * Why the last poll failed (`None`: it did not).
 */
error: string | null, };

export type BleStatus = { "state": "off" } | { "state": "starting" } | { "state": "scanning", adapter: string, } | { "state": "unavailable", kind: Unavailable, reason: string, 
/**
 * What the user can do about it.
 */
hint: string, };

export type Unavailable = "no_stack" | "no_adapter" | "adapter_off" | "permission_denied" | "failed";

export type Dashboard = { 
/**
 * Demo gateways run now: the UI labels the data.
 */
demo: boolean, 
/**
 * The first-run guide may offer "Show demo data".
 */
demo_available: boolean, cards: Array<SensorCard>, };

export type SensorCard = { sensor: MacAddress, 
/**
 * The owner's name for it, or the default one ("Ruuvi 4C88").
 */
name: string, 
/**
 * Whether `name` was given by the owner.
 */
named: boolean, location: string, note: string, calibration: Calibration, kind: SensorKind, format: DataFormat | null, 
/**
 * Where the latest observation came from, for people: "Bluetooth", "gateway C8:…".
 */
source: string, feed: Feed, last_seen_ms: number, rssi: number | null, 
/**
 * As shown: the calibration applied.
 */
readings: Readings, 
/**
 * As measured, when a calibration changed them.
 */
measured: Readings | null, 
/**
 * Dew point, absolute humidity, … (from the calibrated values) and the air-quality score
 * (IAQS) of a Ruuvi Air.
 */
derived: Derived, };

export type SensorKind = "ruuvi_tag" | "ruuvi_air";

export type Series = { sensor: MacAddress, points: Array<Point>, };

export type Sparkline = { sensor: MacAddress, 
/**
 * Where the first hour starts (Unix ms).
 */
from_ms: number, hourly: Array<number | null>, };

export type Point = { 
/**
 * The first observation's time (from raw rows), or the first rolled-up bucket's start.
 */
at_ms: number, readings: Readings, low: Readings | null, high: Readings | null, };

export type Readings = { temperature_c: number | null, humidity_pct: number | null, pressure_pa: number | null, accel_x_g: number | null, accel_y_g: number | null, accel_z_g: number | null, battery_v: number | null, tx_power_dbm: number | null, movement_counter: number | null, measurement_sequence: number | null, pm1_0: number | null, pm2_5: number | null, pm4_0: number | null, pm10_0: number | null, co2_ppm: number | null, voc_index: number | null, nox_index: number | null, luminosity_lux: number | null, sound_inst_dba: number | null, sound_avg_dba: number | null, sound_peak_spl_db: number | null, calibration_in_progress: boolean | null, button_pressed: boolean | null, rtc_running_on_boot: boolean | null, 
/**
 * Full MAC carried in the payload (formats 5, C5, 8, E1).
 */
mac: MacAddress | null, 
/**
 * Lowest three MAC bytes (format 6 carries only these).
 */
mac_suffix: [number, number, number] | null, };

export type SensorProfile = { sensor: MacAddress, name: string, 
/**
 * A room, a site, a group: cards can be grouped by it.
 */
location: string, note: string, calibration: Calibration, 
/**
 * When it was last changed (Unix ms).
 */
updated_ms: number, };

export type Calibration = { 
/**
 * Added to the temperature (°C).
 */
temperature_c: number, 
/**
 * Added to the relative humidity (percentage points).
 */
humidity_pct: number, 
/**
 * Added to the pressure (Pa; the UI and the CLI speak hPa).
 */
pressure_pa: number, };

export type Derived = { dewPoint: number | null, absoluteHumidity: number | null, vapourPressure: number | null, airDensity: number | null, accelerationTotal: number | null, iaqs: number | null, };

export type Feed = { "kind": "ble" } | { "kind": "ble_history" } | { "kind": "gateway_history", gateway: MacAddress | null, } | { "kind": "gateway_post", gateway: MacAddress | null, } | { "kind": "gateway_mqtt", gateway: MacAddress | null, };

export type DataFormat = "Df3" | "Df5" | "C5" | "Df6" | "E1" | "Df8";

export type MacAddress = string;

export type ListedGateway = { logged_in: boolean, 
/**
 * When it last posted to this computer's receiver (since the receiver started).
 */
last_post_ms: number | null, 
/**
 * `host` or `host:port`, as the user reaches it.
 */
endpoint: string, name: string | null, mac: string | null, firmware: string | null, user: string, login: LoginKind, 
/**
 * The password or API key is in the keychain.
 */
remembered: boolean, 
/**
 * What the last change did ("applied", "rolled back: …"), for the list.
 */
last_change: string | null, 
/**
 * A simulated demo gateway: gone when the app stops, so not kept across starts.
 */
demo: boolean, 
/**
 * What it had when last read (the fleet table).
 */
summary: FleetSummary | null, 
/**
 * The settings Ruuvi Desk's changes set, as read back (never secrets).
 */
expected: Record<string, unknown>, };

export type KnownGateway = { 
/**
 * Its MAC (`gw_mac`), when known.
 */
mac: string | null, 
/**
 * Its web address, when known: it can be logged in to.
 */
endpoint: string | null, name: string | null, added: boolean, logged_in: boolean, demo: boolean, 
/**
 * A simulated gateway's factory password (not a secret).
 */
demo_password: string | null, polled: boolean, 
/**
 * Of its latest posts to this computer's receiver (at most 20): stored, refused.
 */
posts_stored: number, posts_refused: number, last_post_ms: number | null, 
/**
 * Its MQTT `gw_status` (`None`: not seen over MQTT).
 */
mqtt_online: boolean | null, 
/**
 * Sensors whose latest observation came through it.
 */
sensors: number, };

export type ReceiverRules = { 
/**
 * Posts from gateways without a rule are accepted (`true`) or refused.
 */
accept_unknown: boolean, gateways: Array<ReceiverRule>, };

export type NetworkView = { 
/**
 * `None`: the Internal API is off.
 */
listen: string | null, gateways: Array<WhitelistedGateway>, sensors: Array<RegisteredSensorView>, plans: Array<PlanView>, };

export type WhitelistedGateway = { gateway: MacAddress, whitelisted_at: number, connected_at: number | null, latest_at: number | null, invalid_signature_at: number | null, blocked_at: number | null, };

export type RegisteredSensorView = { sensor: MacAddress, registered_at: number, };

export type PlanView = { name: string, registered_at: number, valid_days: number, max_history_days: number, max_resolution_minutes: number, 
/**
 * Still valid now.
 */
valid: boolean, 
/**
 * The plan that sets how long and how finely data is kept.
 */
active: boolean, };

export type ReceiverRule = { gateway: MacAddress, rule: GatewayEntry, 
/**
 * Its password, token or key is in the keychain.
 */
has_secret: boolean, 
/**
 * Its HMAC key (or the device id a rotated key starts from) is in the keychain.
 */
has_hmac_key: boolean, };

export type SavedGateway = { 
/**
 * `host` or `host:port`, as the user reaches it.
 */
endpoint: string, name: string | null, mac: string | null, firmware: string | null, user: string, login: LoginKind, 
/**
 * The password or API key is in the keychain.
 */
remembered: boolean, 
/**
 * What the last change did ("applied", "rolled back: …"), for the list.
 */
last_change: string | null, 
/**
 * A simulated demo gateway: gone when the app stops, so not kept across starts.
 */
demo: boolean, 
/**
 * What it had when last read (the fleet table).
 */
summary: FleetSummary | null, 
/**
 * The settings Ruuvi Desk's changes set, as read back (never secrets).
 */
expected: Record<string, unknown>, };

export type FleetSummary = { lan_auth: string | null, 
/**
 * "Ruuvi Cloud", the own server's URL, both joined with " + ", or "off".
 */
backend: string, 
/**
 * `mqtts://host:port` or `None` (off).
 */
mqtt: string | null, 
/**
 * Where it downloads its configuration from (`None`: off).
 */
remote: string | null, read_at_ms: number, 
/**
 * Settings Ruuvi Desk set that the gateway no longer has, by key.
 */
differs: Array<string>, };

export type LoginKind = "none" | "password" | "api_key";

export type DiscoverRequest = { 
/**
 * Browse mDNS (multicast on this computer's networks).
 */
mdns: boolean, mdns_seconds: number, 
/**
 * `a, b`, `192.168.1.10-40`, `host:port` (`GET /` only); empty: none.
 */
probe: string, };

export type FoundGateway = { 
/**
 * A simulated demo gateway's factory password, shown so a demo user can log in.
 */
demo_password: string | null, endpoint: Endpoint, 
/**
 * `RuuviGatewayXXXX` (mDNS instance / host name), when known.
 */
name: string | null, 
/**
 * The last four hex digits of the gateway's MAC (`XXXX` of its name).
 */
mac_suffix: string | null, found: Found, 
/**
 * The LAN auth mode as an unauthenticated `GET /status.json` reveals it:
 * `lan_auth_default or lan_auth_ruuvi` (a redirect), `lan_auth_basic`, `lan_auth_digest`,
 * `lan_auth_allow` or `lan_auth_deny`.
 */
lan_auth: string | null, 
/**
 * The firmware version, when the gateway shows it to strangers (≤ v1.17.3, in the auth JSON
 * of a 401/403).
 */
firmware: string | null, 
/**
 * `Ok(())` when it answered like a Ruuvi Gateway; otherwise why not.
 */
reachable: string | null, };

export type Found = "mdns" | "probe" | "manual";

export type Endpoint = { host: string, port: number, };

export type LoginRequest = { endpoint: string, 
/**
 * The LAN user (`Admin` from the factory).
 */
user: string, 
/**
 * Neither password nor API key: what the keychain remembers, else no credentials.
 */
password: string | null, api_key: string | null, 
/**
 * Keep the password or key in the keychain for the next login.
 */
remember: boolean, };

export type GatewayDetails = { endpoint: string, name: string | null, mac: string | null, firmware: string | null, lan_auth: string | null, http: HttpBackend, 
/**
 * The MQTT target as the gateway has it (its password is never shown).
 */
mqtt: Mqtt, 
/**
 * Bluetooth scanning as the gateway has it.
 */
scan: ScanProfile, 
/**
 * The gateway has a tag list (v1.14+).
 */
scan_list: boolean, 
/**
 * It has a read-only / read-write API key (their values are never shown).
 */
read_key: boolean, write_key: boolean, storage: Storage, 
/**
 * Where it downloads its configuration from (its token is never shown).
 */
remote: RemoteCfgState, 
/**
 * Where it looks for firmware releases (v1.15+).
 */
update_url: string | null, auto_update: AutoUpdateProfile, 
/**
 * Where it sends its statistics (the password is never shown).
 */
statistics: StatisticsState, 
/**
 * Its clock source and coordinates.
 */
time_place: TimePlaceProfile, remembered: boolean, };

export type HttpBackend = { ruuvi_cloud: boolean, custom: CustomServer | null, };

export type CustomServer = { url: string, data_format: string, 
/**
 * Absent before v1.15.
 */
period_s: number | null, auth: string, user: string | null, use_client_cert: boolean, use_server_cert: boolean, 
/**
 * The long-URL feature's switches (v1.17.2+; `None`: the firmware has none).
 */
extra: ExtraHttp | null, };

export type ExtraHttp = { path: boolean, query: boolean, headers: boolean, };

export type ScanProfile = { 
/**
 * Forward only advertisements with this manufacturer id; `None`: all manufacturers.
 */
company_filter: number | null, tags: TagFilter, 
/**
 * `None`: the firmware's defaults.
 */
radio: Radio | null, };

export type TagFilter = { "mode": "off" } | { "mode": "allow", "tags": Array<MacAddress> } | { "mode": "deny", "tags": Array<MacAddress> };

export type Radio = { 
/**
 * Long range (Coded PHY).
 */
coded_phy: boolean, phy_1m: boolean, 
/**
 * Extended advertisements on 2M (`scan_extended_payload` before v1.16).
 */
phy_2m: boolean, channel_37: boolean, channel_38: boolean, channel_39: boolean, };

export type KeyAction = "keep" | "generate" | "remove";

export type LanLoginForm = { 
/**
 * default, ruuvi, basic, digest, allow or deny.
 */
kind: string, user: string, 
/**
 * For ruuvi, basic and digest (kept in the keychain: Ruuvi Desk logs in with it).
 */
password: string | null, };

export type Storage = { ready: boolean, files: { [key in string]: boolean }, };

export type ProfileForm = { ruuvi_cloud: boolean, 
/**
 * `None`: the own server is switched off.
 */
own_server: OwnServerForm | null, };

export type OwnServerForm = { url: string, 
/**
 * ruuvi, ruuvi_raw_and_decoded or ruuvi_decoded.
 */
data_format: string, period_s: number, 
/**
 * none, basic, bearer, token or api_key.
 */
auth: string, user: string, 
/**
 * Empty or absent: the gateway keeps the secret it has.
 */
secret: string | null, client_cert: ClientCertChoice, server_ca: ServerCaChoice, 
/**
 * Appended to the URL as its path (v1.17.2+; empty: none).
 */
extra_path: string, 
/**
 * Appended as the query (v1.17.2+; empty: none).
 */
extra_query: string, 
/**
 * `Name: value` lines sent with every post (v1.17.2+; empty: none).
 */
extra_headers: string, };

export type ClientCertChoice = { "kind": "none" } | { "kind": "issue" } | { "kind": "pem", cert: string, key: string, };

export type ServerCaChoice = { "kind": "builtin" } | { "kind": "ours" } | { "kind": "pem", pem: string, };

export type MqttForm = { 
/**
 * `None`: MQTT is switched off.
 */
broker: MqttBrokerForm | null, };

export type MqttFeedSettings = { 
/**
 * `mqtt://host:port`, `mqtts://…`, `ws://…` or `wss://…`.
 */
broker: string, 
/**
 * A topic filter: the gateways' prefix followed by `#`.
 */
topic: string, 
/**
 * Its password is in the keychain (`mqtt-password/host:port:user`).
 */
user: string | null, 
/**
 * Ruuvi Desk's certificates: trust our CA for the broker and present our own client
 * certificate (a broker set up with Ruuvi Desk's CA).
 */
our_certificates: boolean, };

export type MqttSinkSettings = { broker: string, 
/**
 * `<prefix>/<sensor>` and `<prefix>/status`.
 */
prefix: string, 
/**
 * Publish Home Assistant discovery messages (prefix `homeassistant`).
 */
home_assistant: boolean, user: string | null, 
/**
 * As for the feed.
 */
our_certificates: boolean, };

export type Connections = { 
/**
 * The database in use (never with a password).
 */
storage: string, 
/**
 * Why the database in the settings is not the one in use.
 */
storage_problem: string | null, mqtt: MqttView, };

export type MqttView = { feed: FeedStatus | null, sink: SinkStatus | null, };

export type FeedStatus = { connected: boolean, observations: number, 
/**
 * Messages that were not a gateway's advertisement or state, or did not decode.
 */
rejected: number, 
/**
 * Retained data messages skipped on subscribing (old, not live).
 */
retained_skipped: number, last_error: string | null, 
/**
 * Gateways' `gw_status` (online or not), by gateway MAC once one of its advertisements
 * has named it (else by the topic prefix).
 */
gateways: { [key in string]: boolean }, };

export type SinkStatus = { connected: boolean, published: number, last_error: string | null, };

export type MqttBrokerForm = { 
/**
 * `mqtt://host:port`, `mqtts://…` (SSL), `ws://…` or `wss://…`.
 */
url: string, 
/**
 * Empty: the gateway's default `ruuvi/<GW MAC>/`.
 */
prefix: string, 
/**
 * Empty: the gateway's MAC.
 */
client_id: string, 
/**
 * ruuvi_raw, ruuvi_raw_and_decoded or ruuvi_decoded.
 */
data_format: string, 
/**
 * Seconds between sends; 0 = every advertisement at once.
 */
interval_s: number, retain: boolean, user: string, 
/**
 * Empty or absent: the gateway keeps the password it has.
 */
password: string | null, client_cert: ClientCertChoice, server_ca: ServerCaChoice, };

export type Mqtt = { use_mqtt: boolean, mqtt_transport: string, mqtt_server: string, mqtt_port: number, mqtt_data_format: string | null, mqtt_sending_interval: number | null, mqtt_prefix: string, mqtt_client_id: string, mqtt_user: string, mqtt_disable_retained_messages: boolean, };

export type Preview = { endpoint: string, changes: Array<Change>, 
/**
 * Files that would be uploaded to the gateway's certificate store.
 */
uploads: Array<string>, 
/**
 * Why it cannot be applied as it stands (empty: it can).
 */
problems: Array<string>, };

export type Change = { 
/**
 * The gateway's own key (`use_cloud`, `http_url`, …).
 */
key: string, 
/**
 * What its web page calls it.
 */
label: string, before: string, after: string, };

export type ApplyResult = { endpoint: string, mac: string | null, state: GatewayState, 
/**
 * What went wrong and what to do, when not applied.
 */
error: string | null, 
/**
 * The change can be undone ([`Backends::undo`]): what it replaced is kept.
 */
undoable: boolean, };

export type GatewayState = { "state": "unchanged" } | { "state": "applied" } | { "state": "rolled-back", lost: Array<string>, } | { "state": "partial", changed: Array<string>, };

export type StepEvent = { endpoint: string, 
/**
 * 0–100.
 */
percent: number, message: string, };

export type UrlCheck = { ok: boolean, 
/**
 * The HTTP status the gateway got (502: it could not connect).
 */
status: number, summary: string, };

export type RemoteCfgState = { on: boolean, url: string, 
/**
 * none, basic or bearer.
 */
auth: string, user: string, refresh_minutes: number, server_cert: boolean, client_cert: boolean, };

export type Areas = { http: ProfileForm | null, mqtt: MqttForm | null, scan: ScanProfile | null, time_place: TimePlaceProfile | null, auto_update: AutoUpdateProfile | null, statistics: StatisticsForm | null, };

export type TimePlaceProfile = { clock: Clock | null, 
/**
 * Copied into every data message (at most 63 characters); `""` clears it.
 */
coordinates: string | null, };

export type Clock = { "source": "off" } | { "source": "dhcp" } | { "source": "servers", "servers": Array<string> };

export type RemoteConfigView = { 
/**
 * The path below the receiver's address.
 */
path: string, files: Array<ServedFile>, 
/**
 * Newest first.
 */
fetches: Array<ConfigFetch>, };

export type ServedFile = { file: string, gateway: string, version: number, published_at_ms: number, 
/**
 * http, mqtt, scan, time_place.
 */
areas: Array<string>, };

export type ConfigFetch = { at_ms: number, peer: string, gateway: string | null, file: string, status: number, version: number | null, };

export type Published = { endpoint: string, file: string | null, version: number | null, error: string | null, };

export type FirmwareOffer = { endpoint: string, running: string | null, update_url: string | null, latest: Release | null, beta: Release | null, 
/**
 * The release it would update to (newer than what it runs), if any.
 */
newer: Release | null, };

export type Release = { version: string, 
/**
 * The folder with `ruuvi_gateway_esp.bin`, `fatfs_gwui.bin`, `fatfs_nrf52.bin`.
 */
url: string, created_at: string | null, };

export type UpdateResult = { endpoint: string, outcome: RolloutState, };

export type RolloutState = { "state": "updated", version: string, } | { "state": "failed", error: string, } | { "state": "skipped" };

export type AutoUpdateProfile = { 
/**
 * `regular` (releases), `beta` (betas too) or `manual` (never by itself).
 */
cycle: string, 
/**
 * Bit 0 = Sunday … bit 6 = Saturday.
 */
weekdays: number, 
/**
 * Hours of the day it may update in, `from` to `to` (0–24), in its time zone.
 */
from_hour: number, to_hour: number, tz_offset_hours: number, };

export type StatisticsState = { on: boolean, url: string, user: string, server_cert: boolean, client_cert: boolean, };

export type StatisticsForm = { 
/**
 * `None`: no statistics at all.
 */
target: StatisticsTargetForm | null, };

export type StatisticsTargetForm = { url: string, user: string, 
/**
 * Empty or absent: the gateway keeps the password it has.
 */
password: string | null, 
/**
 * Trust Ruuvi Desk's CA for the statistics server (else the built-in bundle).
 */
our_ca: boolean, };

export type Certificates = { 
/**
 * `None`: no CA yet (made on first use, or with "Create the CA").
 */
ca: CertSummary | null, 
/**
 * The CA certificate in PEM, to copy to a server of one's own.
 */
ca_pem: string | null, 
/**
 * The receiver's certificate (`None` until the receiver first ran).
 */
server: CertSummary | null, clients: Array<ClientSummary>, };

export type CertSummary = { subject: string, 
/**
 * DNS names and IP addresses.
 */
sans: Array<string>, 
/**
 * Unix seconds.
 */
not_after: number, 
/**
 * Negative: expired.
 */
days_left: number, 
/**
 * Within the rotation warning (30 days) or expired.
 */
renew_soon: boolean, fingerprint_sha256: string, };

export type ClientSummary = { gateway: MacAddress, 
/**
 * The certificate before the latest renewal (accepted until it expires).
 */
previous: boolean, subject: string, 
/**
 * DNS names and IP addresses.
 */
sans: Array<string>, 
/**
 * Unix seconds.
 */
not_after: number, 
/**
 * Negative: expired.
 */
days_left: number, 
/**
 * Within the rotation warning (30 days) or expired.
 */
renew_soon: boolean, fingerprint_sha256: string, };

export type AlertsView = { rules: Array<Rule>, history: Array<HistoryEntry>, unacknowledged: number, 
/**
 * Every alert type with the units its threshold may be given in (first = default).
 */
types: Array<TypeUnits>, };

export type TypeUnits = { alert_type: AlertType, units: Array<string>, };

export type Rule = { 
/**
 * Given by the store (0 before it is saved).
 */
id: number, sensor: MacAddress, 
/**
 * The sensor's name as the user calls it (`name` in the payload).
 */
name: string, alert_type: AlertType, trigger: TriggerType, 
/**
 * In `unit`; for noData the seconds without an observation.
 */
threshold: number, unit: string, 
/**
 * "Different from": how far from the threshold still counts as the same.
 */
tolerance: number, 
/**
 * How far back over the threshold a value must come before the alert can fire again.
 */
hysteresis: number, 
/**
 * Seconds after firing before the rule may fire again.
 */
cooldown_s: number, 
/**
 * The user's alert text (`alertData`; the notification body).
 */
text: string, enabled: boolean, };

export type AlertType = "Temperature" | "Humidity" | "Pressure" | "Movement" | "Voltage" | "RSSI" | "noData" | "CO2" | "PM1.0" | "PM2.5" | "PM4.0" | "PM10" | "VOC" | "NOx" | "Luminosity" | "Sound" | "DewPoint" | "AbsoluteHumidity";

export type TriggerType = "Over" | "Under" | "Different from";

export type HistoryEntry = { id: number, fired: Fired, acknowledged_at_ms: number | null, };

export type Fired = { rule_id: number, sensor: MacAddress, name: string, alert_type: AlertType, trigger: TriggerType, 
/**
 * In `unit`.
 */
current: number, threshold: number, unit: string, text: string, at_ms: number, };

export type ReceiverStatus = { 
/**
 * Where gateways post (`None`: the receiver is off).
 */
url: string | null, 
/**
 * Posts since the start by outcome (`stored`, `auth_failed`, …).
 */
posts: Array<OutcomeCount>, 
/**
 * Observations in stored posts since the start.
 */
observations: number, 
/**
 * Every gateway with a rule or a post, by MAC (unreadable ones last).
 */
gateways: Array<GatewayActivity>, };

export type OutcomeCount = { outcome: string, count: number, };

export type GatewayActivity = { 
/**
 * `None`: posts whose gateway could not be read.
 */
gateway: MacAddress | null, 
/**
 * Its rule in `receiver.json` (`None`: accepted as an unknown gateway, or refused).
 */
rule: GatewayEntry | null, 
/**
 * Its latest posts, newest first (at most 20).
 */
recent: Array<Received>, };

export type GatewayEntry = { 
/**
 * none, basic, bearer, token or api_key; the secret is `receiver-auth/<MAC>`.
 */
auth: string | null, user: string, require_client_cert: boolean, hmac: boolean, 
/**
 * Give the gateway a random HMAC key (`Ruuvi-HMAC-KEY`) instead of keeping its device id.
 */
rotate_hmac: boolean, 
/**
 * Seconds between posts (`X-Ruuvi-Gateway-Rate`).
 */
rate: number | null, };

export type Received = { at_ms: number, 
/**
 * The HTTP status answered.
 */
status: number, outcome: Outcome, 
/**
 * Header names that no gateway firmware sends by itself (lower case, at most
 * [`UNEXPECTED_HEADERS`]): e.g. lines the web page's "extra HTTP headers" added.
 */
unexpected_headers: Array<string>, };

export type Outcome = { "stored": { observations: number, } } | "auth_failed" | "client_cert_missing" | "client_cert_mismatch" | "bad_signature" | "bad_json" | "too_large" | "truncated" | "unknown_gateway" | "busy" | "store_failed" | "not_whitelisted" | "blocked" | "bad_timestamp" | "replay";

export type NoArgs = Record<symbol, never>;

export type HexArgs = { hex: string, };

export type SeriesArgs = { sensor: string, fromMs: number, toMs: number, points: number, };

export type SensorsArgs = { sensors: Array<string>, };

export type SensorArgs = { sensor: string, name: string | null, location: string | null, note: string | null, calibration: Calibration | null, };

export type RangeArgs = { sensor: string, fromMs: number, toMs: number, };

export type XlsxArgs = { sensors: Array<string>, fromMs: number, toMs: number, };

export type ImportArgs = { fileName: string, content: string, sensor: string | null, };

export type HistoryArgs = { sensor: string, sinceMs: number | null, };

export type OneSensorArgs = { sensor: string, };

export type PaintArgs = { cards: number, };

export type SettingsArgs = { settings: AppSettings, };

export type PasswordArgs = { target: string, password: string, };

export type ReceiverRuleArgs = { gateway: string, rule: GatewayEntry, secret: string | null, hmacKey: string | null, };

export type GatewayArgs = { gateway: string, };

export type AcceptArgs = { accept: boolean, };

export type WhitelistArgs = { gateway: string, secret: string, };

export type EndpointsArgs = { endpoints: Array<string>, };

export type DiscoverArgs = { request: DiscoverRequest, };

export type LoginArgs = { request: LoginRequest, };

export type EndpointArgs = { endpoint: string, };

export type PreviewArgs = { endpoint: string, form: ProfileForm, };

export type AreasPreviewArgs = { endpoint: string, areas: Areas, };

export type ApplyArgs = { endpoints: Array<string>, form: ProfileForm, };

export type ApplyMqttArgs = { endpoints: Array<string>, form: MqttForm, };

export type ApplyScanArgs = { endpoints: Array<string>, scan: ScanProfile, };

export type LanAccessArgs = { endpoints: Array<string>, login: LanLoginForm | null, readKey: KeyAction, writeKey: KeyAction, };

export type CheckUrlArgs = { endpoint: string, server: OwnServerForm, };

export type CheckMqttArgs = { endpoint: string, broker: MqttBrokerForm, };

export type PollArgs = { endpoint: string, intervalS: number, user: string | null, secret: string | null, };

export type UpdateUrlArgs = { endpoint: string, url: string, };

export type UpdateArgs = { endpoints: Array<string>, release: string, atATime: number, };

export type AutoUpdateArgs = { endpoints: Array<string>, schedule: AutoUpdateProfile, };

export type TimePlaceArgs = { endpoints: Array<string>, timePlace: TimePlaceProfile, };

export type StatisticsArgs = { endpoints: Array<string>, form: StatisticsForm, };

export type RemoteServeArgs = { endpoints: Array<string>, refreshMinutes: number, };

export type RemotePublishArgs = { endpoints: Array<string>, areas: Areas, };

export type RuleArgs = { rule: Rule, };

export type IdArgs = { id: number, };

/** Every command: its arguments and its reply. */
export interface Commands {
  app_info: { args: NoArgs; reply: AppInfo };
  ble_status: { args: NoArgs; reply: BleStatusReply };
  dashboard: { args: NoArgs; reply: Dashboard };
  demo_start: { args: NoArgs; reply: Dashboard };
  demo_stop: { args: NoArgs; reply: Dashboard };
  decode_advertisement: { args: HexArgs; reply: Measurement };
  series: { args: SeriesArgs; reply: Series };
  sparklines: { args: SensorsArgs; reply: Array<Sparkline> };
  sensors: { args: NoArgs; reply: Array<SensorProfile> };
  sensor_save: { args: SensorArgs; reply: SensorProfile };
  export_csv: { args: RangeArgs; reply: string };
  export_xlsx: { args: XlsxArgs; reply: string };
  import_history: { args: ImportArgs; reply: ImportReply };
  ble_history: { args: HistoryArgs; reply: HistoryReport };
  ble_history_cancel: { args: OneSensorArgs; reply: boolean };
  first_paint: { args: PaintArgs; reply: null };
  app_settings: { args: NoArgs; reply: AppSettings };
  set_app_settings: { args: SettingsArgs; reply: AppSettings };
  connections: { args: NoArgs; reply: Connections };
  save_password: { args: PasswordArgs; reply: null };
  receiver_status: { args: NoArgs; reply: ReceiverStatus };
  receiver_start: { args: NoArgs; reply: ReceiverStatus };
  receiver_rules: { args: NoArgs; reply: ReceiverRules };
  receiver_rule_save: { args: ReceiverRuleArgs; reply: ReceiverRules };
  receiver_rule_remove: { args: GatewayArgs; reply: ReceiverRules };
  receiver_accept_unknown: { args: AcceptArgs; reply: ReceiverRules };
  network_view: { args: NoArgs; reply: NetworkView };
  network_whitelist: { args: WhitelistArgs; reply: NetworkView };
  network_block: { args: GatewayArgs; reply: NetworkView };
  gateways_list: { args: NoArgs; reply: Array<ListedGateway> };
  gateways_read: { args: EndpointsArgs; reply: Array<ListedGateway> };
  gateways_known: { args: NoArgs; reply: Array<KnownGateway> };
  gateways_discover: { args: DiscoverArgs; reply: Array<FoundGateway> };
  gateways_login: { args: LoginArgs; reply: GatewayDetails };
  gateways_forget: { args: EndpointArgs; reply: boolean };
  gateways_details: { args: EndpointArgs; reply: GatewayDetails };
  gateways_preview: { args: PreviewArgs; reply: Preview };
  gateways_preview_areas: { args: AreasPreviewArgs; reply: Preview };
  gateways_apply: { args: ApplyArgs; reply: Array<ApplyResult> };
  gateways_apply_mqtt: { args: ApplyMqttArgs; reply: Array<ApplyResult> };
  gateways_apply_scan: { args: ApplyScanArgs; reply: Array<ApplyResult> };
  gateways_undo: { args: EndpointArgs; reply: ApplyResult };
  gateways_lan_access: { args: LanAccessArgs; reply: Array<ApplyResult> };
  gateways_check_url: { args: CheckUrlArgs; reply: UrlCheck };
  gateways_check_mqtt: { args: CheckMqttArgs; reply: UrlCheck };
  gateways_send_here: { args: EndpointArgs; reply: ApplyResult };
  gateways_poll: { args: PollArgs; reply: PollStatus };
  gateways_unpoll: { args: EndpointArgs; reply: boolean };
  gateways_polls: { args: NoArgs; reply: Array<PollStatus> };
  gateways_firmware: { args: EndpointArgs; reply: FirmwareOffer };
  gateways_set_update_url: { args: UpdateUrlArgs; reply: null };
  gateways_update: { args: UpdateArgs; reply: Array<UpdateResult> };
  gateways_apply_auto_update: { args: AutoUpdateArgs; reply: Array<ApplyResult> };
  gateways_apply_time: { args: TimePlaceArgs; reply: Array<ApplyResult> };
  gateways_apply_statistics: { args: StatisticsArgs; reply: Array<ApplyResult> };
  remote_config: { args: NoArgs; reply: RemoteConfigView };
  remote_config_serve: { args: RemoteServeArgs; reply: Array<ApplyResult> };
  remote_config_stop: { args: EndpointsArgs; reply: Array<ApplyResult> };
  remote_config_publish: { args: RemotePublishArgs; reply: Array<Published> };
  remote_config_fetch_now: { args: EndpointArgs; reply: UrlCheck };
  certificates: { args: NoArgs; reply: Certificates };
  certificates_create_ca: { args: NoArgs; reply: Certificates };
  certificates_renew: { args: GatewayArgs; reply: string };
  certificates_revoke: { args: GatewayArgs; reply: boolean };
  alerts: { args: NoArgs; reply: AlertsView };
  alerts_save: { args: RuleArgs; reply: Rule };
  alerts_remove: { args: IdArgs; reply: boolean };
  alerts_acknowledge: { args: IdArgs; reply: boolean };
  alerts_test: { args: IdArgs; reply: null };
}
