import { ALL_ACTIONS } from '../../kinds/registry.js';
import { DocumentBuilder, jsonAnswer, USER_SECURITY_SCHEMES, type OpenApiDocument } from './document.js';
import { addAction, bodyOf, ENDPOINT_TYPES, FREE_FORM_QUERY, ID_SCHEMA, methodOf, typesAnswering } from './operations.js';

const pathParameter = (name: string, description: string) => ({ name, in: 'path', required: true, description, schema: ID_SCHEMA });

const NODE_DESCRIPTION = `The user API of an apinode node, wire-compatible with the Dataiku DSS API node: every action of every endpoint type.

Each endpoint answers the actions of its type (the tags). A service's own document, with its endpoints, their features and the manifest's examples, is at \`/public/api/v1/{serviceId}/openapi.json\` (with the service's credentials); the admin API's, where the node has one, at \`/admin/api/openapi.json\`; both are browsable at \`/docs\`.

Bodies are JSON whatever the Content-Type. Credentials: API_KEYS services take the key as the HTTP Basic user name (empty password) or as a Bearer token; OAUTH2 services a Bearer JWT; PUBLIC services none.`;

let cached: OpenApiDocument | undefined;

/** GET /openapi.json: the node's whole user API, from the endpoint-kind registry (src/kinds/registry.ts). */
export function nodeDocument(): OpenApiDocument {
  return (cached ??= build());
}

function build(): OpenApiDocument {
  const doc = new DocumentBuilder('user');
  const service = pathParameter('serviceId', 'The service');
  for (const action of ALL_ACTIONS) {
    const path = `/public/api/v1/{serviceId}/{endpointId}/${action.name}`;
    doc.pathParameters(path, [service, pathParameter('endpointId', 'The endpoint, in the generation the call is dispatched to')]);
    const types = typesAnswering(action);
    const body = bodyOf(action);
    const name = `${action.name.replace(/(^|-)(\w)/g, (_, _d, ch: string) => ch.toUpperCase())}Request`;
    addAction(doc, path, action, {
      operationId: `${methodOf(action)}-${action.name}`,
      tags: types,
      description: `Answered by endpoints of type ${types.join(', ')}.`,
      ...(body ? { body: doc.schemas.ref(name, body, 'input') } : { parameters: [FREE_FORM_QUERY] }),
    });
  }

  doc.pathParameters('/public/api/v1/{serviceId}/openapi.json', [service]);
  doc.add('/public/api/v1/{serviceId}/openapi.json', 'get', {
    operationId: 'get-service-openapi',
    summary: "The service's own OpenAPI document",
    description: 'Every endpoint of one generation of the service (the one its mapping sends most traffic to, or `generation`), with its own features, parameters and examples.',
    tags: ['documents'],
    parameters: [{ name: 'generation', in: 'query', required: false, description: '@default - the mapping\'s most-weighted generation', schema: ID_SCHEMA }],
    answers: { 200: jsonAnswer('An OpenAPI 3.1 document', { type: 'object' }) },
    errors: [401, 403, 404, 500, 503],
  });
  doc.add('/openapi.json', 'get', {
    operationId: 'get-node-openapi',
    summary: 'This document',
    tags: ['documents'],
    answers: { 200: jsonAnswer('An OpenAPI 3.1 document', { type: 'object' }) },
    errors: [],
    security: [],
  });
  doc.add('/isAlive', 'get', {
    operationId: 'get-is-alive',
    summary: 'Health: 200 while the node serves',
    tags: ['documents'],
    answers: { 200: { description: 'Serving', content: { 'text/plain': { schema: { type: 'string', const: 'OK' } } } } },
    errors: [],
    security: [],
  });

  return doc.build({
    info: { title: 'apinode user API', version: '1', description: NODE_DESCRIPTION },
    tags: [...ENDPOINT_TYPES.map((name) => ({ name, description: `Actions of ${name} endpoints` })), { name: 'documents', description: 'API documents and health' }],
    securitySchemes: USER_SECURITY_SCHEMES,
    // Any one of them; none for PUBLIC services.
    security: [{ apiKey: [] }, { bearer: [] }, {}],
  });
}
