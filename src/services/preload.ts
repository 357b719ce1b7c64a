import type { Deps } from './deps.js';
import { mappedGenerations } from './dispatch.js';

/** One item of APINODE_PRELOAD: a service (every generation its mapping names), or one generation of it. */
export interface PreloadItem {
  readonly serviceId: string;
  readonly generation: string | undefined;
}

/** APINODE_PRELOAD: `service` or `service/generation`, comma-separated (`demo,shop/v2`). */
export function parsePreload(value: string | undefined): PreloadItem[] {
  return (value ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((item) => {
      const [serviceId, generation] = item.split('/') as [string, string | undefined];
      return { serviceId, generation };
    });
}

/**
 * Loads the listed generations and their models now, at start-up (Lambda's init phase), so that
 * the first requests neither wait for them nor need the store. A service that does not exist or
 * has no mapping, or a generation that is not committed, is a configuration mistake: it throws.
 */
export async function preload(deps: Pick<Deps, 'registry' | 'generations' | 'log'>, items: readonly PreloadItem[]): Promise<void> {
  for (const { serviceId, generation } of items) {
    const mapping = generation ? undefined : (await deps.registry.get(serviceId))?.mapping;
    const generations = generation ? [generation] : mapping ? mappedGenerations(mapping) : null;
    if (!generations) throw new Error(`APINODE_PRELOAD: service "${serviceId}" does not exist or has no generation mapping`);
    const t0 = performance.now();
    for (const g of generations) await deps.generations.preload(serviceId, g);
    deps.log.info('preloaded', { serviceId, generations, ms: Math.round(performance.now() - t0) });
  }
}
