import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { DocsAsset, DocsAssets } from '../api/docs-page.js';

/**
 * Swagger UI's files for /docs on Node and Lambda, read from the swagger-ui-dist package (or a
 * swagger-ui/ folder beside a bundled entry, where no node_modules is) and kept once read.
 */
export function packageDocsAssets(): DocsAssets {
  const read = new Map<DocsAsset, Promise<Uint8Array<ArrayBuffer> | null>>();
  return (file) => {
    let got = read.get(file);
    if (!got) {
      got = readFile(join(folder(), file)).then(
        (b) => new Uint8Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer),
        () => null,
      );
      read.set(file, got);
    }
    return got;
  };
}

function folder(): string {
  try {
    return dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'));
  } catch {
    return fileURLToPath(new URL('./swagger-ui/', import.meta.url));
  }
}
