import { writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import type { KeyInfo, Mapping } from '@apinode/protocol';
import { output, report, UsageError } from './output.js';
import { adminClient } from './target.js';
import { pack, progressBar, readGeneration, uploadStream, validate } from './generation-files.js';
import { ROLLOUT_OPTIONS, ROLLOUT_USAGE, rolloutCommand, type RolloutFlags } from './rollout.js';
import { DRIFT_OPTIONS, DRIFT_USAGE, driftCommand, type DriftFlags } from './drift.js';

const USAGE = `apinode-admin <noun> <verb> [arguments] [options]

  service     create <id> [--auth PUBLIC|API_KEYS] | list | get <id> | delete <id> | enable <id> | disable <id>
              | clean-unused   (deletes disabled services and generations no mapping references)
              | cors <id> [<origin> ...]   (origins whose web pages may call it, e.g. http://localhost:*; none: no page)
  generation  build <folder> [--out file.tar.gz] | validate <folder|archive> | push <folder|archive> --service <id>
              | import-path <service> <path>   (an archive the node reads: a file under its APINODE_IMPORT_DIR,
                                                or a bucket key under imports/ on Lambda and Workers)
              | list <service> | preload <service> <generation>
  mapping     set <service> <gen>=<proba> ... | switch <service> <generation> | newest <service>
  key         add <service> [--label L] | list <service> | revoke <service> <id|label>
  admin-key   add [--label L] [--description D] [--created-by NAME] [--expiry DAYS|DATE|DATETIME] | list | revoke <id|label>
  cache       clear   (drops the loaded models of the instance that answers)
  metrics     [--prometheus]
${ROLLOUT_USAGE}
${DRIFT_USAGE}

Target (one of):
  --url http://host:port --admin-key KEY    a running node's admin API (or APINODE_URL, APINODE_ADMIN_KEY)
  --bucket ./data | s3://bucket/prefix      the bucket itself: a local folder, or S3 / R2's S3 API
                                            (AWS credentials; APINODE_S3_ENDPOINT, APINODE_S3_FORCE_PATH_STYLE)
Options: --json (machine-readable output), --help`;

type Flags = { json: boolean; url?: string; 'admin-key'?: string; bucket?: string; auth?: string; out?: string; service?: string; label?: string; description?: string; 'created-by'?: string; expiry?: string; prometheus: boolean; help: boolean } & RolloutFlags & DriftFlags;

/** One line per key: id first (what revoke takes), never the key. */
const keyLine = (k: KeyInfo) =>
  [k.id, k.label ?? '(no label)', k.createdAt ?? '', `sha256:${k.hashPrefix}…`, k.expiresAt ? `${k.expired ? 'expired' : 'expires'} ${k.expiresAt}` : ''].filter(Boolean).join('  ');

export async function main(argv: string[]): Promise<number> {
  let flags: Flags;
  let words: string[];
  try {
    const parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        json: { type: 'boolean', default: false },
        url: { type: 'string' },
        'admin-key': { type: 'string' },
        bucket: { type: 'string' },
        auth: { type: 'string' },
        out: { type: 'string' },
        service: { type: 'string' },
        label: { type: 'string' },
        description: { type: 'string' },
        'created-by': { type: 'string' },
        expiry: { type: 'string' },
        prometheus: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
        ...ROLLOUT_OPTIONS,
        ...DRIFT_OPTIONS,
      },
    });
    flags = parsed.values as Flags;
    words = parsed.positionals;
  } catch (e) {
    return report(new UsageError((e as Error).message, 'apinode-admin --help lists the commands'));
  }
  if (flags.help || words.length === 0) {
    process.stdout.write(USAGE + '\n');
    return flags.help ? 0 : 1;
  }
  try {
    await run(words, flags);
    return 0;
  } catch (e) {
    return report(e);
  }
}

async function run([noun, verb, ...args]: string[], f: Flags): Promise<void> {
  const out = output(f.json);
  const need = (i: number, what: string) => {
    const v = args[i];
    if (!v) throw new UsageError(`missing <${what}>`, `apinode-admin ${noun} ${verb} needs <${what}>; see apinode-admin --help`);
    return v;
  };
  const client = () => adminClient({ url: f.url, adminKey: f['admin-key'], bucket: f.bucket });
  const show = (v: unknown, human: () => string) => out.result(v, human);
  const status = (s: { serviceId: string; enabled: boolean; mapping: Mapping | null }) =>
    `${s.serviceId}: ${s.enabled ? 'enabled' : 'disabled'}, ${!s.mapping ? 'no mapping' : s.mapping.mode === 'SINGLE_GENERATION' ? `all traffic to ${s.mapping.generation}` : s.mapping.entries.map((e) => `${e.generation} ${Math.round(e.proba * 100)}%`).join(', ')}`;

  switch (`${noun} ${verb}`) {
    case 'service create': {
      const auth = f.auth?.toUpperCase();
      if (auth && auth !== 'PUBLIC' && auth !== 'API_KEYS') throw new UsageError(`unknown --auth "${f.auth}"`, 'use PUBLIC or API_KEYS (OAUTH2 via the admin API setAuth)');
      const s = await client().createService(need(0, 'id'), auth as 'PUBLIC' | 'API_KEYS' | undefined);
      return show(s, () => `created ${status(s)}`);
    }
    case 'service list': {
      const list = await client().listServices();
      return show(list, () => (list.length ? list.map(status).join('\n') : 'no services'));
    }
    case 'service get': {
      const s = await client().getService(need(0, 'id'));
      return show(s, () => `${status(s)}; auth ${s.auth.method} (${s.auth.keys} keys)`);
    }
    case 'service delete': {
      const r = await client().deleteService(need(0, 'id'));
      return show(r, () => `deleted ${r.deleted}`);
    }
    case 'service clean-unused': {
      const r = await client().cleanUnused();
      const gens = r.deletedGenerations.map((g) => `${g.serviceId}/${g.generation}`);
      return show(r, () => `deleted services: ${r.deletedServices.join(', ') || 'none'}\ndeleted generations: ${gens.join(', ') || 'none'}`);
    }
    case 'service cors': {
      const cors = await client().setCors(need(0, 'id'), args.slice(1));
      return show(cors, () => `${args[0]}: ${cors.allowedOrigins.length ? `web pages from ${cors.allowedOrigins.join(', ')} may call it` : 'no web page may call it'}`);
    }
    case 'service enable':
    case 'service disable': {
      const c = client();
      const s = verb === 'enable' ? await c.enableService(need(0, 'id')) : await c.disableService(need(0, 'id'));
      return show(s, () => status(s));
    }
    case 'generation build':
    case 'generation validate': {
      const files = await readGeneration(need(0, verb === 'build' ? 'folder' : 'folder|archive'));
      const v = await validate(files);
      const summary = { generation: v.manifest.generation, files: files.size, bytes: v.bytes, endpoints: v.manifest.endpoints.map((e) => e.id), examplesChecked: v.examplesChecked };
      if (verb === 'validate') return show({ valid: true, ...summary }, () => `valid: generation ${summary.generation}, ${summary.endpoints.length} endpoints, ${summary.examplesChecked} examples scored as expected`);
      const target = f.out ?? `${v.manifest.generation}.tar.gz`;
      await writeFile(target, pack(files));
      return show({ archive: target, ...summary }, () => `built ${target}: generation ${summary.generation}, ${summary.files} files, ${summary.examplesChecked} examples checked`);
    }
    case 'generation push': {
      const service = f.service ?? args[1];
      if (!service) throw new UsageError('missing --service', 'apinode-admin generation push <folder|archive> --service <id>');
      const archive = pack(await readGeneration(need(0, 'folder|archive')));
      const r = await client().importGeneration(service, uploadStream(archive, progressBar('uploading')));
      return show(r, () => `pushed generation ${r.generation} to ${r.serviceId}: ${r.files} files, ${r.examplesChecked} examples checked`);
    }
    case 'generation import-path': {
      const r = await client().importFromArchive(need(0, 'service'), need(1, 'path'));
      return show(r, () => `imported generation ${r.generation} into ${r.serviceId}: ${r.files} files, ${r.examplesChecked} examples checked`);
    }
    case 'generation list': {
      const { generations } = await client().listGenerations(need(0, 'service'));
      return show({ generations }, () => generations.map((g) => `${g.generation}  ${g.createdAt}  ${Math.round(g.proba * 100)}%  ${g.endpoints.map((e) => e.id).join(', ')}`).join('\n') || 'no generations');
    }
    case 'generation preload': {
      const r = await client().preloadGeneration(need(0, 'service'), need(1, 'generation'));
      return show(r, () => `preloaded ${r.generation}: ${r.endpoints.join(', ')}`);
    }
    case 'mapping set': {
      const service = need(0, 'service');
      const entries = args.slice(1).map((a) => {
        const [generation, proba] = a.split('=');
        if (!generation || proba === undefined || !Number.isFinite(Number(proba))) throw new UsageError(`"${a}" is not <generation>=<proba>`, 'e.g. apinode-admin mapping set demo v1=0.9 v2=0.1');
        return { generation, proba: Number(proba) };
      });
      if (!entries.length) throw new UsageError('no <generation>=<proba> given', 'e.g. apinode-admin mapping set demo v1=0.9 v2=0.1');
      const s = await client().setMapping(service, { mode: 'SPLIT', entries });
      return show(s, () => status(s));
    }
    case 'mapping switch': {
      const s = await client().switchTo(need(0, 'service'), need(1, 'generation'));
      return show(s, () => status(s));
    }
    case 'mapping newest': {
      const s = await client().switchToNewest(need(0, 'service'));
      return show(s, () => status(s));
    }
    case 'key add': {
      const k = await client().addServiceKey(need(0, 'service'), f.label);
      return show(k, () => `key "${k.label}": ${k.key}\n(shown once; store it now)`);
    }
    case 'key list': {
      const { keys } = await client().listServiceKeys(need(0, 'service'));
      return show({ keys }, () => keys.map(keyLine).join('\n') || 'no keys');
    }
    case 'key revoke': {
      const r = await client().revokeServiceKey(need(0, 'service'), need(1, 'id|label'));
      return show(r, () => `revoked key ${r.id}`);
    }
    case 'admin-key add': {
      const k = await client().addAdminKey({ label: f.label, description: f.description, createdBy: f['created-by'], expiry: f.expiry });
      return show(k, () => `admin key ${k.id}${k.label ? ` "${k.label}"` : ''}${k.expiresAt ? `, expires ${k.expiresAt}` : ''}: ${k.key}\n(shown once; store it now)`);
    }
    case 'admin-key list': {
      const { keys } = await client().listAdminKeys();
      return show({ keys }, () => keys.map(keyLine).join('\n') || 'no admin keys (the bootstrap key APINODE_ADMIN_KEY is not listed)');
    }
    case 'admin-key revoke': {
      const r = await client().revokeAdminKey(need(0, 'id|label'));
      return show(r, () => `revoked admin key ${r.id}`);
    }
    case 'cache clear': {
      const r = await client().clearModelCache();
      return show(r, () => `dropped ${r.models} loaded models (${r.bytes} bytes) and ${r.generations} cached generations on the instance that answered`);
    }
    default:
      if (noun === 'rollout') return rolloutCommand(verb, args, f, client, show);
      if (noun === 'drift') return driftCommand([verb ?? '', ...args], f, client, show);
      if (noun === 'metrics') {
        const c = client();
        if (f.prometheus) return void process.stdout.write(await c.metricsPrometheus());
        const m = await c.metrics();
        return show(m, () => m.endpoints.map((e) => `${e.serviceId}/${e.endpointId} ${e.generation}: ${e.requests} requests, ${e.records} records, ${Object.values(e.errors).reduce((a, b) => a + b, 0)} errors, mean ${(e.latency.sumMs / Math.max(1, e.latency.count)).toFixed(1)} ms`).join('\n') || 'no requests yet');
      }
      throw new UsageError(`unknown command "${[noun, verb].filter(Boolean).join(' ')}"`, 'apinode-admin --help lists the commands');
  }
}
