// The one interface the UI uses to reach the Rust core. The Tauri implementation calls
// commands over IPC; tests pass their own implementation of the same interface.
import { invoke } from '@tauri-apps/api/core';
import { listen } from '@tauri-apps/api/event';

export interface AppInfo {
  name: string;
  version: string;
}

/** A decoded measurement with the gateway's key names (`dataFormat`, `temperature`, ...). */
export type Measurement = Record<string, unknown>;

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

/** This computer's Bluetooth (`ble_status`): scanning, or why not and what to do. */
export type BleStatus =
  | { state: 'starting'; message: string }
  | { state: 'scanning'; adapter: string; message: string }
  | {
      state: 'unavailable';
      kind: 'no_stack' | 'no_adapter' | 'adapter_off' | 'permission_denied' | 'failed';
      reason: string;
      hint: string;
      message: string;
    };

/** Physical values of one measurement (SI-ish units, `null` when the format has none). */
export interface Readings {
  temperature_c: number | null;
  humidity_pct: number | null;
  pressure_pa: number | null;
  battery_v: number | null;
  co2_ppm: number | null;
  pm2_5: number | null;
  voc_index: number | null;
  nox_index: number | null;
  luminosity_lux: number | null;
  movement_counter: number | null;
  measurement_sequence: number | null;
  [key: string]: unknown;
}

/** One sensor on the dashboard (`ruuvi_dashboard::SensorCard`). */
export interface SensorCard {
  sensor: string;
  kind: 'ruuvi_tag' | 'ruuvi_air';
  format: string | null;
  /** "Bluetooth", "gateway C8:…" */
  source: string;
  last_seen_ms: number;
  rssi: number | null;
  readings: Readings;
  derived: { dewPoint: number | null; iaqs: number | null; [key: string]: number | null };
}

/** One chart point (`ruuvi_dashboard::Point`). */
export interface Point {
  at_ms: number;
  readings: Readings;
}

export interface Series {
  sensor: string;
  points: Point[];
}

export interface Dashboard {
  /** Simulated gateways feed it: label the data as demo data. */
  demo: boolean;
  cards: SensorCard[];
}

/** The HTTP backend as a gateway reports it (`ruuvi_gateway::HttpBackend`). */
export interface HttpBackend {
  ruuvi_cloud: boolean;
  custom: {
    url: string;
    data_format: string;
    period_s: number | null;
    auth: string;
    user: string | null;
    use_client_cert: boolean;
    use_server_cert: boolean;
  } | null;
}

export interface OwnServerForm {
  url: string;
  data_format: string;
  period_s: number;
  auth: string;
  user: string;
  /** null: the gateway keeps the secret it has. */
  secret: string | null;
  client_cert: { kind: 'none' } | { kind: 'issue' } | { kind: 'pem'; cert: string; key: string };
  server_ca: { kind: 'builtin' } | { kind: 'ours' } | { kind: 'pem'; pem: string };
}

/** The backend form (`ruuvi_setup::ProfileForm`). */
export interface ProfileForm {
  ruuvi_cloud: boolean;
  own_server: OwnServerForm | null;
}

/** A gateway the user added (`ruuvi_setup::SavedGateway`). */
export interface SavedGateway {
  endpoint: string;
  name: string | null;
  mac: string | null;
  firmware: string | null;
  user: string;
  login: 'none' | 'password' | 'api_key';
  remembered: boolean;
  last_change: string | null;
  logged_in: boolean;
}

/** A gateway found on the network (`ruuvi_gateway::discovery::Discovered`). */
export interface Discovered {
  endpoint: { host: string; port: number };
  name: string | null;
  mac_suffix: string | null;
  found: 'mdns' | 'probe' | 'manual';
  lan_auth: string | null;
  firmware: string | null;
  /** null when it answered like a Ruuvi Gateway; else why not. */
  reachable: string | null;
  /** A simulated demo gateway's factory password. */
  demo_password: string | null;
}

export interface LoginRequest {
  endpoint: string;
  user: string;
  password?: string;
  api_key?: string;
  remember: boolean;
}

export interface GatewayDetails {
  endpoint: string;
  name: string | null;
  mac: string | null;
  firmware: string | null;
  lan_auth: string | null;
  http: HttpBackend;
  storage: { ready: boolean; files: Record<string, boolean> };
  remembered: boolean;
}

export interface Change {
  key: string;
  label: string;
  before: string;
  after: string;
}

export interface Preview {
  endpoint: string;
  changes: Change[];
  uploads: string[];
  problems: string[];
}

export type GatewayState =
  | { state: 'unchanged' }
  | { state: 'applied' }
  | { state: 'rolled-back'; lost: string[] }
  | { state: 'partial'; changed: string[] };

export interface ApplyResult {
  endpoint: string;
  mac: string | null;
  state: GatewayState;
  error: string | null;
}

export interface StepEvent {
  endpoint: string;
  percent: number;
  message: string;
}

export interface UrlCheck {
  ok: boolean;
  status: number;
  summary: string;
}

/** The Gateways page's calls (`ruuvi_setup::Setup`). */
export interface GatewaysApi {
  list(): Promise<SavedGateway[]>;
  discover(request: { mdns: boolean; probe: string }): Promise<Discovered[]>;
  login(request: LoginRequest): Promise<GatewayDetails>;
  forget(endpoint: string): Promise<boolean>;
  /** A logged-in gateway's settings as last read (no request to the gateway). */
  details(endpoint: string): Promise<GatewayDetails>;
  preview(endpoint: string, form: ProfileForm): Promise<Preview>;
  apply(endpoints: string[], form: ProfileForm): Promise<ApplyResult[]>;
  checkUrl(endpoint: string, server: OwnServerForm): Promise<UrlCheck>;
  sendHere(endpoint: string): Promise<ApplyResult>;
  /** Calls `onStep` for every step of a change in progress until the returned function is called. */
  onStep(onStep: (e: StepEvent) => void): () => void;
}

export interface Backend {
  gateways: GatewaysApi;
  appInfo(): Promise<AppInfo>;
  decode(hex: string): Promise<Measurement>;
  bleStatus(): Promise<BleStatus>;
  dashboard(): Promise<Dashboard>;
  /** A sensor's history in [fromMs, toMs), thinned to at most `points`. */
  series(sensor: string, fromMs: number, toMs: number, points: number): Promise<Series>;
  /** The first dashboard is on screen (the app logs the time since its start). */
  painted?(cards: number): void;
  /** Calls `onCard` for every new observation until the returned function is called. */
  subscribe(onCard: (card: SensorCard) => void): () => void;
}

export function asBackendError(e: unknown): BackendError {
  if (e && typeof e === 'object' && 'code' in e && 'message' in e) {
    return new BackendError(String(e.code), String(e.message));
  }
  return new BackendError('ipc', String(e));
}

async function call<T>(cmd: string, args?: Record<string, unknown>): Promise<T> {
  try {
    return await invoke<T>(cmd, args);
  } catch (e) {
    throw asBackendError(e);
  }
}

function listenTo<T>(event: string, handler: (payload: T) => void): () => void {
  let stop: (() => void) | null = null;
  let stopped = false;
  listen<T>(event, (e) => handler(e.payload)).then((unlisten) => {
    if (stopped) unlisten();
    else stop = unlisten;
  });
  return () => {
    stopped = true;
    stop?.();
  };
}

const tauriGateways: GatewaysApi = {
  list: () => call<SavedGateway[]>('gateways_list'),
  discover: (request) => call<Discovered[]>('gateways_discover', { request }),
  login: (request) => call<GatewayDetails>('gateways_login', { request }),
  forget: (endpoint) => call<boolean>('gateways_forget', { endpoint }),
  details: (endpoint) => call<GatewayDetails>('gateways_details', { endpoint }),
  preview: (endpoint, form) => call<Preview>('gateways_preview', { endpoint, form }),
  apply: (endpoints, form) => call<ApplyResult[]>('gateways_apply', { endpoints, form }),
  checkUrl: (endpoint, server) => call<UrlCheck>('gateways_check_url', { endpoint, server }),
  sendHere: (endpoint) => call<ApplyResult>('gateways_send_here', { endpoint }),
  onStep: (onStep) => listenTo<StepEvent>('gateway-step', onStep),
};

export const tauriBackend: Backend = {
  gateways: tauriGateways,
  appInfo: () => call<AppInfo>('app_info'),
  decode: (hex: string) => call<Measurement>('decode_advertisement', { hex }),
  bleStatus: () => call<BleStatus>('ble_status'),
  dashboard: () => call<Dashboard>('dashboard'),
  series: (sensor, fromMs, toMs, points) => call<Series>('series', { sensor, fromMs, toMs, points }),
  subscribe: (onCard) => listenTo<SensorCard>('card', onCard),
  painted: (cards) => void call('first_paint', { cards }).catch(() => {}),
};
