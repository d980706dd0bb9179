// The same Backend over HTTP + WebSocket, as `ruuvictl serve --ui` serves it: for a headless
// box opened in a browser, and for browser tests against the real backend.
import {
  asBackendError,
  BackendError,
  type AlertsView,
  type HistoryEntry,
  type Rule,
  type AppInfo,
  type AppSettings,
  type ApplyResult,
  type Backend,
  type FoundGateway,
  type GatewayDetails,
  type Preview,
  type Certificates,
  type Connections,
  type ListedGateway,
  type ReceiverStatus,
  type StepEvent,
  type UrlCheck,
  type BleStatus,
  type Dashboard,
  type Measurement,
  type SensorCard,
  type Series,
} from './backend';

/** The token `ruuvictl serve --ui` printed, from the page address (`#token=…`). */
export function tokenFrom(hash: string): string | null {
  const match = /(?:^#|&)token=([0-9a-fA-F]+)/.exec(hash);
  return match ? match[1] : null;
}

export function httpBackend(origin: string, token: string): Backend {
  async function call<T>(path: string, init: RequestInit = {}): Promise<T> {
    let response: Response;
    try {
      response = await fetch(`${origin}/api/${path}`, {
        ...init,
        headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
      });
    } catch (e) {
      throw new BackendError('unreachable', `Ruuvi Desk is not answering: ${String(e)}`);
    }
    const body = await response.json().catch(() => null);
    if (!response.ok) throw asBackendError(body ?? { code: 'http', message: response.statusText });
    return body as T;
  }
  const post = <T>(path: string, body: unknown) =>
    call<T>(path, { method: 'POST', body: JSON.stringify(body) });

  /** A live socket that hands each message to `onMessage`, reopened after a drop. */
  function live(
    onMessage: (update: { card?: SensorCard; step?: StepEvent; alert?: HistoryEntry }) => void,
  ): () => void {
    let socket: WebSocket | null = null;
    let closed = false;
    let retry: ReturnType<typeof setTimeout> | undefined;
    const open = () => {
      socket = new WebSocket(`${origin.replace(/^http/, 'ws')}/api/live?token=${token}`);
      socket.onmessage = (m) => onMessage(JSON.parse(String(m.data)));
      // The server restarted or the network blinked: reconnect after a pause.
      socket.onclose = () => {
        if (!closed) retry = setTimeout(open, 2000);
      };
    };
    open();
    return () => {
      closed = true;
      clearTimeout(retry);
      socket?.close();
    };
  }

  return {
    alerts: {
      view: () => call<AlertsView>('alerts'),
      save: (rule) => post<Rule>('alerts/save', rule),
      remove: (id) => post<boolean>('alerts/remove', { id }),
      acknowledge: (id) => post<boolean>('alerts/acknowledge', { id }),
      test: (id) => post<void>('alerts/test', { id }),
      onAlert: (onAlert) => live((u) => u.alert && onAlert(u.alert)),
    },
    gateways: {
      list: () => call<ListedGateway[]>('gateways'),
      discover: (request) => post<FoundGateway[]>('gateways/discover', request),
      login: (request) => post<GatewayDetails>('gateways/login', request),
      forget: (endpoint) => post<boolean>('gateways/forget', { endpoint }),
      details: (endpoint) => post<GatewayDetails>('gateways/details', { endpoint }),
      preview: (endpoint, form) => post<Preview>('gateways/preview', { endpoint, form }),
      apply: (endpoints, form) => post<ApplyResult[]>('gateways/apply', { endpoints, form }),
      applyMqtt: (endpoints, form) => post<ApplyResult[]>('gateways/apply-mqtt', { endpoints, form }),
      checkUrl: (endpoint, server) => post<UrlCheck>('gateways/check-url', { endpoint, server }),
      sendHere: (endpoint) => post<ApplyResult>('gateways/send-here', { endpoint }),
      onStep: (onStep) => live((u) => u.step && onStep(u.step)),
    },
    certificates: {
      list: () => post<Certificates>('gateways/certificates', {}),
      createCa: () => post<Certificates>('gateways/create-ca', {}),
      renew: (gateway) => post<string>('gateways/renew', { gateway }),
      revoke: (gateway) => post<boolean>('gateways/revoke', { gateway }),
    },
    receiver: {
      status: () => call<ReceiverStatus>('receiver'),
      start: () => post<ReceiverStatus>('receiver/start', {}),
    },
    appInfo: () => call<AppInfo>('app-info'),
    appSettings: () => call<AppSettings>('app-settings'),
    setAppSettings: (settings) => post<AppSettings>('app-settings', settings),
    connections: () => call<Connections>('connections'),
    savePassword: (target, password) => post<void>('save-password', { target, password }),
    decode: (hex) => call<Measurement>('decode', { method: 'POST', body: JSON.stringify({ hex }) }),
    bleStatus: () => call<BleStatus>('ble-status'),
    dashboard: () => call<Dashboard>('dashboard'),
    series: (sensor, fromMs, toMs, points) =>
      call<Series>(`series?sensor=${encodeURIComponent(sensor)}&from=${fromMs}&to=${toMs}&points=${points}`),
    async exportCsv(sensor, fromMs, toMs) {
      let response: Response;
      try {
        response = await fetch(`${origin}/api/export.csv?sensor=${encodeURIComponent(sensor)}&from=${fromMs}&to=${toMs}`, {
          headers: { Authorization: `Bearer ${token}` },
        });
      } catch (e) {
        throw new BackendError('unreachable', `Ruuvi Desk is not answering: ${String(e)}`);
      }
      if (!response.ok) throw asBackendError(await response.json().catch(() => ({ code: 'http', message: response.statusText })));
      const name = `ruuvi-${sensor.replaceAll(':', '')}.csv`;
      const link = document.createElement('a');
      link.href = URL.createObjectURL(await response.blob());
      link.download = name;
      link.click();
      URL.revokeObjectURL(link.href);
      return `Downloaded ${name}`;
    },
    subscribe: (onCard) => live((u) => u.card && onCard(u.card)),
  };
}
