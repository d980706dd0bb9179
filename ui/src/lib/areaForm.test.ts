import { describe, expect, it } from 'vitest';
import { BackendError } from './backend';
import { OneAction, targetsOf } from './areaForm.svelte';
import type { GatewayDetails } from './backend';

describe('area forms', () => {
  it('send a change to the open gateway first, then the ticked ones, none twice', () => {
    const open = { endpoint: 'b:80' } as GatewayDetails;
    expect(targetsOf(open, ['a:80', 'b:80', 'c:80'])).toEqual(['b:80', 'a:80', 'c:80']);
    expect(targetsOf(open, [])).toEqual(['b:80']);
  });

  it('run one action at a time and keep what went wrong', async () => {
    const action = new OneAction();
    let release!: () => void;
    const first = action.run('apply', () => new Promise<void>((r) => (release = r)));
    expect(action.busy).toBe('apply');
    let second = false;
    await action.run('preview', async () => {
      second = true;
    });
    expect(second).toBe(false);
    release();
    await first;
    expect(action.busy).toBeNull();
    await action.run('apply', async () => {
      throw new BackendError('refused', 'the gateway refused it');
    });
    expect(action.problem).toMatch(/refused it/);
    await action.run('apply', async () => {});
    expect(action.problem).toBeNull();
  });
});
