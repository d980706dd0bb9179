// The user's display preferences: temperature unit and theme. Kept in the UI's own storage
// (localStorage: the app's webview profile, or the browser's for `serve --ui`).
import { LANGUAGES, type LanguageSetting } from './i18n';

export type TemperatureUnit = 'C' | 'F' | 'K';
export type Theme = 'system' | 'light' | 'dark';

export interface Settings {
  temperature: TemperatureUnit;
  theme: Theme;
  /** The UI's language; `system`: the system's, when it is one of ours. */
  language: LanguageSetting;
}

export const DEFAULT_SETTINGS: Settings = { temperature: 'C', theme: 'system', language: 'system' };

const KEY = 'ruuvi-desk.settings';

/** Reads saved settings; anything missing or not understood falls back to the default. */
export function loadSettings(storage: Pick<Storage, 'getItem'>): Settings {
  let saved: Partial<Settings> = {};
  try {
    saved = JSON.parse(storage.getItem(KEY) ?? '{}') ?? {};
  } catch {
    saved = {};
  }
  return {
    temperature: (['C', 'F', 'K'] as const).includes(saved.temperature as TemperatureUnit)
      ? (saved.temperature as TemperatureUnit)
      : DEFAULT_SETTINGS.temperature,
    theme: (['system', 'light', 'dark'] as const).includes(saved.theme as Theme)
      ? (saved.theme as Theme)
      : DEFAULT_SETTINGS.theme,
    language:
      saved.language === 'system' || LANGUAGES.some((l) => l.code === saved.language)
        ? (saved.language as LanguageSetting)
        : DEFAULT_SETTINGS.language,
  };
}

export function saveSettings(storage: Pick<Storage, 'setItem'>, settings: Settings): void {
  storage.setItem(KEY, JSON.stringify(settings));
}

/** A temperature in °C shown in `unit`. */
export function convertTemperature(celsius: number, unit: TemperatureUnit): number {
  switch (unit) {
    case 'F':
      return (celsius * 9) / 5 + 32;
    case 'K':
      return celsius + 273.15;
    default:
      return celsius;
  }
}

export function temperatureSymbol(unit: TemperatureUnit): string {
  return unit === 'K' ? 'K' : `°${unit}`;
}
