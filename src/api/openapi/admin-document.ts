import {
  CleanUnusedResult,
  CorsSettings,
  CreateAdminKeyRequest,
  CreatedKey,
  CreateKeyRequest,
  CreateServiceRequest,
  DriftReport,
  GenerationList,
  ImportResult,
  KeyList,
  MetricsSnapshot,
  ModelCacheCleared,
  RevokedKey,
  RolloutStartRequest,
  RolloutState,
  RolloutStatus,
  ServiceStatus,
  SetAuthRequest,
  SetMappingRequest,
  type ErrorStatus,
} from '@apinode/protocol';
import { z, type ZodType } from 'zod';
import { DocumentBuilder, jsonAnswer, jsonBody, type Method, type OpenApiDocument } from './document.js';
import type { Json } from './json-schema.js';
import { ID_SCHEMA } from './operations.js';

type Named = readonly [name: string, schema: ZodType];

/** One admin route as the document shows it. Paths are Hono's (":serviceId"), relative to /admin/api. */
interface AdminRoute {
  readonly method: Method;
  readonly path: string;
  readonly summary: string;
  readonly tag: 'services' | 'generations' | 'keys' | 'node' | 'not supported';
  readonly body?: Named | 'archive';
  readonly query?: readonly Json[];
  readonly answer?: Named;
  /** @default 200 */
  readonly created?: boolean;
  /** Beyond 400, 401, 500 and 503, which any admin call may answer (and 404 with a path parameter). */
  readonly errors?: readonly ErrorStatus[];
}

const Services: Named = ['ServiceList', z.array(ServiceStatus)];
const Status: Named = ['ServiceStatus', ServiceStatus];
const Revoked: Named = ['RevokedKey', RevokedKey];
const Deleted: Named = ['DeletedService', z.object({ deleted: z.string() })];
const Preloaded: Named = ['PreloadedGeneration', z.object({ serviceId: z.string(), generation: z.string(), endpoints: z.array(z.string()) })];
const Imported: Named = ['ImportResult', ImportResult];

/**
 * Every route of the admin API (src/api/admin-routes.ts and the route files it mounts). The
 * admin routes have no registry to read, so test/unit/openapi.test.ts compares this table with
 * the routes the admin app really has: a route added there and not here fails it.
 */
export const ADMIN_ROUTES: readonly AdminRoute[] = [
  { method: 'get', path: '/services', summary: 'List services', tag: 'services', answer: Services },
  { method: 'post', path: '/services', summary: 'Create a service (disabled until a mapping is set)', tag: 'services', body: ['CreateServiceRequest', CreateServiceRequest], answer: Status, created: true, errors: [409] },
  { method: 'get', path: '/services/:serviceId', summary: 'A service: auth, mapping, enabled', tag: 'services', answer: Status },
  { method: 'delete', path: '/services/:serviceId', summary: 'Delete a service and all its generations', tag: 'services', answer: Deleted },
  { method: 'delete', path: '/services-clean-unused', summary: 'Delete disabled services and generations no mapping references', tag: 'services', answer: ['CleanUnusedResult', CleanUnusedResult] },
  { method: 'post', path: '/services/:serviceId/actions/enable', summary: 'Enable the service', tag: 'services', answer: Status, errors: [409] },
  { method: 'post', path: '/services/:serviceId/actions/disable', summary: 'Disable the service (its calls answer 503)', tag: 'services', answer: Status },
  { method: 'post', path: '/services/:serviceId/actions/setMapping', summary: 'Set the generation mapping (enables the service)', tag: 'services', body: ['SetMappingRequest', SetMappingRequest], answer: Status, errors: [409] },
  { method: 'post', path: '/services/:serviceId/actions/switchToNewest', summary: 'Send all traffic to the newest generation', tag: 'services', answer: Status, errors: [409] },
  { method: 'post', path: '/services/:serviceId/actions/switchTo/:generation', summary: 'Send all traffic to one generation', tag: 'services', answer: Status, errors: [409] },
  { method: 'post', path: '/services/:serviceId/actions/setAuth', summary: 'Set how callers authenticate (PUBLIC, API_KEYS, OAUTH2)', tag: 'services', body: ['SetAuthRequest', SetAuthRequest], answer: Status },
  { method: 'put', path: '/services/:serviceId/cors', summary: 'Set the origins whose web pages may call the service ([] allows none)', tag: 'services', body: ['CorsSettings', CorsSettings], answer: ['ServiceCors', CorsSettings] },
  { method: 'post', path: '/services/:serviceId/rollout', summary: 'Start a guarded rollout of a committed generation (docs/rollouts.md)', tag: 'services', body: ['RolloutStartRequest', RolloutStartRequest], answer: ['RolloutState', RolloutState], created: true, errors: [409] },
  { method: 'get', path: '/services/:serviceId/rollout', summary: "The rollout's state, the mapping it asks for and the running step's figures so far", tag: 'services', answer: ['RolloutStatus', RolloutStatus] },
  { method: 'post', path: '/services/:serviceId/rollout/promote', summary: "All traffic to the rollout's generation now", tag: 'services', answer: ['RolloutState', RolloutState], errors: [409] },
  { method: 'post', path: '/services/:serviceId/rollout/abort', summary: 'Back to the mapping the rollout started from', tag: 'services', answer: ['RolloutState', RolloutState], errors: [409] },
  { method: 'post', path: '/services/:serviceId/rollout/check', summary: 'Check the rollout now, as the schedule does every minute', tag: 'services', answer: ['RolloutStatus', RolloutStatus] },
  { method: 'get', path: '/services/:serviceId/generations', summary: 'List committed generations', tag: 'generations', answer: ['GenerationList', GenerationList] },
  { method: 'post', path: '/services/:serviceId/generations', summary: 'Import a generation archive (tar.gz, tar or zip), validated before it is committed', tag: 'generations', body: 'archive', answer: Imported, created: true, errors: [409, 413] },
  {
    method: 'post',
    path: '/services/:serviceId/generations/actions/importFromArchive',
    summary: 'Import an archive the node reads itself (Node: a file under APINODE_IMPORT_DIR; Lambda, Workers: a bucket key under imports/)',
    tag: 'generations',
    query: [{ name: 'filePath', in: 'query', required: true, schema: { type: 'string' } }],
    answer: Imported,
    created: true,
    errors: [403, 409, 413],
  },
  { method: 'post', path: '/services/:serviceId/generations/:generation/preload', summary: 'Load a generation on the instance that answers', tag: 'generations', answer: Preloaded },
  { method: 'get', path: '/services/:serviceId/keys', summary: "List the service's API keys (never the keys themselves)", tag: 'keys', answer: ['KeyList', KeyList] },
  { method: 'post', path: '/services/:serviceId/keys', summary: 'Add an API key (shown once, in this answer)', tag: 'keys', body: ['CreateKeyRequest', CreateKeyRequest], answer: ['CreatedKey', CreatedKey], created: true, errors: [409] },
  { method: 'delete', path: '/services/:serviceId/keys/:key', summary: 'Revoke an API key by id, label or the key itself', tag: 'keys', answer: Revoked, errors: [409] },
  { method: 'get', path: '/keys', summary: 'List admin keys', tag: 'keys', answer: ['KeyList', KeyList] },
  { method: 'post', path: '/keys', summary: 'Add an admin key (shown once, in this answer)', tag: 'keys', body: ['CreateAdminKeyRequest', CreateAdminKeyRequest], answer: ['CreatedKey', CreatedKey], created: true, errors: [409] },
  { method: 'delete', path: '/keys/:key', summary: 'Revoke an admin key by id, label or the key itself', tag: 'keys', answer: Revoked, errors: [409] },
  { method: 'delete', path: '/keys/:key/key', summary: 'Revoke an admin key by id', tag: 'keys', answer: Revoked },
  {
    method: 'get',
    path: '/metrics',
    summary: "This instance's request metrics (Prometheus text with ?format=prometheus)",
    tag: 'node',
    query: [{ name: 'format', in: 'query', required: false, schema: { type: 'string', enum: ['prometheus'] } }],
    answer: ['MetricsSnapshot', MetricsSnapshot],
  },
  { method: 'delete', path: '/model-cache', summary: 'Drop the loaded models of the instance that answers', tag: 'node', answer: ['ModelCacheCleared', ModelCacheCleared] },
  {
    method: 'get',
    path: '/services/:serviceId/endpoints/:endpointId/drift',
    summary: "Drift report: the stored query log's inputs against the generation's reference, features sorted by drift (docs/drift.md)",
    tag: 'services',
    query: ['since', 'until', 'generation'].map((name) => ({ name, in: 'query', required: false, schema: { type: 'string' } })),
    answer: ['DriftReport', DriftReport],
  },
  { method: 'post', path: '/cached-code-envs', summary: 'DSS: import code environments (none here: 400 OPERATION_NOT_SUPPORTED)', tag: 'not supported' },
  { method: 'delete', path: '/cached-code-envs', summary: 'DSS: clean code environments (none here: 400 OPERATION_NOT_SUPPORTED)', tag: 'not supported' },
  { method: 'post', path: '/register-global-code-env', summary: 'DSS: register a code environment (none here: 400 OPERATION_NOT_SUPPORTED)', tag: 'not supported' },
  { method: 'post', path: '/model-cache', summary: 'DSS: import into the model archive cache (none here: 400 OPERATION_NOT_SUPPORTED)', tag: 'not supported' },
];

const ADMIN_DESCRIPTION = `The admin API of an apinode node (DSS-compatible routes, plus keys, auth and CORS management), at \`/admin/api\`.

Every call needs an admin key (APINODE_ADMIN_KEY, or one created with POST keys) as the HTTP Basic user name (empty password) or as a Bearer token. Every change is written to the node's log as an audit line.`;

let cached: OpenApiDocument | undefined;

/** GET /admin/api/openapi.json. */
export function adminDocument(): OpenApiDocument {
  return (cached ??= build());
}

function build(): OpenApiDocument {
  const doc = new DocumentBuilder('admin');
  for (const r of ADMIN_ROUTES) {
    const params = [...r.path.matchAll(/:(\w+)/g)].map((m) => m[1]!);
    const path = `/admin/api${r.path.replace(/:(\w+)/g, '{$1}')}`;
    if (params.length) doc.pathParameters(path, params.map((name) => ({ name, in: 'path', required: true, schema: name === 'key' ? { type: 'string' } : ID_SCHEMA })));
    const body =
      r.body === 'archive'
        ? { required: true, content: { 'application/octet-stream': { schema: { type: 'string', contentMediaType: 'application/octet-stream' } } } }
        : r.body
          ? jsonBody(doc.schemas.ref(r.body[0], r.body[1], 'input'))
          : undefined;
    const answers = r.answer ? { [r.created ? 201 : 200]: jsonAnswer(r.summary, doc.schemas.ref(r.answer[0], r.answer[1], 'output')) } : {};
    const errors: ErrorStatus[] = [400, 401, ...(params.length ? [404 as const] : []), ...(r.errors ?? []), ...(body ? [413 as const] : []), 500, 503];
    doc.add(path, r.method, {
      operationId: `${r.method}${r.path.replace(/[/:]+(\w)/g, (_, ch: string) => ch.toUpperCase()).replace(/[^A-Za-z0-9]/g, '')}`,
      summary: r.summary,
      tags: [r.tag],
      ...(r.query ? { parameters: r.query } : {}),
      ...(body ? { requestBody: body } : {}),
      answers,
      errors: [...new Set(errors)],
      ...(r.tag === 'not supported' ? { deprecated: true } : {}),
    });
  }
  doc.add('/admin/api/openapi.json', 'get', {
    operationId: 'getAdminOpenapi',
    summary: 'This document',
    tags: ['node'],
    answers: { 200: jsonAnswer('An OpenAPI 3.1 document', { type: 'object' }) },
    errors: [],
    security: [],
  });
  return doc.build({
    info: { title: 'apinode admin API', version: '1', description: ADMIN_DESCRIPTION },
    tags: [
      { name: 'services', description: 'Services: creation, mapping, auth, CORS' },
      { name: 'generations', description: 'Generations: import, list, preload' },
      { name: 'keys', description: 'Service API keys and admin keys' },
      { name: 'node', description: 'The instance that answers: metrics, model cache' },
      { name: 'not supported', description: 'DSS admin routes a serverless node has no equivalent for' },
    ],
    securitySchemes: {
      adminKey: { type: 'http', scheme: 'basic', description: 'The admin key as the user name, with an empty password' },
      adminBearer: { type: 'http', scheme: 'bearer', description: 'The admin key as a Bearer token' },
    },
    security: [{ adminKey: [] }, { adminBearer: [] }],
  });
}
