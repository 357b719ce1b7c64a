import { readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

/**
 * `npm test` must pass in a clone with nothing beside it: no test, script or config may read a
 * path outside the repository (our own machines have a `shared` folder beside the clone; a
 * user's machine does not). This scans every file the tests, builds and configs can load.
 */
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SCANNED_DIRS = ['src', 'test', 'packages', 'infra', 'examples', 'scripts', '.ci'];
const SKIPPED = new Set(['node_modules', 'dist', 'cdk.out', '.git', 'fixtures', 'demo']);
const SOURCE = /\.(ts|mts|js|mjs|cjs|json|sh|toml)$|^run$/;

function* files(dir: string): Generator<string> {
  for (const name of readdirSync(dir)) {
    if (SKIPPED.has(name)) continue;
    const full = path.join(dir, name);
    if (statSync(full).isDirectory()) yield* files(full);
    else if (SOURCE.test(name)) yield full;
  }
}

/** Relative paths written in `file` that climb out of the repository. */
export function escapingPaths(file: string, text: string, root = ROOT): string[] {
  const found: string[] = [];
  for (const m of text.matchAll(/(?:\.\.\/)+[\w.@-]*/g)) {
    const resolved = path.resolve(path.dirname(file), m[0]);
    if (path.relative(root, resolved).startsWith('..')) found.push(m[0]);
  }
  // Absolute references to the steering folder beside our clones.
  for (const m of text.matchAll(/\/work\/shared\b[^\s'"`]*/g)) found.push(m[0]);
  return found;
}

describe('the repository is self-contained', () => {
  it('detects a path that climbs out of the repository', () => {
    const file = path.join(ROOT, 'test/unit/x.test.ts');
    const climbing = ['..', '..', '..', 'shared', 'fixtures'].join('/');
    expect(escapingPaths(file, `const f = '${climbing}';`)).toEqual([['..', '..', '..', 'shared'].join('/')]);
    expect(escapingPaths(file, "const f = '../fixtures/real-models';")).toEqual([]);
  });

  it('no source, test, script or config reads a path outside the repository', () => {
    const offenders: string[] = [];
    const all = [...SCANNED_DIRS.flatMap((d) => [...files(path.join(ROOT, d))]), ...['vitest.config.ts', 'package.json', 'wrangler.toml', 'tsconfig.json', 'tsconfig.worker.json', 'eslint.config.js'].map((f) => path.join(ROOT, f))];
    expect(all.length).toBeGreaterThan(100);
    for (const file of all) {
      for (const p of escapingPaths(file, readFileSync(file, 'utf8'))) offenders.push(`${path.relative(ROOT, file)}: ${p}`);
    }
    expect(offenders).toEqual([]);
  });
});
