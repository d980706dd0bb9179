// The page chrome's status chips: Bluetooth, the receiver, MQTT and the database, each a calm
// word and a colour; the backend's own message and what to do are in the chip's popover.
import type { BleStatus, Connections, ReceiverStatus } from './backend';
import { translate, type Translate } from './i18n';

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

export function bleChip(s: BleStatus, t: Translate = translate()): Chip {
  const chip = { key: 'ble' as const, label: t('status.ble') };
  switch (s.state) {
    case 'off':
      return { ...chip, state: 'off', summary: t('status.off'), details: [], action: t('status.bleOffAction') };
    case 'starting':
      return { ...chip, state: 'attention', summary: t('status.starting'), details: [], action: null };
    case 'scanning':
      return { ...chip, state: 'ok', summary: t('status.scanning'), details: [t('status.adapter', { values: { adapter: s.adapter } })], action: null };
    case 'unavailable': {
      const summary = t(
        s.kind === 'adapter_off'
          ? 'status.adapterOff'
          : s.kind === 'permission_denied'
            ? 'status.notAllowed'
            : s.kind === 'no_adapter'
              ? 'status.noAdapter'
              : 'status.notAvailable',
      );
      const state: ChipState = s.kind === 'no_stack' || s.kind === 'no_adapter' ? 'off' : 'problem';
      return { ...chip, state, summary, details: [s.message], action: s.hint ?? null };
    }
  }
}

export function receiverChip(r: ReceiverStatus, t: Translate = translate()): Chip {
  const chip = { key: 'receiver' as const, label: t('status.receiver') };
  if (r.url === null) {
    return { ...chip, state: 'off', summary: t('status.off'), details: [], action: t('status.receiverOffAction') };
  }
  const stored = r.posts.filter((p) => p.outcome === 'stored').reduce((n, p) => n + p.count, 0);
  const refused = r.posts.filter((p) => p.outcome !== 'stored').reduce((n, p) => n + p.count, 0);
  return {
    ...chip,
    state: refused > 0 && stored === 0 ? 'attention' : 'ok',
    summary: t('status.on'),
    details: [t('status.postsTo', { values: { url: r.url } }), t('status.postCounts', { values: { stored, refused } })],
    action: refused > 0 ? t('status.refusedAction') : null,
  };
}

/** `null` when neither the MQTT feed nor the sink is set up. */
export function mqttChip(c: Connections, t: Translate = translate()): Chip | null {
  const { feed, sink } = c.mqtt;
  if (!feed && !sink) return null;
  const links = [
    feed && { name: t('status.feed'), connected: feed.connected, error: feed.last_error },
    sink && { name: t('status.sink'), connected: sink.connected, error: sink.last_error },
  ].filter((l): l is { name: string; connected: boolean; error: string | null } => !!l);
  const down = links.filter((l) => !l.connected);
  return {
    key: 'mqtt',
    label: t('status.mqtt'),
    state: down.length === 0 ? 'ok' : 'problem',
    summary: t(down.length === 0 ? 'status.connected' : 'status.notConnected'),
    details: links.map((l) => `${l.name}: ${t(l.connected ? 'status.connected' : 'status.notConnected')}${l.error ? ` (${l.error})` : ''}`),
    action: down.length === 0 ? null : t('status.mqttAction'),
  };
}

export function databaseChip(c: Connections, t: Translate = translate()): Chip {
  const inUse = t('status.inUse', { values: { storage: c.storage } });
  return c.storage_problem
    ? {
        key: 'database',
        label: t('status.database'),
        state: 'problem',
        summary: t('status.usingLocal'),
        details: [c.storage_problem, inUse],
        action: t('status.databaseAction'),
      }
    : { key: 'database', label: t('status.database'), state: 'ok', summary: t('status.ok'), details: [inUse], action: null };
}
