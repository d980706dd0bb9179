// A card's 24-hour trend as SVG path data: hours without data break the line.
export interface SparkPath {
  d: string;
  min: number;
  max: number;
}

/** The path through `values` in a `width` × `height` box (null: no path, fewer than 2 values). */
export function sparkPath(values: (number | null)[], width: number, height: number): SparkPath | null {
  const known = values.filter((v): v is number => typeof v === 'number' && Number.isFinite(v));
  if (known.length < 2) return null;
  const min = Math.min(...known);
  const max = Math.max(...known);
  const span = max - min || 1;
  const step = values.length > 1 ? width / (values.length - 1) : width;
  let d = '';
  let drawing = false;
  values.forEach((v, i) => {
    if (typeof v !== 'number' || !Number.isFinite(v)) {
      drawing = false;
      return;
    }
    const x = Math.round(i * step * 10) / 10;
    // A flat line sits in the middle; otherwise the highest value at the top.
    const y = max === min ? height / 2 : Math.round((height - ((v - min) / span) * height) * 10) / 10;
    d += `${drawing ? 'L' : 'M'}${x} ${y}`;
    drawing = true;
  });
  return { d, min, max };
}
