#!/usr/bin/env node
// Runs the CLI as built from src/ into dist/ (`npm run build:packages` in the repository, which
// `npm ci` runs; a packed or installed CLI carries its dist/).
const cli = await import('../dist/main.js').catch((e) => {
  if (e?.code !== 'ERR_MODULE_NOT_FOUND') throw e;
  process.stderr.write(`error: apinode-admin is not built (${e.message})\nhint: in the repository, run: npm run build:packages\n`);
  process.exit(2);
});
process.exitCode = await cli.main(process.argv.slice(2));
