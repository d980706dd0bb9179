// WebKitGTK reports `navigator.language` as "C" when the system locale is LANG=C (minimal
// systems, our CI), and `Intl` rejects that tag; uPlot formats numbers with it as it loads.
// Imported first by main.ts so it runs before any library reads the language.
export function usableLanguage(tag: string): boolean {
  try {
    new Intl.NumberFormat(tag);
    return true;
  } catch {
    return false;
  }
}

if (typeof navigator !== 'undefined' && !usableLanguage(navigator.language)) {
  Object.defineProperty(navigator, 'language', { get: () => 'en-US', configurable: true });
}
