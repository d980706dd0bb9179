// The UI's languages (Ruuvi Station's set) through svelte-i18n: catalogues in src/locales,
// English the fallback, the system's language by default. Numbers and dates are formatted by
// `Intl` for the chosen locale.
import { _, addMessages, init, locale } from 'svelte-i18n';
import { get } from 'svelte/store';
import en from '../locales/en.json';
import fi from '../locales/fi.json';
import sv from '../locales/sv.json';
import de from '../locales/de.json';
import fr from '../locales/fr.json';
import pl from '../locales/pl.json';

export const LANGUAGES = [
  { code: 'en', name: 'English' },
  { code: 'fi', name: 'Suomi' },
  { code: 'sv', name: 'Svenska' },
  { code: 'de', name: 'Deutsch' },
  { code: 'fr', name: 'Français' },
  { code: 'pl', name: 'Polski' },
] as const;

export type Language = (typeof LANGUAGES)[number]['code'];
/** A language setting: one of the languages, or the system's. */
export type LanguageSetting = Language | 'system';

export const CATALOGUES: Record<Language, Record<string, unknown>> = { en, fi, sv, de, fr, pl };

for (const [code, messages] of Object.entries(CATALOGUES)) addMessages(code, messages as never);

/** The first of the system's languages we speak (`fi-FI` → `fi`), else English. */
export function systemLanguage(preferred: readonly string[] = typeof navigator === 'undefined' ? [] : navigator.languages ?? [navigator.language]): Language {
  for (const tag of preferred) {
    const code = tag.toLowerCase().split(/[-_]/)[0];
    const found = LANGUAGES.find((l) => l.code === code);
    if (found) return found.code;
  }
  return 'en';
}

export function resolveLanguage(setting: LanguageSetting): Language {
  return setting === 'system' ? systemLanguage() : setting;
}

// English until the settings say otherwise: every lookup works from the first import on.
init({ fallbackLocale: 'en', initialLocale: 'en' });

/** Switches the UI's language. */
export function useLanguage(setting: LanguageSetting): void {
  const code = resolveLanguage(setting);
  locale.set(code);
  if (typeof document !== 'undefined') document.documentElement.lang = code;
}

/** A message lookup: the `$_` of a component, or [`translate`] outside one. */
export type Translate = (
  key: string,
  options?: { values?: Record<string, string | number | boolean | Date | null | undefined>; default?: string },
) => string;

/** The current language's lookup (for code outside components; pass `$_` from a component so
 * it re-runs when the language changes). */
export function translate(): Translate {
  return get(_) as Translate;
}

/** The current locale for `Intl` (English before the UI starts). */
export function currentLocale(): string {
  return get(locale) ?? 'en';
}

/** A number with `decimals` digits after the separator, as the locale writes it. */
export function formatNumber(v: number, decimals: number, lang = currentLocale()): string {
  return new Intl.NumberFormat(lang, { minimumFractionDigits: decimals, maximumFractionDigits: decimals, useGrouping: false }).format(v);
}

/** Every key of a nested catalogue, as `a.b.c`. */
export function catalogueKeys(messages: Record<string, unknown>, prefix = ''): string[] {
  return Object.entries(messages).flatMap(([k, v]) =>
    typeof v === 'object' && v !== null ? catalogueKeys(v as Record<string, unknown>, `${prefix}${k}.`) : [`${prefix}${k}`],
  );
}
