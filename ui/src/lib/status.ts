// The page chrome's status chips: Bluetooth, the receiver, MQTT and the database, each a calm
// word and a colour; the backend's own message and what to do are in the chip's popover.
import type { BleStatus, Connections, ReceiverStatus } from './backend';

export type ChipState = 'ok' | 'off' | 'attention' | 'problem';

export interface Chip {
  key: 'ble' | 'receiver' | 'mqtt' | 'database';
  label: string;
  state: ChipState;
  /** One or two words after the label. */
  summary: string;
  /** What is going on, in the backend's words. */
  details: string[];
  /** What the user can do, if anything. */
  action: string | null;
}

export function bleChip(s: BleStatus): Chip {
  const chip = { key: 'ble' as const, label: 'Bluetooth' };
  switch (s.state) {
    case 'off':
      return { ...chip, state: 'off', summary: 'off', details: [], action: 'Switch it on in Settings → Data to read sensors near this computer.' };
    case 'starting':
      return { ...chip, state: 'attention', summary: 'starting', details: [], action: null };
    case 'scanning':
      return { ...chip, state: 'ok', summary: 'scanning', details: [`Adapter ${s.adapter}`], action: null };
    case 'unavailable': {
      const summary =
        s.kind === 'adapter_off'
          ? 'adapter off'
          : s.kind === 'permission_denied'
            ? 'not allowed'
            : s.kind === 'no_adapter'
              ? 'no adapter'
              : 'not available';
      const state: ChipState = s.kind === 'no_stack' || s.kind === 'no_adapter' ? 'off' : 'problem';
      return { ...chip, state, summary, details: [s.message], action: s.hint ?? null };
    }
  }
}

export function receiverChip(r: ReceiverStatus): Chip {
  const chip = { key: 'receiver' as const, label: 'Receiver' };
  if (r.url === null) {
    return { ...chip, state: 'off', summary: 'off', details: [], action: 'Turn it on in the Receiver page to take gateways\' posts.' };
  }
  const stored = r.posts.filter((p) => p.outcome === 'stored').reduce((n, p) => n + p.count, 0);
  const refused = r.posts.filter((p) => p.outcome !== 'stored').reduce((n, p) => n + p.count, 0);
  return {
    ...chip,
    state: refused > 0 && stored === 0 ? 'attention' : 'ok',
    summary: 'on',
    details: [`Gateways post to ${r.url}`, `${stored} posts stored, ${refused} refused since the start`],
    action: refused > 0 ? 'The Receiver page shows why posts were refused.' : null,
  };
}

/** `null` when neither the MQTT feed nor the sink is set up. */
export function mqttChip(c: Connections): Chip | null {
  const { feed, sink } = c.mqtt;
  if (!feed && !sink) return null;
  const links = [
    feed && { name: 'Feed', connected: feed.connected, error: feed.last_error },
    sink && { name: 'Sink', connected: sink.connected, error: sink.last_error },
  ].filter((l): l is { name: string; connected: boolean; error: string | null } => !!l);
  const down = links.filter((l) => !l.connected);
  return {
    key: 'mqtt',
    label: 'MQTT',
    state: down.length === 0 ? 'ok' : 'problem',
    summary: down.length === 0 ? 'connected' : 'not connected',
    details: links.map((l) => `${l.name}: ${l.connected ? 'connected' : 'not connected'}${l.error ? ` (${l.error})` : ''}`),
    action: down.length === 0 ? null : 'Check the broker in Settings → Connections.',
  };
}

export function databaseChip(c: Connections): Chip {
  return c.storage_problem
    ? {
        key: 'database',
        label: 'Database',
        state: 'problem',
        summary: 'using this computer\'s',
        details: [c.storage_problem, `In use: ${c.storage}`],
        action: 'Check the database in Settings → Connections.',
      }
    : { key: 'database', label: 'Database', state: 'ok', summary: 'ok', details: [`In use: ${c.storage}`], action: null };
}
