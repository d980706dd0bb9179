// What every area form of the Gateways page shares: its properties, the gateways a change goes
// to, and one action at a time with what went wrong.
import type { ApplyResult, GatewayDetails, GatewaysApi } from './backend';
import { errorText } from './backend';

/** The properties of every area form. */
export interface AreaFormProps {
  api: GatewaysApi;
  /** The open gateway: the form starts from its settings. */
  gateway: GatewayDetails;
  /** Other logged-in gateways the person ticked: a change goes to them too. */
  others: string[];
  /** A change ended (the page shows the results and reads the gateway's details again). */
  onapplied: (results: ApplyResult[]) => void;
}

/** The open gateway first, then the ticked ones (without it twice). */
export function targetsOf(gateway: GatewayDetails, others: string[]): string[] {
  return [gateway.endpoint, ...others.filter((e) => e !== gateway.endpoint)];
}

/** One action at a time: which one runs (for its button's label) and what went wrong. */
export class OneAction {
  busy = $state<string | null>(null);
  problem = $state<string | null>(null);

  /** Runs `action` as `name` unless another runs; a failure becomes `problem`. */
  async run(name: string, action: () => Promise<void>): Promise<void> {
    if (this.busy !== null) return;
    this.busy = name;
    this.problem = null;
    try {
      await action();
    } catch (e) {
      this.problem = errorText(e);
    } finally {
      this.busy = null;
    }
  }
}
