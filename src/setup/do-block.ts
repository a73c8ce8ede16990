/** A DO block whose dollar-quote tag does not occur in its body (role names may contain `$$`). */
export function doBlock(body: readonly string[]): string[] {
  const text = body.join('\n');
  let tag = '$$';
  for (let i = 0; text.includes(tag); i++) tag = `$pga${i}$`;
  return [`do ${tag} begin`, ...body, `end ${tag};`];
}
