// The one interface the UI uses to reach the Rust core, built once over a transport: the
// window's IPC bridge (Tauri) or `ruuvictl serve --ui`'s HTTP + WebSocket (httpBackend.ts).
// Both reach the same command table (ruuvi_app::api), typed by `Commands` in bindings.ts.
// Tests pass their own implementation of the same interface.
import { invoke } from '@tauri-apps/api/core';
import { listen } from '@tauri-apps/api/event';
import type {
  AlertsView,
  Commands,
  HistoryEntry,
  Rule,
  AppInfo,
  AppSettings,
  ApplyResult,
  BleStatusReply,
  Certificates,
  Connections,
  Dashboard,
  FoundGateway,
  GatewayDetails,
  ImportReply,
  KnownGateway,
  ListedGateway,
  LoginRequest,
  Measurement,
  KeyAction,
  LanLoginForm,
  MqttBrokerForm,
  MqttForm,
  ScanProfile,
  OwnServerForm,
  PollStatus,
  Preview,
  ProfileForm,
  Published,
  AutoUpdateProfile,
  FirmwareOffer,
  StatisticsForm,
  TimePlaceProfile,
  UpdateResult,
  Areas,
  RemoteConfigView,
  ReceiverStatus,
  ReceiverRules,
  GatewayEntry,
  NetworkView,
  SensorArgs,
  SensorCard,
  HistoryReport,
  DownloadProgress,
  SensorProfile,
  Series,
  Sparkline,
  StepEvent,
  UrlCheck,
} from './bindings';

/** Every area, the ones not given as `null` (left as each gateway has them). */
export function allAreas(given: Partial<Areas>): Areas {
  return { http: null, mqtt: null, scan: null, time_place: null, auto_update: null, statistics: null, ...given };
}

/** Errors from the backend carry a stable `code`; branch on it, never on the message. */
export class BackendError extends Error {
  constructor(
    public readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'BackendError';
  }
}


// The IPC types are generated from the Rust types (bindings.ts); the UI imports them from here.
export type * from './bindings';

/** This computer's Bluetooth (`ble_status`): scanning, or why not and what to do. */
export type BleStatus = BleStatusReply;
/** Whose password `savePassword` keeps. */
export type PasswordTarget = 'store' | 'mqtt_feed' | 'mqtt_sink';

/** The Gateways page's calls (`ruuvi_setup::Setup`). */
export interface GatewaysApi {
  list(): Promise<ListedGateway[]>;
  /** Every gateway known by any path (added, posting here, MQTT, polled, demo). */
  known(): Promise<KnownGateway[]>;
  /** Reads these logged-in gateways' settings again; the list as it is then. */
  read(endpoints: string[]): Promise<ListedGateway[]>;
  discover(request: { mdns: boolean; mdns_seconds: number; probe: string }): Promise<FoundGateway[]>;
  login(request: LoginRequest): Promise<GatewayDetails>;
  forget(endpoint: string): Promise<boolean>;
  /** A logged-in gateway's settings as last read (no request to the gateway). */
  details(endpoint: string): Promise<GatewayDetails>;
  preview(endpoint: string, form: ProfileForm): Promise<Preview>;
  apply(endpoints: string[], form: ProfileForm): Promise<ApplyResult[]>;
  /** Sets (or switches off) the MQTT target, like `apply`. */
  applyMqtt(endpoints: string[], form: MqttForm): Promise<ApplyResult[]>;
  /** Sets Bluetooth scanning, like `apply`; each gateway's previous scanning is kept. */
  applyScan(endpoints: string[], scan: ScanProfile): Promise<ApplyResult[]>;
  /** Puts back what the last undoable change on a gateway replaced. */
  undo(endpoint: string): Promise<ApplyResult>;
  /** New (or no) API keys; a new read-write key is what Ruuvi Desk logs in with afterwards. */
  lanAccess(endpoints: string[], login: LanLoginForm | null, readKey: KeyAction, writeKey: KeyAction): Promise<ApplyResult[]>;
  checkUrl(endpoint: string, server: OwnServerForm): Promise<UrlCheck>;
  /** The gateway connects to the broker itself (its saved password when none is given). */
  checkMqtt(endpoint: string, broker: MqttBrokerForm): Promise<UrlCheck>;
  sendHere(endpoint: string): Promise<ApplyResult>;
  /** Reads a gateway through its `/history` without changing it (read-only API key, or a
   * user and password, or nothing); the secret goes to the keychain. */
  poll(request: { endpoint: string; intervalS: number; user: string | null; secret: string | null }): Promise<PollStatus>;
  unpoll(endpoint: string): Promise<boolean>;
  /** The polled gateways and how each feed is doing. */
  polls(): Promise<PollStatus[]>;
  /** What the gateway runs and what its update server offers (the gateway asks: up to 40 s). */
  firmware(endpoint: string): Promise<FirmwareOffer>;
  setUpdateUrl(endpoint: string, url: string): Promise<void>;
  /** A rolling update, `atATime` at once; progress arrives through `onStep`. */
  update(endpoints: string[], release: string, atATime: number): Promise<UpdateResult[]>;
  applyAutoUpdate(endpoints: string[], schedule: AutoUpdateProfile): Promise<ApplyResult[]>;
  applyTime(endpoints: string[], timePlace: TimePlaceProfile): Promise<ApplyResult[]>;
  applyStatistics(endpoints: string[], form: StatisticsForm): Promise<ApplyResult[]>;
  /** The remote configuration this computer serves, and who downloaded which version when. */
  remoteConfig(): Promise<RemoteConfigView>;
  /** Sets gateways to download their settings from this computer every `refreshMinutes`. */
  remoteServe(endpoints: string[], refreshMinutes: number): Promise<ApplyResult[]>;
  remoteStop(endpoints: string[]): Promise<ApplyResult[]>;
  /** Publishes areas as each gateway's document (over what it was offered before). */
  remotePublish(endpoints: string[], areas: Partial<Areas>): Promise<Published[]>;
  /** What these areas would change on the gateway as last read (nothing is sent to it). */
  previewAreas(endpoint: string, areas: Partial<Areas>): Promise<Preview>;
  /** The gateway downloads and applies its document now. */
  remoteFetchNow(endpoint: string): Promise<UrlCheck>;
  /** Calls `onStep` for every step of a change in progress until the returned function is called. */
  onStep(onStep: (e: StepEvent) => void): () => void;
}

/** Alert rules and the alerts that fired (the Alerts page and the banner). */
export interface AlertsApi {
  view(): Promise<AlertsView>;
  /** A new rule when its id is 0; checked by the backend. */
  save(rule: Rule): Promise<Rule>;
  remove(id: number): Promise<boolean>;
  acknowledge(historyId: number): Promise<boolean>;
  /** Fires the rule's alert now through every delivery. */
  test(id: number): Promise<void>;
  /** Calls `onAlert` for every alert that fires until the returned function is called. */
  onAlert(onAlert: (e: HistoryEntry) => void): () => void;
}

/** This computer's receiver (the Receiver page). */
export interface ReceiverApi {
  status(): Promise<ReceiverStatus>;
  /** Turns it on (HTTPS; certificates made on first use). */
  start(): Promise<ReceiverStatus>;
  /** Each gateway's rule, and whether gateways without one are accepted. */
  rules(): Promise<ReceiverRules>;
  /** Sets a gateway's rule; `secret`/`hmacKey` go to the keychain (`null`: keep). */
  saveRule(gateway: string, rule: GatewayEntry, secret: string | null, hmacKey: string | null): Promise<ReceiverRules>;
  removeRule(gateway: string): Promise<ReceiverRules>;
  acceptUnknown(accept: boolean): Promise<ReceiverRules>;
}

/** Ruuvi Desk's CA and the certificates it issued (the Certificates page). */
export interface CertificatesApi {
  list(): Promise<Certificates>;
  createCa(): Promise<Certificates>;
  /** A new client certificate for the gateway; says what was done. */
  renew(gateway: string): Promise<string>;
  revoke(gateway: string): Promise<boolean>;
}

/** Each sensor's name, location, note and calibration, and the cards' trends. */
export interface SensorsApi {
  list(): Promise<SensorProfile[]>;
  /** Changes what `change` gives (a `null` field is left as it is); checked by the backend. */
  save(change: SensorArgs): Promise<SensorProfile>;
  /** The last 24 hours' hourly mean temperatures of these sensors (at most 200). */
  sparklines(sensors: string[]): Promise<Sparkline[]>;
  /** Downloads a Bluetooth sensor's own log from `sinceMs` (its whole log when `null`) into the
   * store; progress arrives through `onDownload`. */
  downloadHistory(sensor: string, sinceMs: number | null): Promise<HistoryReport>;
  /** Stops a download under way (what arrived is stored); false when none runs. */
  cancelDownload(sensor: string): Promise<boolean>;
  /** Calls `onDownload` for every step of a download until the returned function is called. */
  onDownload(onDownload: (p: DownloadProgress) => void): () => void;
}

/** The Ruuvi Network Internal API (the Ruuvi Network page). */
export interface NetworkApi {
  view(): Promise<NetworkView>;
  /** `secret`: the gateway's device id followed by its device address. */
  whitelist(gateway: string, secret: string): Promise<NetworkView>;
  block(gateway: string): Promise<NetworkView>;
}

export interface Backend {
  alerts: AlertsApi;
  network: NetworkApi;
  sensors: SensorsApi;
  gateways: GatewaysApi;
  certificates: CertificatesApi;
  receiver: ReceiverApi;
  appInfo(): Promise<AppInfo>;
  /** Settings kept with the data: Bluetooth on/off, how long history is kept. */
  appSettings(): Promise<AppSettings>;
  setAppSettings(settings: AppSettings): Promise<AppSettings>;
  /** The database in use and what the MQTT feed and sink are doing. */
  connections(): Promise<Connections>;
  /** Puts a password for a server named in the settings into the keychain. */
  savePassword(target: PasswordTarget, password: string): Promise<void>;
  decode(hex: string): Promise<Measurement>;
  bleStatus(): Promise<BleStatus>;
  dashboard(): Promise<Dashboard>;
  /** Starts the demo gateways (the first-run guide); the dashboard as it is then. */
  startDemo(): Promise<Dashboard>;
  stopDemo(): Promise<Dashboard>;
  /** A sensor's history in [fromMs, toMs) as CSV: saved (the app) or downloaded (a browser).
   * Says where it went. */
  exportCsv(sensor: string, fromMs: number, toMs: number): Promise<string>;
  /** Sensors' history (none: every sensor) in [fromMs, toMs) as an Excel workbook, a sheet
   * per sensor: saved or downloaded like `exportCsv`. */
  exportXlsx(sensors: string[], fromMs: number, toMs: number): Promise<string>;
  /** A file's history into the store: our CSV or JSON-lines export, or a Ruuvi Station CSV
   * export (`sensor`: its MAC, when the file name does not start with it). */
  importHistory(fileName: string, content: string, sensor: string | null): Promise<ImportReply>;
  /** A sensor's history in [fromMs, toMs), thinned to at most `points`. */
  series(sensor: string, fromMs: number, toMs: number, points: number): Promise<Series>;
  /** The first dashboard is on screen (the app logs the time since its start). */
  painted?(cards: number): void;
  /** Calls `onCard` for every new observation until the returned function is called. */
  subscribe(onCard: (card: SensorCard) => void): () => void;
  /** How moving a store written by an earlier version goes (the app, while it starts). */
  onMigration(onProgress: (m: MigrationProgress) => void): () => void;
}

/** Rows of an earlier version's store moved to this version's layout, of all. */
export interface MigrationProgress {
  done: number;
  total: number;
}

/** What went wrong, for people: the backend's message, or the error as text. */
export function errorText(e: unknown): string {
  return e instanceof BackendError ? e.message : String(e);
}

/** The error with its code (`unknown` when it did not come from the backend). */
export function errorWithCode(e: unknown): { code: string; message: string } {
  return e instanceof BackendError ? { code: e.code, message: e.message } : { code: 'unknown', message: String(e) };
}

export function asBackendError(e: unknown): BackendError {
  if (e && typeof e === 'object' && 'code' in e && 'message' in e) {
    return new BackendError(String(e.code), String(e.message));
  }
  return new BackendError('ipc', String(e));
}

/** How commands and events travel: the window's IPC bridge, or HTTP + WebSocket. */
export interface Transport {
  /** Runs a command of the table; rejects with a BackendError. */
  call(command: string, args: Record<string, unknown>): Promise<unknown>;
  /** Calls `handler` for every event named `event` (`card`, `step`, `alert`) until stopped. */
  listen(event: string, handler: (payload: unknown) => void): () => void;
}

/** The Backend over a transport, each call typed by the command table. */
export function backendOver(transport: Transport): Backend {
  const call = <K extends keyof Commands>(command: K, args: Commands[K]['args']) =>
    transport.call(command, args as Record<string, unknown>) as Promise<Commands[K]['reply']>;
  const on = <T>(event: string, handler: (payload: T) => void) =>
    transport.listen(event, (p) => handler(p as T));
  return {
    alerts: {
      view: () => call('alerts', {}),
      save: (rule) => call('alerts_save', { rule }),
      remove: (id) => call('alerts_remove', { id }),
      acknowledge: (id) => call('alerts_acknowledge', { id }),
      test: async (id) => void (await call('alerts_test', { id })),
      onAlert: (onAlert) => on<HistoryEntry>('alert', onAlert),
    },
    network: {
      view: () => call('network_view', {}),
      whitelist: (gateway, secret) => call('network_whitelist', { gateway, secret }),
      block: (gateway) => call('network_block', { gateway }),
    },
    sensors: {
      list: () => call('sensors', {}),
      save: (change) => call('sensor_save', change),
      sparklines: (sensors) => call('sparklines', { sensors }),
      downloadHistory: (sensor, sinceMs) => call('ble_history', { sensor, sinceMs }),
      cancelDownload: (sensor) => call('ble_history_cancel', { sensor }),
      onDownload: (onDownload) => on<DownloadProgress>('download', onDownload),
    },
    gateways: {
      list: () => call('gateways_list', {}),
      read: (endpoints) => call('gateways_read', { endpoints }),
      known: () => call('gateways_known', {}),
      discover: (request) => call('gateways_discover', { request }),
      login: (request) => call('gateways_login', { request }),
      forget: (endpoint) => call('gateways_forget', { endpoint }),
      details: (endpoint) => call('gateways_details', { endpoint }),
      preview: (endpoint, form) => call('gateways_preview', { endpoint, form }),
      apply: (endpoints, form) => call('gateways_apply', { endpoints, form }),
      applyMqtt: (endpoints, form) => call('gateways_apply_mqtt', { endpoints, form }),
      applyScan: (endpoints, scan) => call('gateways_apply_scan', { endpoints, scan }),
      undo: (endpoint) => call('gateways_undo', { endpoint }),
      lanAccess: (endpoints, login, readKey, writeKey) => call('gateways_lan_access', { endpoints, login, readKey, writeKey }),
      checkUrl: (endpoint, server) => call('gateways_check_url', { endpoint, server }),
      checkMqtt: (endpoint, broker) => call('gateways_check_mqtt', { endpoint, broker }),
      sendHere: (endpoint) => call('gateways_send_here', { endpoint }),
      poll: (request) => call('gateways_poll', request),
      unpoll: (endpoint) => call('gateways_unpoll', { endpoint }),
      polls: () => call('gateways_polls', {}),
      firmware: (endpoint) => call('gateways_firmware', { endpoint }),
      setUpdateUrl: async (endpoint, url) => void (await call('gateways_set_update_url', { endpoint, url })),
      update: (endpoints, release, atATime) => call('gateways_update', { endpoints, release, atATime }),
      applyAutoUpdate: (endpoints, schedule) => call('gateways_apply_auto_update', { endpoints, schedule }),
      applyTime: (endpoints, timePlace) => call('gateways_apply_time', { endpoints, timePlace }),
      applyStatistics: (endpoints, form) => call('gateways_apply_statistics', { endpoints, form }),
      remoteConfig: () => call('remote_config', {}),
      remoteServe: (endpoints, refreshMinutes) => call('remote_config_serve', { endpoints, refreshMinutes }),
      remoteStop: (endpoints) => call('remote_config_stop', { endpoints }),
      remotePublish: (endpoints, areas) => call('remote_config_publish', { endpoints, areas: allAreas(areas) }),
      previewAreas: (endpoint, areas) => call('gateways_preview_areas', { endpoint, areas: allAreas(areas) }),
      remoteFetchNow: (endpoint) => call('remote_config_fetch_now', { endpoint }),
      onStep: (onStep) => on<StepEvent>('step', onStep),
    },
    certificates: {
      list: () => call('certificates', {}),
      createCa: () => call('certificates_create_ca', {}),
      renew: (gateway) => call('certificates_renew', { gateway }),
      revoke: (gateway) => call('certificates_revoke', { gateway }),
    },
    receiver: {
      status: () => call('receiver_status', {}),
      start: () => call('receiver_start', {}),
      rules: () => call('receiver_rules', {}),
      saveRule: (gateway, rule, secret, hmacKey) => call('receiver_rule_save', { gateway, rule, secret, hmacKey }),
      removeRule: (gateway) => call('receiver_rule_remove', { gateway }),
      acceptUnknown: (accept) => call('receiver_accept_unknown', { accept }),
    },
    appInfo: () => call('app_info', {}),
    appSettings: () => call('app_settings', {}),
    setAppSettings: (settings) => call('set_app_settings', { settings }),
    connections: () => call('connections', {}),
    savePassword: async (target, password) => void (await call('save_password', { target, password })),
    decode: (hex) => call('decode_advertisement', { hex }),
    bleStatus: () => call('ble_status', {}),
    dashboard: () => call('dashboard', {}),
    startDemo: () => call('demo_start', {}),
    stopDemo: () => call('demo_stop', {}),
    series: (sensor, fromMs, toMs, points) => call('series', { sensor, fromMs, toMs, points }),
    exportCsv: (sensor, fromMs, toMs) => call('export_csv', { sensor, fromMs, toMs }),
    exportXlsx: (sensors, fromMs, toMs) => call('export_xlsx', { sensors, fromMs, toMs }),
    importHistory: (fileName, content, sensor) => call('import_history', { fileName, content, sensor }),
    subscribe: (onCard) => on<SensorCard>('card', onCard),
    onMigration: (onProgress) => on<MigrationProgress>('migration', onProgress),
    painted: (cards) => void call('first_paint', { cards }).catch(() => {}),
  };
}

/** The window's transport: the one IPC command `api` and Tauri events. */
const tauriTransport: Transport = {
  async call(command, args) {
    try {
      return await invoke('api', { command, args });
    } catch (e) {
      throw asBackendError(e);
    }
  },
  listen(event, handler) {
    let stop: (() => void) | null = null;
    let stopped = false;
    listen(event, (e) => handler(e.payload)).then((unlisten) => {
      if (stopped) unlisten();
      else stop = unlisten;
    });
    return () => {
      stopped = true;
      stop?.();
    };
  },
};

export const tauriBackend: Backend = backendOver(tauriTransport);
