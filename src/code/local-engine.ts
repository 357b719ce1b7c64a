import RELEASE_SYNC from '@jitl/quickjs-wasmfile-release-sync';
import { newQuickJSWASMModuleFromVariant, newVariant, type QuickJSWASMModule } from 'quickjs-emscripten-core';
import type { CodeLimits } from '@apinode/protocol';
import type { CodeEngine, KeptState, ModuleShape } from './engine.js';
import type { HostApi } from './host-bridge.js';
import { unavailableError } from './sandbox-errors.js';
import { disposeInstance, invoke, KeptInstance, newInstance, type Instance, type SandboxCall, type SandboxResult } from './sandbox-instance.js';

/**
 * The QuickJS WebAssembly module, handed in by the runtime entry where the platform cannot
 * compile WebAssembly from bytes (Workers: imported as CompiledWasm). Absent, the variant
 * loads its own `.wasm` file next to its glue (Node; Lambda, where the bundle ships it).
 */
export type SandboxWasm = WebAssembly.Module | (() => Promise<WebAssembly.Module>);

/**
 * Runs user JavaScript in QuickJS compiled to WebAssembly, in this thread: no eval of user code
 * in the host engine (Workers forbid it), no globals beyond the ECMAScript ones plus `console`
 * and `apinode`, a CPU-time and a memory limit per call. One WebAssembly instance per engine;
 * every call gets its own QuickJS runtime (heap) unless `keepState` says otherwise. On Workers
 * this is the engine; on Node and Lambda each pool thread runs one (src/runtime/code-pool.ts).
 */
export class LocalEngine implements CodeEngine {
  private module: Promise<QuickJSWASMModule> | null = null;
  private loaded: QuickJSWASMModule | null = null;
  /** Milliseconds the last WebAssembly instantiation took (the sandbox start cost). */
  startMs = 0;

  constructor(private readonly wasm?: SandboxWasm) {}

  async start(): Promise<void> {
    await this.quickjs();
  }

  /** Bytes of WebAssembly memory the QuickJS module holds now (it never shrinks; 0 before the first call). */
  memoryBytes(): number {
    try {
      return this.loaded ? this.loaded.getWasmMemory().buffer.byteLength : 0;
    } catch {
      return 0;
    }
  }

  private quickjs(): Promise<QuickJSWASMModule> {
    if (!this.module) {
      const t0 = performance.now();
      const wasm = this.wasm;
      const variant = wasm ? newVariant(RELEASE_SYNC, { wasmModule: typeof wasm === 'function' ? wasm : () => wasm }) : RELEASE_SYNC;
      this.module = newQuickJSWASMModuleFromVariant(variant).then(
        (m) => ((this.startMs = performance.now() - t0), (this.loaded = m)),
        (e: unknown) => {
          this.module = null;
          throw unavailableError(e);
        },
      );
    }
    return this.module;
  }

  /** Called by an instance that saw the shared module fail: the next call instantiates a new one. */
  private readonly dropModule = (): void => {
    this.module = null;
    this.loaded = null;
  };

  /** Evaluates a module (at import) and describes its exports; throws what went wrong as text. */
  async inspect(source: string, file: string, limits: CodeLimits): Promise<ModuleShape> {
    const shape: ModuleShape = { exports: {}, sources: {} };
    await this.withInstance(source, file, limits, null, async (inst) => {
      const { vm } = inst;
      const keys = vm.getProp(vm.global, '__exports');
      inst.meter.enter();
      let listed;
      try {
        // Getters of the namespace are the user's: read on the meter.
        listed = vm.unwrapResult(vm.callFunction(keys, vm.undefined, inst.ns));
      } finally {
        inst.meter.leave();
        keys.dispose();
      }
      let text;
      try {
        if (vm.typeof(listed) !== 'string') throw new Error('the module replaced what the sandbox uses to list its exports (JSON, Object.keys)');
        text = vm.getString(listed);
      } finally {
        listed.dispose();
      }
      const list = JSON.parse(text) as [string, 'function' | 'value', string][];
      for (const [name, kind, text] of list) {
        shape.exports[name] = kind;
        if (kind === 'function') shape.sources[name] = text;
      }
    });
    return shape;
  }

  async run(call: SandboxCall, kept?: KeptState): Promise<SandboxResult> {
    if (kept) {
      const k = kept as KeptInstance;
      return k.serialize(() => this.runIn(call, k));
    }
    let result: SandboxResult | undefined;
    await this.withInstance(call.source, call.file, call.limits, call.host, async (inst) => {
      result = await invoke(inst, call);
    });
    return result!;
  }

  /** A state that lives across calls: one runtime per endpoint and engine, calls in turn. */
  keep(): KeptState {
    return new KeptInstance();
  }

  /** Frees a kept state's runtime (its heap lives in the WebAssembly memory, which no GC reclaims). */
  release(kept: KeptState): void {
    const k = kept as KeptInstance;
    void k.serialize(async () => {
      if (k.instance) disposeInstance(k.instance);
      k.instance = null;
    });
  }

  private async runIn(call: SandboxCall, kept: KeptInstance): Promise<SandboxResult> {
    const t0 = performance.now();
    if (!kept.instance) {
      const inst = await this.create(call.source, call.file, call.limits, call.host);
      kept.instance = inst;
    }
    const inst = kept.instance;
    inst.host = call.host;
    inst.logLines = 0;
    inst.meter.reset(call.limits.cpuTimeMs);
    const startUs = Math.round((performance.now() - t0) * 1000);
    try {
      const r = await invoke(inst, call);
      return { ...r, startUs };
    } catch (e) {
      // A limit hit or a crash may leave the module half-updated: start afresh next time.
      kept.instance = null;
      disposeInstance(inst);
      throw e;
    }
  }

  private async withInstance(source: string, file: string, limits: CodeLimits, host: HostApi | null, use: (inst: Instance) => Promise<void>): Promise<void> {
    const inst = await this.create(source, file, limits, host);
    try {
      await use(inst);
    } finally {
      disposeInstance(inst);
    }
  }

  private async create(source: string, file: string, limits: CodeLimits, host: HostApi | null): Promise<Instance> {
    const t0 = performance.now();
    const inst = newInstance(await this.quickjs(), source, file, limits, host, this.dropModule);
    inst.startUs = Math.round((performance.now() - t0) * 1000);
    return inst;
  }
}
