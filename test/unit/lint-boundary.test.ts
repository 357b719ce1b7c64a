import { describe, expect, it } from 'vitest';
import { ESLint } from 'eslint';

const eslint = new ESLint();
const errorsFor = async (filePath: string, code: string) =>
  (await eslint.lintText(code, { filePath })).flatMap((r) => r.messages.filter((m) => m.ruleId === 'no-restricted-imports'));

describe('the runtime-free core rule', () => {
  it('rejects node: built-ins in src/ outside src/runtime/', async () => {
    expect(await errorsFor('src/services/x.ts', "import { readFile } from 'node:fs/promises';\nvoid readFile;\n")).toHaveLength(1);
    expect(await errorsFor('src/api/x.ts', "import fs from 'fs';\nvoid fs;\n")).toHaveLength(1);
  });

  it('rejects onnxruntime-web and backend adapters in the core', async () => {
    expect(await errorsFor('src/inference/x.ts', "import * as ort from 'onnxruntime-web';\nvoid ort;\n")).toHaveLength(1);
    expect(await errorsFor('src/app.ts', "import { FsObjectStore } from './storage/fs-object-store.js';\nvoid FsObjectStore;\n")).toHaveLength(1);
  });

  it('allows them in runtime entries and backend adapters', async () => {
    expect(await errorsFor('src/runtime/node.ts', "import { readFile } from 'node:fs/promises';\nvoid readFile;\n")).toHaveLength(0);
    expect(await errorsFor('src/storage/fs-object-store.ts', "import { readFile } from 'node:fs/promises';\nvoid readFile;\n")).toHaveLength(0);
  });
});
