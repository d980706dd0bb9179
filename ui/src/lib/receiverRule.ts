// The Receiver page's rule form: what this computer expects of one gateway's posts.
import type { GatewayEntry, ReceiverRule } from './backend';
import { translate, type Translate } from './i18n';

import { AUTH_LABELS, type AuthKind } from './gatewayForm';

export { AUTH_LABELS, type AuthKind };

export interface RuleFormValues {
  gateway: string;
  auth: AuthKind;
  user: string;
  /** New secret; empty keeps the one in the keychain. */
  secret: string;
  requireClientCert: boolean;
  hmac: boolean;
  rotateHmac: boolean;
  /** New HMAC key (the gateway's device id, or a key of its own); empty keeps it. */
  hmacKey: string;
  /** Seconds between posts; empty: not checked. */
  rate: string;
}

export function ruleForm(r: ReceiverRule | null, gateway = ''): RuleFormValues {
  const e = r?.rule;
  return {
    gateway: r?.gateway ?? gateway,
    auth: ((e?.auth ?? 'none') as AuthKind) in AUTH_LABELS ? ((e?.auth ?? 'none') as AuthKind) : 'none',
    user: e?.user ?? '',
    secret: '',
    requireClientCert: e?.require_client_cert ?? false,
    hmac: e?.hmac ?? false,
    rotateHmac: e?.rotate_hmac ?? false,
    hmacKey: '',
    rate: e?.rate ? String(e.rate) : '',
  };
}

export type RuleSave = { gateway: string; rule: GatewayEntry; secret: string | null; hmacKey: string | null };

/** What to send, or why not. `known`: the rule as saved (which secrets the keychain has). */
export function ruleSave(f: RuleFormValues, known: ReceiverRule | null, t: Translate = translate()): RuleSave | { problem: string } {
  const gateway = f.gateway.trim().toUpperCase().replaceAll('-', ':');
  if (!/^([0-9A-F]{2}:){5}[0-9A-F]{2}$/.test(gateway)) return { problem: t('receiver.problem.mac') };
  if (f.auth === 'basic' && f.user.trim() === '') return { problem: t('receiver.problem.user') };
  if (f.auth !== 'none' && f.secret === '' && !known?.has_secret) {
    return { problem: t(f.auth === 'basic' ? 'receiver.problem.password' : 'receiver.problem.token') };
  }
  if (f.hmac && f.hmacKey === '' && !known?.has_hmac_key) {
    return { problem: t('receiver.problem.hmacKey') };
  }
  const rate = f.rate.trim() === '' ? null : Number(f.rate);
  if (rate !== null && !(Number.isInteger(rate) && rate >= 1 && rate <= 3600)) {
    return { problem: t('receiver.problem.rate') };
  }
  return {
    gateway,
    rule: {
      auth: f.auth,
      user: f.auth === 'basic' ? f.user.trim() : '',
      require_client_cert: f.requireClientCert,
      hmac: f.hmac,
      rotate_hmac: f.hmac && f.rotateHmac,
      rate,
    },
    secret: f.auth !== 'none' && f.secret !== '' ? f.secret : null,
    hmacKey: f.hmac && f.hmacKey !== '' ? f.hmacKey : null,
  };
}
