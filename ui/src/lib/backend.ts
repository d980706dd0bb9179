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

export interface Backend {
  appInfo(): Promise<AppInfo>;
  decode(hex: string): Promise<Measurement>;
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
};
