/** A parameter read from a function's source: its name, and whether it has a default value. */
export interface Parameter {
  readonly name: string;
  readonly optional: boolean;
}

const IDENT = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

/**
 * The parameters of a function from its source text (`function f(a, b = 1)`, `async (a) =>`,
 * `a =>`), or null when they cannot be bound by name (destructuring, rest parameters): such a
 * function needs `parameters` in the manifest.
 */
export function parseParameters(source: string): Parameter[] | null {
  const text = source.replace(/\/\*[\s\S]*?\*\//g, ' ').replace(/\/\/[^\n]*/g, ' ').trim();
  const head = text.replace(/^async\s+/, '');
  const single = /^([A-Za-z_$][A-Za-z0-9_$]*)\s*=>/.exec(head);
  if (single) return [{ name: single[1]!, optional: false }];
  const open = head.indexOf('(');
  if (open < 0) return null;
  const before = head.slice(0, open).trim();
  if (before && !/^(function\s*\*?\s*[A-Za-z0-9_$]*|\*?\s*[A-Za-z_$][A-Za-z0-9_$]*)$/.test(before)) return null;
  const parts: string[] = [];
  let depth = 0;
  let quote = '';
  let start = open + 1;
  for (let i = open + 1; i < head.length; i++) {
    const ch = head[i]!;
    if (quote) {
      if (ch === '\\') i++;
      else if (ch === quote) quote = '';
      continue;
    }
    if (ch === '"' || ch === "'" || ch === '`') quote = ch;
    else if ('([{'.includes(ch)) depth++;
    else if (')]}'.includes(ch)) {
      if (depth === 0) {
        parts.push(head.slice(start, i));
        break;
      }
      depth--;
    } else if (ch === ',' && depth === 0) {
      parts.push(head.slice(start, i));
      start = i + 1;
    }
  }
  const params: Parameter[] = [];
  for (const raw of parts) {
    const p = raw.trim();
    if (p === '') continue; // a trailing comma
    const eq = p.indexOf('=');
    const name = (eq < 0 ? p : p.slice(0, eq)).trim();
    if (!IDENT.test(name)) return null;
    params.push({ name, optional: eq >= 0 });
  }
  return params;
}
