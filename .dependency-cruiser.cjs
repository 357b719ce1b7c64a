/**
 * Import rules that keep the layers of DESIGN.md apart (`npm run check:deps`). ESLint's
 * no-restricted-imports already keeps runtime-specific modules out of src/; these are the rules
 * a per-file linter cannot see: cycles, and which folder may depend on which.
 */
const NODE_SOURCES = '^(src|packages/[^/]+/src|infra/lib)/';

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'A cycle makes two modules one: neither can be understood, tested or moved alone. Type-only imports count too.',
      from: { path: NODE_SOURCES },
      to: { circular: true },
    },
    {
      name: 'http-stays-in-api',
      severity: 'error',
      comment:
        'Only src/app.ts, src/api/ and src/runtime/ know about HTTP (Hono) and the routes; the core takes plain values and ports, so it runs and tests without a request.',
      from: { path: '^src/', pathNot: '^src/(api/|runtime/|app\\.ts$)' },
      // Resolved into a node_modules/ (wherever it is), or left as written when it cannot be resolved.
      to: { path: ['(^|node_modules/)(hono|@hono/[^/]+)(/|$)', '^src/api/'] },
    },
    {
      name: 'packages-stand-alone',
      severity: 'error',
      comment:
        'packages/* are published on their own: a relative import that climbs out to the root project (src/ above all) breaks them. What they share with the node belongs in a package.',
      from: { path: '^packages/[^/]+/src/' },
      // By path, not by import kind: dependency-cruiser classifies workspace imports
      // differently from inside packages/ ("undetermined") and from src/ ("local").
      to: { path: '^(src|infra|scripts|test|examples)/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    // Type-only imports are dependencies of the design even if the compiler erases them.
    tsPreCompilationDeps: true,
    // Lets `./x.js` resolve to `./x.ts` the way tsc does, and honours `paths` if any appear.
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
      mainFields: ['module', 'main', 'types', 'typings'],
    },
  },
};
