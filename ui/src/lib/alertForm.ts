// The Alerts page's rule form: inputs as typed, checked per field, turned into a `Rule`.
import type { AlertType, Rule, TriggerType, TypeUnits } from './backend';
import { translate, type Translate } from './i18n';

export interface RuleForm {
  /** 0: a new rule; otherwise the rule being edited. */
  id: number;
  enabled: boolean;
  sensor: string;
  name: string;
  alertType: AlertType;
  trigger: TriggerType;
  threshold: string;
  unit: string;
  tolerance: string;
  hysteresis: string;
  cooldown: string;
  text: string;
}

export function newRuleForm(sensor: string, types: TypeUnits[]): RuleForm {
  return {
    id: 0,
    enabled: true,
    sensor,
    name: '',
    alertType: 'Temperature',
    trigger: 'Over',
    threshold: '',
    unit: types.find((t) => t.alert_type === 'Temperature')?.units[0] ?? 'C',
    tolerance: '0',
    hysteresis: '0',
    cooldown: '0',
    text: '',
  };
}

/** A saved rule in the form, to edit it where it stands. */
export function ruleFormOf(r: Rule): RuleForm {
  return {
    id: r.id,
    enabled: r.enabled,
    sensor: r.sensor,
    name: r.name,
    alertType: r.alert_type,
    trigger: r.trigger,
    threshold: String(r.threshold),
    unit: r.unit,
    tolerance: String(r.tolerance),
    hysteresis: String(r.hysteresis),
    cooldown: String(r.cooldown_s),
    text: r.text,
  };
}

/** An alert type's name in the UI's language ("PM2.5" → `alerts.type.PM2_5`). */
export function alertTypeLabel(type: AlertType, t: Translate = translate()): string {
  return t(`alerts.type.${type.replace('.', '_')}`);
}

/** What a trigger means for this alert type, for the form's labels. */
export function triggerLabel(trigger: TriggerType, type: AlertType, t: Translate = translate()): string {
  if (type === 'Movement' && trigger === 'Different from') return t('alerts.trigger.moved');
  if (type === 'noData') return t('alerts.trigger.noData');
  return t(trigger === 'Different from' ? 'alerts.trigger.differs' : trigger === 'Over' ? 'alerts.trigger.over' : 'alerts.trigger.under');
}

export type RuleErrors = Partial<Record<keyof RuleForm, string>>;

const number = (s: string) => (s.trim() === '' ? NaN : Number(s));

export function validateRule(f: RuleForm, types: TypeUnits[], t: Translate = translate()): RuleErrors {
  const e: RuleErrors = {};
  if (!/^([0-9A-Fa-f]{2}:){5}[0-9A-Fa-f]{2}$/.test(f.sensor.trim())) e.sensor = t('alerts.error.sensor');
  const movementChange = f.alertType === 'Movement' && f.trigger === 'Different from';
  if (!movementChange && !Number.isFinite(number(f.threshold))) e.threshold = t('alerts.error.number');
  if (f.alertType === 'noData' && !(number(f.threshold) >= 1)) e.threshold = t('alerts.error.oneSecond');
  const units = types.find((u) => u.alert_type === f.alertType)?.units ?? [];
  if (!units.includes(f.unit)) e.unit = t('alerts.error.unit', { values: { units: units.join(', ') } });
  for (const k of ['tolerance', 'hysteresis', 'cooldown'] as const) {
    const n = number(f[k]);
    if (!Number.isFinite(n) || n < 0) e[k] = t('alerts.error.zeroOrMore');
  }
  if (!Number.isInteger(number(f.cooldown))) e.cooldown = t('alerts.error.wholeSeconds');
  return e;
}

/** The rule to save (a new one when `id` is 0); call when `validateRule` found nothing. An
 * empty name takes the sensor's name (the backend fills it in). */
export function toRule(f: RuleForm): Rule {
  const movementChange = f.alertType === 'Movement' && f.trigger === 'Different from';
  return {
    id: f.id,
    sensor: f.sensor.trim().toUpperCase(),
    name: f.name.trim(),
    alert_type: f.alertType,
    trigger: f.alertType === 'noData' ? 'Over' : f.trigger,
    threshold: movementChange && f.threshold.trim() === '' ? 0 : Number(f.threshold),
    unit: f.unit,
    tolerance: Number(f.tolerance),
    hysteresis: Number(f.hysteresis),
    cooldown_s: Number(f.cooldown),
    text: f.text,
    enabled: f.enabled,
  };
}
