/** Small, total helpers over libpg-query's JSON parse tree (`{ NodeType: { …fields } }`). */

export type AstNode = Readonly<Record<string, unknown>>;

/** The node's type name and fields, or null when `value` is not a node. */
export function nodeOf(value: unknown): { type: string; fields: AstNode } | null {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return null;
  const keys = Object.keys(value);
  const type = keys[0];
  if (type === undefined || keys.length !== 1) return null;
  const fields = (value as Record<string, unknown>)[type];
  if (fields === null || typeof fields !== 'object' || Array.isArray(fields)) return null;
  return { type, fields: fields as AstNode };
}

/** Fields of `value` when it is a node of `type`. */
export function fieldsOf(value: unknown, type: string): AstNode | null {
  const node = nodeOf(value);
  return node && node.type === type ? node.fields : null;
}

export function listOf(value: unknown): readonly unknown[] {
  return Array.isArray(value) ? value : [];
}

export function stringOf(value: unknown): string | null {
  return typeof value === 'string' ? value : null;
}

/** `String` node values of a name list (funcname, operator name, ColumnRef fields). */
export function namesOf(value: unknown): string[] {
  const out: string[] = [];
  for (const item of listOf(value)) {
    const s = fieldsOf(item, 'String');
    if (s) out.push(stringOf(s.sval) ?? '');
    else if (fieldsOf(item, 'A_Star')) out.push('*');
  }
  return out;
}

/** Visits every node below `root` (depth first); `visit` returns false to skip a subtree. */
export function walk(root: unknown, visit: (type: string, fields: AstNode) => boolean | void): void {
  const stack: unknown[] = [root];
  while (stack.length > 0) {
    const value = stack.pop();
    if (Array.isArray(value)) {
      for (let i = value.length - 1; i >= 0; i--) stack.push(value[i]);
      continue;
    }
    if (value === null || typeof value !== 'object') continue;
    const node = nodeOf(value);
    // Inline structs (Alias, WindowDef, WithClause…) are not wrapped in a type key: descend into them.
    const fields = node ? node.fields : (value as AstNode);
    if (node && visit(node.type, node.fields) === false) continue;
    for (const child of Object.values(fields)) {
      if (child !== null && typeof child === 'object') stack.push(child);
    }
  }
}

/** Strips casts: `$1::int`, `CAST($1 AS int)`, `col COLLATE "C"` → the inner expression. */
export function stripCasts(value: unknown): unknown {
  let current = value;
  for (;;) {
    const cast = fieldsOf(current, 'TypeCast') ?? fieldsOf(current, 'CollateClause');
    if (!cast) return current;
    current = cast.arg;
  }
}
