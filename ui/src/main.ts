import './lib/locale';
import { mount } from 'svelte';
import App from './App.svelte';
import { tauriBackend, type Backend } from './lib/backend';
import { httpBackend, tokenFrom } from './lib/httpBackend';
import './app.css';

// Inside the app: Tauri IPC. In a browser (`ruuvictl serve --ui`): HTTP with the printed token.
function pickBackend(): Backend {
  if ('__TAURI_INTERNALS__' in window) return tauriBackend;
  return httpBackend(window.location.origin, tokenFrom(window.location.hash) ?? '');
}

mount(App, { target: document.getElementById('app')!, props: { backend: pickBackend() } });
