import type { EndpointSpec, Mapping, ServiceConfig } from '@apinode/protocol';
import { kindOf } from '../../kinds/registry.js';
import type { Generation } from '../../services/generations.js';
import { DocumentBuilder, USER_SECURITY_SCHEMES, type OpenApiDocument } from './document.js';
import { bodyExamples, examplesOf, fieldsOf, queryParameters, recordOf, withFields } from './endpoint-inputs.js';
import { jsonSchema, type Json } from './json-schema.js';
import { addAction, bodyOf, FREE_FORM_QUERY, methodOf } from './operations.js';

/**
 * The generation a service's document describes unless asked for another: the one its mapping
 * sends most traffic to (the first listed of equals). A call may still be dispatched to another
 * generation of the mapping, which may have other endpoints: the document says so.
 */
export function describedGeneration(mapping: Mapping): string {
  if (mapping.mode === 'SINGLE_GENERATION') return mapping.generation;
  return mapping.entries.reduce((best, e) => (e.proba > best.proba ? e : best)).generation;
}

function shares(mapping: Mapping): string {
  if (mapping.mode === 'SINGLE_GENERATION') return `all traffic to ${mapping.generation}`;
  return mapping.entries.map((e) => `${e.generation} ${Math.round(e.proba * 100)}%`).join(', ');
}

/** How the service takes credentials: its security schemes, and the requirement every operation has. */
function security(service: ServiceConfig): { securitySchemes: Json; security: Json[] } {
  switch (service.auth.method) {
    case 'PUBLIC':
      return { securitySchemes: {}, security: [] };
    case 'API_KEYS':
      return { securitySchemes: USER_SECURITY_SCHEMES, security: [{ apiKey: [] }, { bearer: [] }] };
    case 'OAUTH2':
      return {
        securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT', description: `An access token from ${service.auth.oauth2?.issuer ?? 'the service\'s issuer'}` } },
        security: [{ bearer: [] }],
      };
  }
}

/** The costly part of a service's document (its paths and schemas), once per loaded generation: manifests never change. */
const documented = new WeakMap<Generation, OpenApiDocument>();

/**
 * GET /public/api/v1/{serviceId}/openapi.json: every endpoint of one generation, each action of
 * its kind with the endpoint's own inputs (features, parameters, keys) typed from the manifest,
 * and the manifest's examples as request examples.
 */
export function serviceDocument(service: ServiceConfig, generation: Generation): OpenApiDocument {
  let endpoints = documented.get(generation);
  if (!endpoints) {
    const doc = new DocumentBuilder('user');
    for (const spec of generation.manifest.endpoints) addEndpoint(doc, service.serviceId, spec);
    const tags = generation.manifest.endpoints.map((e) => ({ name: e.id, description: describe(e) }));
    endpoints = doc.build({ info: { title: '', version: generation.id, description: '' }, tags, securitySchemes: {} });
    documented.set(generation, endpoints);
  }
  // What may change without a new generation: the mapping, the auth method.
  const { securitySchemes, security: requirement } = security(service);
  const info = { title: `Service ${service.serviceId}`, version: generation.id, description: about(service, generation) };
  return { ...endpoints, info, security: requirement, components: { ...endpoints.components, securitySchemes } } as OpenApiDocument;
}

function about(service: ServiceConfig, generation: Generation): string {
  const { mapping } = service;
  const { manifest } = generation;
  const chosen = mapping && describedGeneration(mapping) === generation.id ? ', the one its mapping sends most traffic to' : '';
  return [
    `Generation **${generation.id}** of service **${service.serviceId}**${chosen}${manifest.description ? `: ${manifest.description}` : ''}.`,
    mapping ? `The mapping: ${shares(mapping)}. A call may be dispatched to another generation of the mapping (\`dispatch\` in predict bodies); \`?generation=\` on this document describes another.` : '',
    `Authentication: ${service.auth.method}.`,
  ]
    .filter(Boolean)
    .join('\n\n');
}

function describe(spec: EndpointSpec): string {
  const prediction = 'predictionType' in spec ? ` (${spec.predictionType})` : '';
  return `${spec.type}${prediction}${spec.description ? `: ${spec.description}` : ''}`;
}

function addEndpoint(doc: DocumentBuilder, serviceId: string, spec: EndpointSpec): void {
  const fields = fieldsOf(spec);
  const record = fields ? recordOf(fields) : undefined;
  const examples = examplesOf(spec);
  for (const action of kindOf(spec.type).actions) {
    const body = bodyOf(action);
    const operationId = `${spec.id}.${methodOf(action)}-${action.name}`;
    const common = { operationId, tags: [spec.id], description: describe(spec) };
    const path = `/public/api/v1/${serviceId}/${spec.id}/${action.name}`;
    if (body) {
      const schema = record ? withFields(body, record) : body;
      addAction(doc, path, action, { ...common, body: jsonSchema(schema, 'input'), bodyExamples: bodyExamples(schema, examples) });
    } else {
      const parameters = fields ? queryParameters(fields, examples.records[0]?.features) : [FREE_FORM_QUERY];
      addAction(doc, path, action, { ...common, parameters });
    }
  }
}
