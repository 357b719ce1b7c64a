import { EndpointSpec, Id, type ErrorStatus } from '@apinode/protocol';
import { z } from 'zod';
import type { Action, EndpointType } from '../../kinds/kind.js';
import { kindOf } from '../../kinds/registry.js';
import { actionDoc, SHARED_ANSWER_PARTS } from './answers.js';
import { jsonAnswer, jsonBody, type DocumentBuilder, type Method, type Operation } from './document.js';
import { jsonSchema, type Json } from './json-schema.js';

/** Every endpoint type of the manifest schema, in its order. */
export const ENDPOINT_TYPES: readonly EndpointType[] = EndpointSpec.options.flatMap((o) => {
  const type = o.shape.type;
  return type instanceof z.ZodEnum ? (type.options as EndpointType[]) : ([...type.values] as EndpointType[]);
});

/** The endpoint types whose kind answers this action. */
export const typesAnswering = (action: Action): EndpointType[] =>
  ENDPOINT_TYPES.filter((t) => kindOf(t).actions.some((a) => a.method === action.method && a.name === action.name));

export const methodOf = (action: Action) => action.method.toLowerCase() as Method;

/** A POST body schema, when the action reads one (else it reads the query string). */
export const bodyOf = (action: Action) => ('body' in action.input ? action.input.body : undefined);

/** What any user-API call may answer besides its result (DESIGN 2). */
function userErrors(action: Action): ErrorStatus[] {
  const body = bodyOf(action);
  const explains = body instanceof z.ZodObject && 'explanations' in body.shape;
  return [400, 401, 403, 404, ...(body ? [413 as const] : []), ...(explains ? [422 as const] : []), 500, 503];
}

export const ID_SCHEMA = jsonSchema(Id, 'input');

export const GENERATION_HEADER = {
  description: 'The generation that answered (the mapping, a dispatch key or a forced generation chose it)',
  schema: { type: 'string' },
};

/** The query string of a GET action whose inputs the document cannot name: every parameter is one input. */
export const FREE_FORM_QUERY: Json = {
  name: 'inputs',
  in: 'query',
  description: 'One query parameter per input: a feature (predict-simple), a key (lookup-simple), a named argument (run: JSON values are decoded) or a SQL parameter (query)',
  style: 'form',
  explode: true,
  schema: { type: 'object', additionalProperties: { type: 'string' } },
};

export interface ActionParts {
  readonly operationId: string;
  readonly tags: readonly string[];
  readonly description: string;
  /** The request body's schema (POST). */
  readonly body?: Json;
  readonly bodyExamples?: Record<string, Json>;
  /** The query parameters (GET). */
  readonly parameters?: readonly Json[];
}

/** One user-API action as an operation: its answer (answers.ts), errors, and the body or query the caller gives. */
export function addAction(doc: DocumentBuilder, path: string, action: Action, parts: ActionParts): void {
  const about = actionDoc(action.name);
  for (const [name, schema] of Object.entries(SHARED_ANSWER_PARTS)) doc.schemas.ref(name, schema, 'output');
  const answer = doc.schemas.ref(about.answerName, about.answer, 'output');
  const op: Operation = {
    operationId: parts.operationId,
    summary: about.summary,
    description: parts.description,
    tags: parts.tags,
    ...(parts.parameters ? { parameters: parts.parameters } : {}),
    ...(parts.body ? { requestBody: jsonBody(parts.body, parts.bodyExamples) } : {}),
    answers: { 200: jsonAnswer(about.summary, answer, { 'X-Apinode-Generation': doc.header('X-Apinode-Generation', GENERATION_HEADER) }) },
    errors: userErrors(action),
  };
  doc.add(path, methodOf(action), op);
}
