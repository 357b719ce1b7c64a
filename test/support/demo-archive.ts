import { readFile, readdir } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FileSet } from '../../src/services/archive.js';

export const DEMO_GENERATIONS = fileURLToPath(new URL('../../examples/demo/generations/', import.meta.url));

/** The files of a folder by relative path. */
export async function readFolder(dir: string): Promise<FileSet> {
  const entries = (await readdir(dir, { recursive: true, withFileTypes: true })).filter((e) => e.isFile());
  const files: FileSet = new Map();
  for (const e of entries) files.set(relative(dir, join(e.parentPath, e.name)).split(sep).join('/'), await readFile(join(e.parentPath, e.name)));
  return files;
}

/** A demo generation's files, renamed to a new generation id (and createdAt), as a user would re-export it. */
export async function demoGenerationAs(source: 'v1' | 'v2', generation: string, createdAt: string, edit?: (manifest: any) => void): Promise<FileSet> { // eslint-disable-line @typescript-eslint/no-explicit-any
  const files = await readFolder(join(DEMO_GENERATIONS, source));
  const manifest = JSON.parse(new TextDecoder().decode(files.get('manifest.json')));
  manifest.generation = generation;
  manifest.createdAt = createdAt;
  edit?.(manifest);
  files.set('manifest.json', new TextEncoder().encode(JSON.stringify(manifest)));
  return files;
}
