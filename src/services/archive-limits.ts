import { ApiError } from '../errors.js';

/** Files of a generation by relative path ("manifest.json", "models/m.onnx"). */
export type FileSet = Map<string, Uint8Array>;

/**
 * What one generation archive may hold. Each limit is checked on a running count, before the
 * bytes it counts are inflated or kept: a bomb stops at the limit, not after it.
 */
export interface ArchiveLimits {
  /** The archive as sent, packed (APINODE_MAX_IMPORT_BYTES). */
  readonly maxArchiveBytes: number;
  /** All files together, unpacked (APINODE_MAX_IMPORT_BYTES). */
  readonly maxUnpackedBytes: number;
  /** Files and folders: each entry counts one (APINODE_MAX_IMPORT_FILES). */
  readonly maxEntries: number;
  /** One file, unpacked (APINODE_MAX_IMPORT_FILE_BYTES). */
  readonly maxFileBytes: number;
}

export const DEFAULT_MAX_IMPORT_FILES = 10_000;

/** The limits the node applies, from its configuration (config.ts). */
export function importLimits(config: { readonly maxImportBytes: number; readonly maxImportFiles: number; readonly maxImportFileBytes: number }): ArchiveLimits {
  return { maxArchiveBytes: config.maxImportBytes, maxUnpackedBytes: config.maxImportBytes, maxEntries: config.maxImportFiles, maxFileBytes: config.maxImportFileBytes };
}

/** One size for the archive, packed and unpacked, and for each file; the default entry count. */
export const limitsOf = (maxBytes: number): ArchiveLimits => ({ maxArchiveBytes: maxBytes, maxUnpackedBytes: maxBytes, maxEntries: DEFAULT_MAX_IMPORT_FILES, maxFileBytes: maxBytes });

/** 400 INVALID_ARCHIVE; `cause` (a library's error) is for the log, never for the answer. */
export const invalidArchive = (message: string, detail?: string, cause?: unknown) =>
  new ApiError(400, 'INVALID_ARCHIVE', message, detail ?? message, cause === undefined ? undefined : { cause });

const tooLarge = (message: string, setting: string) => new ApiError(413, 'PAYLOAD_TOO_LARGE', message, `${message}: raise ${setting} on the node, or make the generation smaller`);

export const archiveTooLarge = (maxBytes: number) =>
  new ApiError(413, 'PAYLOAD_TOO_LARGE', `The archive is larger than ${maxBytes} bytes`, 'raise APINODE_MAX_IMPORT_BYTES');

const MAX_PATH_CHARS = 1024;

/**
 * The entries of an archive as they are read, checked one by one against the limits and the
 * rules every generation file obeys: a plain relative path (no "/" at the start, no "..", no
 * "\"), met once, naming a regular file or a folder (no link, device or FIFO). A reader calls
 * `file` with a file's declared size BEFORE inflating a byte of it, then `put` with exactly that
 * many bytes.
 */
export class ArchiveEntries {
  readonly files: FileSet = new Map();
  private readonly folders = new Set<string>();
  private entries = 0;
  private unpacked = 0;

  constructor(readonly limits: ArchiveLimits) {}

  /** Checks a file entry before its bytes are read; answers its path. */
  file(name: string, size: number): string {
    const path = this.count(name, false);
    if (path === '') throw invalidArchive(`The archive has a file with an empty name`);
    if (!Number.isSafeInteger(size) || size < 0) throw invalidArchive(`"${path}" has an invalid size in the archive`);
    if (size > this.limits.maxFileBytes) throw tooLarge(`"${path}" unpacks to more than ${this.limits.maxFileBytes} bytes`, 'APINODE_MAX_IMPORT_FILE_BYTES');
    this.unpacked += size;
    if (this.unpacked > this.limits.maxUnpackedBytes) throw tooLarge(`The archive unpacks to more than ${this.limits.maxUnpackedBytes} bytes`, 'APINODE_MAX_IMPORT_BYTES');
    if (this.files.has(path)) throw invalidArchive(`"${path}" appears twice in the archive`);
    if (this.folders.has(path)) throw invalidArchive(`"${path}" is both a file and a folder in the archive`);
    for (let cut = path.indexOf('/'); cut !== -1; cut = path.indexOf('/', cut + 1)) this.folder(path.slice(0, cut));
    this.files.set(path, EMPTY);
    return path;
  }

  /** The bytes of a file `file` accepted: exactly its declared size (the reader checks it). */
  put(path: string, bytes: Uint8Array): void {
    this.files.set(path, bytes);
  }

  /** A folder entry: counted and checked, nothing kept. */
  folderEntry(name: string): void {
    const path = this.count(name, true);
    if (path !== '') this.folder(path);
  }

  /** An entry count known up front (a zip's central directory): refused at once above the limit. */
  expectEntries(count: number): void {
    if (count > this.limits.maxEntries) throw this.tooManyEntries();
  }

  /** An entry that is neither a file nor a folder: refused, saying what it is. */
  refuse(name: string, kind: 'symlink' | 'hardlink' | 'special'): never {
    const what = { symlink: 'a symbolic link', hardlink: 'a hard link', special: 'a device, FIFO or other special file' }[kind];
    throw invalidArchive(`"${name}" is ${what}: a generation archive holds only regular files and folders`, `"${name}" is ${what}: put the file itself in the archive (tar --dereference, zip without --symlinks)`);
  }

  private folder(path: string): void {
    if (this.files.has(path)) throw invalidArchive(`"${path}" is both a file and a folder in the archive`);
    this.folders.add(path);
  }

  private count(name: string, folder: boolean): string {
    if (++this.entries > this.limits.maxEntries) throw this.tooManyEntries();
    return entryPath(name, folder);
  }

  private tooManyEntries(): ApiError {
    return tooLarge(`The archive holds more than ${this.limits.maxEntries} files and folders`, 'APINODE_MAX_IMPORT_FILES');
  }
}

const EMPTY = new Uint8Array(0);

/**
 * An entry's name as a path inside the generation: leading "./" dropped (tar -C dir .), a
 * folder's trailing "/" too; refused when it could land outside the generation or means
 * something else on another system.
 */
export function entryPath(name: string, folder: boolean): string {
  const shown = name.length > 200 ? `${name.slice(0, 200)}…` : name;
  if (name.length > MAX_PATH_CHARS) throw invalidArchive(`An entry's path is longer than ${MAX_PATH_CHARS} characters: "${shown}"`);
  if (/[\0-\x1f\\]/.test(name)) throw invalidArchive(`"${shown.replace(/[\0-\x1f]/g, '?')}" has a backslash or a control character in its path`, 'archive paths use "/" between folders and no control characters');
  let path = name;
  while (path.startsWith('./')) path = path.slice(2);
  if (folder) path = path.replace(/\/$/, '');
  if (folder && (path === '' || path === '.')) return '';
  if (path.startsWith('/') || /^[A-Za-z]:/.test(path)) throw invalidArchive(`"${shown}" is an absolute path`, `"${shown}" is an absolute path: archive paths are relative to the generation's top`);
  const segments = path.split('/');
  if (segments.includes('..')) throw invalidArchive(`"${shown}" leads out of the archive (..)`);
  if (segments.some((s) => s === '' || s === '.')) throw invalidArchive(`"${shown}" is not a plain relative path`, `"${shown}" has an empty or "." segment: pack the generation with plain relative paths`);
  return path;
}

/**
 * A single top-level folder wrapping everything (as `tar czf v3.tar.gz v3/` makes) is
 * stripped, unless manifest.json is already at the top.
 */
export function stripTopFolder(files: FileSet): FileSet {
  const tops = new Set([...files.keys()].map((p) => p.split('/')[0]));
  const [top] = tops;
  if (tops.size !== 1 || files.has('manifest.json') || top === undefined || ![...files.keys()].every((p) => p.startsWith(`${top}/`))) return files;
  return new Map([...files].map(([p, b]) => [p.slice(top.length + 1), b]));
}
