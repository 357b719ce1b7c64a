import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const LIB = fileURLToPath(new URL('../lib/', import.meta.url));

/** Optional props of every exported `…Props` interface in infra/lib whose doc comment has no `@default`. */
function undocumented(files: Record<string, string>): string[] {
  const missing: string[] = [];
  for (const [file, text] of Object.entries(files)) {
    for (const m of text.matchAll(/export interface (\w+Props)\b[^{]*\{([\s\S]*?)\n\}/g)) {
      // each member (two spaces in: not the members of an inline type) with the comment right above it
      for (const p of m[2]!.matchAll(/(\/\*\*(?:(?!\*\/)[\s\S])*\*\/\s*)?^ {2}readonly (\w+)(\??):/gm)) {
        if (p[3] === '?' && !/@default\b/.test(p[1] ?? '')) missing.push(`${file} ${m[1]}.${p[2]}`);
      }
    }
  }
  return missing;
}

describe('construct props', () => {
  it('document every optional prop with @default (aws-cdk design guidelines)', () => {
    const files = Object.fromEntries(readdirSync(LIB).filter((f) => f.endsWith('.ts')).map((f) => [f, readFileSync(LIB + f, 'utf8')]));
    expect(Object.keys(files).length).toBeGreaterThan(5);
    expect(undocumented(files)).toEqual([]);
  });

  it('the check finds an optional prop without @default, and ignores required ones and inline types', () => {
    const text = 'export interface XProps {\n  /** Required. */\n  readonly a: string;\n  /** @default 1 */\n  readonly b?: number;\n  /** No default said. */\n  readonly c?: { readonly d?: number };\n}\n';
    expect(undocumented({ 'x.ts': text })).toEqual(['x.ts XProps.c']);
  });
});
