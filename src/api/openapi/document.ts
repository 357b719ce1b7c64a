import { DSS_API_VERSION, DSS_VERSION, ERROR_TYPES, ErrorBody, type ErrorStatus, type ErrorType } from '@apinode/protocol';
import { SchemaComponents, type Json } from './json-schema.js';

/** An OpenAPI 3.1 document, as much of it as the node writes. */
export interface OpenApiDocument {
  readonly openapi: '3.1.0';
  readonly info: { readonly title: string; readonly version: string; readonly description: string };
  readonly tags: readonly Json[];
  readonly paths: Record<string, Json>;
  readonly components: Json;
}

/** Which errorTypes an error answer lists: the user API's, or the admin API's too. */
export type Audience = 'user' | 'admin';

export type Method = 'get' | 'post' | 'put' | 'delete';

export interface Operation {
  readonly operationId: string;
  readonly summary: string;
  readonly description?: string;
  readonly tags: readonly string[];
  readonly parameters?: readonly Json[];
  readonly requestBody?: Json;
  /** The success answers: status to response object. */
  readonly answers: Record<number, Json>;
  /** The error statuses the operation may answer. */
  readonly errors: readonly ErrorStatus[];
  /** @default - the document's security */
  readonly security?: readonly Json[];
  readonly deprecated?: boolean;
}

const STATUS_TEXT: Record<ErrorStatus, string> = {
  400: 'Bad request',
  401: 'Missing, invalid or expired credentials',
  403: 'Valid credentials without access',
  404: 'Not found',
  405: 'Method not allowed',
  409: 'Conflict with the current state',
  413: 'Body too large',
  415: 'Unsupported media type',
  422: 'Not possible on this endpoint',
  429: 'Too many requests',
  500: 'Internal error',
  503: 'A dependency is down, or the service is not serving',
  508: 'Loop detected',
};

/** Headers on every answer, errors included (src/api/http.ts commonHeaders). */
const COMMON_HEADERS = {
  'DSS-API-Version': { description: 'The DSS API version the node speaks', schema: { type: 'string', const: DSS_API_VERSION } },
  'DSS-Version': { description: 'The DSS version the node is compatible with', schema: { type: 'string', const: DSS_VERSION } },
  'X-Request-Id': { description: 'The request id (the caller\'s X-Request-Id, or a new one): quote it when reporting a problem', schema: { type: 'string' } },
};
const headerRefs = (names: readonly string[]) => Object.fromEntries(names.map((n) => [n, { $ref: `#/components/headers/${n}` }]));
export const ANSWER_HEADERS = headerRefs(Object.keys(COMMON_HEADERS));

/**
 * One OpenAPI 3.1 document being written: paths, operations, and components (zod schemas by
 * name, error answers, headers). Error answers are ErrorBody, described with every errorType
 * the node answers with that status (packages/protocol ERROR_TYPES).
 */
export class DocumentBuilder {
  readonly schemas = new SchemaComponents();
  private readonly paths: Record<string, Json> = {};
  private readonly statuses = new Set<ErrorStatus>();
  private readonly headers: Record<string, Json> = { ...COMMON_HEADERS };

  constructor(private readonly audience: Audience) {
    this.schemas.ref('ErrorBody', ErrorBody, 'output');
  }

  /** A header some answers carry, beside the common ones; returns its $ref. */
  header(name: string, header: Json): Json {
    this.headers[name] = header;
    return { $ref: `#/components/headers/${name}` };
  }

  /** Parameters shared by every operation of a path (path parameters). */
  pathParameters(path: string, parameters: readonly Json[]): void {
    (this.paths[path] ??= {}).parameters = parameters;
  }

  add(path: string, method: Method, op: Operation): void {
    const item = (this.paths[path] ??= {});
    if (item[method]) throw new Error(`${method.toUpperCase()} ${path} is documented twice`);
    for (const s of op.errors) this.statuses.add(s);
    const errors = Object.fromEntries(op.errors.map((s) => [String(s), { $ref: `#/components/responses/Error${s}` }]));
    item[method] = {
      operationId: op.operationId,
      summary: op.summary,
      ...(op.description ? { description: op.description } : {}),
      tags: op.tags,
      ...(op.parameters?.length ? { parameters: op.parameters } : {}),
      ...(op.requestBody ? { requestBody: op.requestBody } : {}),
      responses: { ...op.answers, ...errors },
      ...(op.security ? { security: op.security } : {}),
      ...(op.deprecated ? { deprecated: true } : {}),
    };
  }

  build(parts: { info: OpenApiDocument['info']; tags: readonly Json[]; securitySchemes: Json; security?: readonly Json[] }): OpenApiDocument & Json {
    const responses = Object.fromEntries([...this.statuses].sort((a, b) => a - b).map((s) => [`Error${s}`, this.errorResponse(s)]));
    return {
      openapi: '3.1.0',
      info: parts.info,
      tags: parts.tags,
      ...(parts.security ? { security: parts.security } : {}),
      paths: this.paths,
      components: { schemas: this.schemas.toJSON(), responses, headers: this.headers, securitySchemes: parts.securitySchemes },
    };
  }

  private errorResponse(status: ErrorStatus): Json {
    const types = (Object.entries(ERROR_TYPES) as [ErrorType, { status: readonly ErrorStatus[]; meaning: string }][]).filter(
      ([, t]) => t.status.includes(status) && (this.audience === 'admin' || !t.meaning.startsWith('admin:')),
    );
    const list = types.map(([name, t]) => `- \`${name}\`: ${t.meaning.replace(/^admin: /, '')}`).join('\n');
    return {
      description: `${STATUS_TEXT[status]}${list ? `. errorType is one of:\n${list}` : ''}`,
      headers: ANSWER_HEADERS,
      content: { 'application/json': { schema: { $ref: '#/components/schemas/ErrorBody' } } },
    };
  }
}

/** A 200 (or 201) answer with a JSON body. */
export const jsonAnswer = (description: string, schema: Json, headers: Json = {}): Json => ({
  description,
  headers: { ...ANSWER_HEADERS, ...headers },
  content: { 'application/json': { schema } },
});

/** A JSON request body. */
export const jsonBody = (schema: Json, examples?: Record<string, Json>): Json => ({
  required: true,
  content: { 'application/json': { schema, ...(examples && Object.keys(examples).length ? { examples } : {}) } },
});

/** Every key of a service's user API, as the node takes it (src/api/auth.ts). */
export const USER_SECURITY_SCHEMES = {
  apiKey: { type: 'http', scheme: 'basic', description: 'API_KEYS services: the API key as the user name, with an empty password (what DSS clients send)' },
  bearer: { type: 'http', scheme: 'bearer', description: 'API_KEYS services: the API key as a Bearer token; OAUTH2 services: an access token (a JWT) from the service\'s issuer' },
} as const;
