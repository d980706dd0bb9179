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

export interface Backend {
  appInfo(): Promise<AppInfo>;
  decode(hex: string): Promise<Measurement>;
  bleStatus(): Promise<BleStatus>;
  dashboard(): Promise<Dashboard>;
  /** A sensor's history in [fromMs, toMs), thinned to at most `points`. */
  series(sensor: string, fromMs: number, toMs: number, points: number): Promise<Series>;
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

export const tauriBackend: Backend = {
  appInfo: () => call<AppInfo>('app_info'),
  decode: (hex: string) => call<Measurement>('decode_advertisement', { hex }),
  bleStatus: () => call<BleStatus>('ble_status'),
  dashboard: () => call<Dashboard>('dashboard'),
  series: (sensor, fromMs, toMs, points) => call<Series>('series', { sensor, fromMs, toMs, points }),
  subscribe(onCard) {
    let stop: (() => void) | null = null;
    let stopped = false;
    listen<SensorCard>('card', (e) => onCard(e.payload)).then((unlisten) => {
      if (stopped) unlisten();
      else stop = unlisten;
    });
    return () => {
      stopped = true;
      stop?.();
    };
  },
};
