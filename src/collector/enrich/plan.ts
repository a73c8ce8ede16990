/** Reading EXPLAIN (FORMAT JSON) output, for the hypopg verification and the explain helper alike. */

/** Total cost and the names of the indexes one EXPLAIN (FORMAT JSON) output uses; `source` names it in the error. */
export function readPlanJson(output: unknown, source: string): { cost: number; indexNames: string[] } {
  const plan = (output as { Plan?: Record<string, unknown> }[] | null | undefined)?.[0]?.Plan;
  const indexNames: string[] = [];
  const visit = (node: unknown): void => {
    if (node === null || typeof node !== 'object') return;
    const n = node as Record<string, unknown>;
    if (typeof n['Index Name'] === 'string') indexNames.push(n['Index Name']);
    for (const child of (n.Plans as unknown[] | undefined) ?? []) visit(child);
  };
  visit(plan);
  const cost = plan?.['Total Cost'];
  if (typeof cost !== 'number') throw new Error(`${source} returned no plan cost`);
  return { cost, indexNames };
}
