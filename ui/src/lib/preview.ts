// A preview row's setting in the UI's language: the gateway's configuration key names it
// (`preview.key.<key>`); a key we have no words for keeps the backend's label.
import type { Change } from './bindings';
import { translate, type Translate } from './i18n';

export function settingLabel(change: Pick<Change, 'key' | 'label'>, t: Translate = translate()): string {
  return t(`preview.key.${change.key}`, { default: change.label });
}

/** The words the backend writes for a setting's value (`on`, `(new)`…) in the UI's language;
 * any other value (a URL, a number, a name) as it is. */
const VALUE_WORDS: Record<string, string> = {
  on: 'preview.value.on',
  off: 'preview.value.off',
  true: 'preview.value.on',
  false: 'preview.value.off',
  '(new)': 'preview.value.new',
  replaced: 'preview.value.new',
  '(kept secret)': 'preview.value.secret',
  '(hidden)': 'preview.value.secret',
};

export function settingValue(value: string, t: Translate = translate()): string {
  const key = VALUE_WORDS[value];
  return key ? t(key) : value;
}
