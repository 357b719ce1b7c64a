import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ERROR_TYPES, ErrorType, type ErrorStatus } from '@apinode/protocol';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const DOCS = join(ROOT, 'docs/api.md');
const BEGIN = '<!-- error-types:begin -->';
const END = '<!-- error-types:end -->';

/** The docs table, as ERROR_TYPES says it: by status, then in the vocabulary's order. */
function table(): string {
  const rows = Object.entries(ERROR_TYPES)
    .map(([type, info], i) => ({ type, info, i }))
    .sort((a, b) => a.info.status[0]! - b.info.status[0]! || a.i - b.i)
    .map(({ type, info }) => `| ${info.status.join(', ')} | \`${type}\` | ${info.meaning.replace(/\|/g, '\\|')} |`);
  return ['| status | errorType | meaning |', '|---|---|---|', ...rows].join('\n');
}

/** Every .ts file under src/, for the statuses its ApiErrors are built with. */
function sources(dir = join(ROOT, 'src')): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((f) => (f.isDirectory() ? sources(join(dir, f.name)) : f.name.endsWith('.ts') ? [join(dir, f.name)] : []));
}

describe('the error vocabulary', () => {
  it('is the table of docs/api.md (APINODE_UPDATE_DOCS=1 rewrites it)', () => {
    const docs = readFileSync(DOCS, 'utf8');
    const [before, rest] = docs.split(BEGIN);
    const [current, after] = (rest ?? '').split(END);
    expect(after, `docs/api.md must hold ${BEGIN} … ${END}`).toBeDefined();
    const want = `\n${table()}\n`;
    if (process.env.APINODE_UPDATE_DOCS === '1' && current !== want) writeFileSync(DOCS, `${before}${BEGIN}${want}${END}${after}`);
    else expect(current).toBe(want);
  });

  it('is a zod enum of exactly its types', () => {
    expect(ErrorType.options).toEqual(Object.keys(ERROR_TYPES));
    expect(ErrorType.safeParse('SOMETHING_ELSE').success).toBe(false);
  });

  it('gives every errorType the node builds with a literal status that status', () => {
    const built = /new ApiError\(\s*(\d{3}),\s*'([A-Z_]+)'|ApiError\.(badRequest|notFound|unavailable)\(\s*'([A-Z_]+)'/g;
    const helper = { badRequest: 400, notFound: 404, unavailable: 503 } as const;
    const found: string[] = [];
    for (const file of sources()) {
      for (const m of readFileSync(file, 'utf8').matchAll(built)) {
        const status = Number(m[1] ?? helper[m[3] as keyof typeof helper]) as ErrorStatus;
        const type = (m[2] ?? m[4]) as keyof typeof ERROR_TYPES;
        found.push(type);
        expect(ERROR_TYPES[type]?.status, `${file.slice(ROOT.length)}: ${type}`).toContain(status);
      }
    }
    expect(found.length).toBeGreaterThan(50);
  });
});
