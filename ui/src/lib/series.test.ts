import { describe, expect, it } from 'vitest';
import { alignSeries, spread } from './series';
import { readings } from '../test-fixtures';

const p = (at_ms: number, t: number | null) => ({ at_ms, readings: readings({ temperature_c: t }), low: null, high: null });

describe('compare view', () => {
  it('puts two sensors on one time axis with gaps where one has no point', () => {
    const a = [p(1000, 20), p(3000, 21)];
    const b = [p(2000, 5), p(3000, 6), p(4000, null)];
    expect(alignSeries([a, b], 'temperature_c')).toEqual([
      [1, 2, 3, 4],
      [20, null, 21, null],
      [null, 5, 6, null],
    ]);
  });

  it('keeps one sensor as it is', () => {
    expect(alignSeries([[p(1000, 1), p(2000, 2)]], 'temperature_c')).toEqual([
      [1, 2],
      [1, 2],
    ]);
  });
});

describe('spread of long ranges', () => {
  it('gives the low and high of each rolled-up point, none for single observations', () => {
    const rolled = (at_ms: number, mean: number, low: number, high: number) => ({
      at_ms,
      readings: readings({ temperature_c: mean }),
      low: readings({ temperature_c: low }),
      high: readings({ temperature_c: high }),
    });
    expect(spread([rolled(0, 20, 15, 25), p(3_600_000, 21)], 'temperature_c')).toEqual([
      [15, null],
      [25, null],
    ]);
    expect(spread([p(0, 1), p(1000, 2)], 'temperature_c')).toBeNull();
  });
});
