// The same Backend over HTTP + WebSocket, as `ruuvictl serve --ui` serves it: every command as
// `POST /api/<command>`, events over `/api/live`. For a headless box opened in a browser, and
// for browser tests against the real backend.
import { asBackendError, backendOver, BackendError, type Backend, type Transport } from './backend';

/** The token `ruuvictl serve --ui` printed, from the page address (`#token=…`). */
export function tokenFrom(hash: string): string | null {
  const match = /(?:^#|&)token=([0-9a-fA-F]+)/.exec(hash);
  return match ? match[1] : null;
}

export function httpTransport(origin: string, token: string): Transport {
  return {
    async call(command, args) {
      let response: Response;
      try {
        response = await fetch(`${origin}/api/${command}`, {
          method: 'POST',
          headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
          body: JSON.stringify(args),
        });
      } catch (e) {
        throw new BackendError('unreachable', `Ruuvi Desk is not answering: ${String(e)}`);
      }
      const body = await response.json().catch(() => null);
      if (!response.ok) throw asBackendError(body ?? { code: 'http', message: response.statusText });
      return body;
    },
    /** A live socket per listener, reopened after a drop. */
    listen(event, handler) {
      let socket: WebSocket | null = null;
      let closed = false;
      let retry: ReturnType<typeof setTimeout> | undefined;
      const open = () => {
        socket = new WebSocket(`${origin.replace(/^http/, 'ws')}/api/live?token=${token}`);
        socket.onmessage = (m) => {
          const message = JSON.parse(String(m.data)) as { event: string; payload: unknown };
          if (message.event === event) handler(message.payload);
        };
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
    },
  };
}

export function httpBackend(origin: string, token: string): Backend {
  /** Fetches `path` and hands it to the browser as a download named `name`. */
  async function download(path: string, name: string): Promise<string> {
    let response: Response;
    try {
      response = await fetch(`${origin}${path}`, { headers: { Authorization: `Bearer ${token}` } });
    } catch (e) {
      throw new BackendError('unreachable', `Ruuvi Desk is not answering: ${String(e)}`);
    }
    if (!response.ok) throw asBackendError(await response.json().catch(() => ({ code: 'http', message: response.statusText })));
    const link = document.createElement('a');
    link.href = URL.createObjectURL(await response.blob());
    link.download = name;
    link.click();
    URL.revokeObjectURL(link.href);
    return `Downloaded ${name}`;
  }
  return {
    ...backendOver(httpTransport(origin, token)),
    // A browser gets the file as a download (the window saves it with `export_csv`).
    exportCsv: (sensor, fromMs, toMs) =>
      download(`/api/export.csv?sensor=${encodeURIComponent(sensor)}&from=${fromMs}&to=${toMs}`, `ruuvi-${sensor.replaceAll(':', '')}.csv`),
    exportXlsx: (sensors, fromMs, toMs) =>
      download(
        `/api/export.xlsx?sensors=${encodeURIComponent(sensors.join(','))}&from=${fromMs}&to=${toMs}`,
        sensors.length === 1 ? `ruuvi-${sensors[0].replaceAll(':', '')}.xlsx` : `ruuvi-${sensors.length || 'all'}-sensors.xlsx`,
      ),
  };
}
