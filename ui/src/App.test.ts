import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, render, screen, fireEvent } from '@testing-library/svelte';
import App from './App.svelte';
import { BackendError, type Backend, type BleStatus } from './lib/backend';

// The Rust backend is exercised by its own tests; here a hand-written Backend feeds the UI.
const noBluetooth: BleStatus = {
  state: 'unavailable',
  kind: 'no_stack',
  reason: 'connecting: no bus',
  hint: 'install BlueZ',
  message: 'Bluetooth unavailable: connecting: no bus (install BlueZ)',
};

function backendWith(decode: Backend['decode'], bleStatus = async () => noBluetooth): Backend {
  return { appInfo: async () => ({ name: 'Ruuvi Desk', version: '9.9.9' }), decode, bleStatus };
}

describe('App', () => {
  afterEach(cleanup);

  it('shows the decoded rows', async () => {
    render(App, {
      backend: backendWith(async () => ({ dataFormat: 5, temperature: 27.445, derived: {} })),
    });
    expect(await screen.findByText('v9.9.9')).toBeTruthy();
    await fireEvent.click(screen.getByRole('button', { name: 'Decode' }));
    expect(await screen.findByText('RAWv2 (5)')).toBeTruthy();
    expect(screen.getByText('27.45')).toBeTruthy();
  });

  it('says whether Bluetooth can be used, in the backend\'s words', async () => {
    render(App, { backend: backendWith(async () => ({})) });
    const status = await screen.findByTestId('ble-status');
    expect(status.getAttribute('data-state')).toBe('unavailable');
    expect(status.textContent).toBe('Bluetooth unavailable: connecting: no bus (install BlueZ)');
  });

  it('shows the backend error with its code', async () => {
    render(App, {
      backend: backendWith(async () => {
        throw new BackendError('wrong_length', 'data format 0x05 needs 24 bytes of payload, got 2');
      }),
    });
    await fireEvent.click(screen.getByRole('button', { name: 'Decode' }));
    const alert = await screen.findByRole('alert');
    expect(alert.getAttribute('data-code')).toBe('wrong_length');
    expect(alert.textContent).toContain('needs 24 bytes');
  });
});
