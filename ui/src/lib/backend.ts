// The one interface the UI uses to reach the Rust core. The Tauri implementation calls
// commands over IPC; tests pass their own implementation of the same interface.
import { invoke } from '@tauri-apps/api/core';

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

export interface Backend {
  appInfo(): Promise<AppInfo>;
  decode(hex: string): Promise<Measurement>;
  bleStatus(): Promise<BleStatus>;
}

function asBackendError(e: unknown): BackendError {
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
};
