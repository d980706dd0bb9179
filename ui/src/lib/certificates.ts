// Words for the Certificates page.

/** "valid for 729 more days (until 2028-11-22)", "expires in 12 days: renew it", "expired". */
export function expiryText(c: { days_left: number; not_after: number; renew_soon: boolean }): string {
  const until = new Date(c.not_after * 1000).toISOString().slice(0, 10);
  if (c.days_left < 0) return `expired on ${until}`;
  if (c.renew_soon) return `expires in ${c.days_left} days (${until}): renew it`;
  return `valid for ${c.days_left} more days (until ${until})`;
}
