import type { Context } from 'hono';
import { INFERENCE_HEADER_CONTENT_LENGTH, OipInferRequest, type OipInferResponse, type OipResponseOutput } from '@apinode/protocol';
import { ApiError, describe } from '../../errors.js';
import type { AppEnv } from '../env.js';
import { MAX_JSON_DEPTH, nestsDeeperThan, readBytes, validate } from '../http.js';
import { writeElements } from './binary.js';
import type { OutputDatatype } from './model.js';

/** An infer request: its JSON header, and the binary tensor data after it (empty without the binary extension). */
export interface InferBody {
  readonly request: OipInferRequest;
  readonly binary: Uint8Array;
}

const utf8 = new TextDecoder();
const bad = (message: string, detail?: string) => ApiError.badRequest('INVALID_REQUEST', message, detail);

/**
 * The infer body, at most maxBytes. With Inference-Header-Content-Length, the JSON header is
 * that many bytes and the input tensors' binary data follows it; without, the body is JSON.
 * Like the DSS routes, the Content-Type is not looked at (Triton's client sends
 * application/octet-stream for both).
 */
export async function readInferBody(c: Context<AppEnv>, maxBytes: number): Promise<InferBody> {
  const encoding = c.req.header('content-encoding');
  if (encoding && encoding.trim().toLowerCase() !== 'identity') throw bad(`Request bodies compressed with ${encoding} are not supported`, 'send the body uncompressed');
  const body = await readBytes(c, maxBytes);
  const declared = c.req.header(INFERENCE_HEADER_CONTENT_LENGTH);
  let headerLength = body.byteLength;
  if (declared !== undefined) {
    headerLength = /^\s*\d+\s*$/.test(declared) ? Number(declared) : NaN;
    if (!(headerLength <= body.byteLength)) throw bad(`${INFERENCE_HEADER_CONTENT_LENGTH} is "${declared}", for a body of ${body.byteLength} bytes`, 'it gives the length of the JSON header, which the binary tensor data follows');
  }
  const text = utf8.decode(body.subarray(0, headerLength));
  if (text.trim() === '') throw ApiError.badRequest('INVALID_JSON', 'The request body is empty; send an inference request');
  if (nestsDeeperThan(text, MAX_JSON_DEPTH)) throw ApiError.badRequest('INVALID_JSON', `The request nests arrays and objects deeper than ${MAX_JSON_DEPTH} levels`);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    const hint = declared === undefined && body.includes(0) ? ' (binary tensor data needs the Inference-Header-Content-Length header)' : '';
    throw ApiError.badRequest('INVALID_JSON', `The request body is not valid JSON${hint}`, describe(e).replace(/^SyntaxError: /, ''));
  }
  return { request: validate(OipInferRequest, json), binary: body.subarray(headerLength) };
}

/** An output tensor to answer, in JSON or as binary data. */
export interface Answered {
  readonly name: string;
  readonly datatype: OutputDatatype;
  readonly shape: number[];
  readonly values: (string | number | null)[];
  readonly binary: boolean;
}

/**
 * The infer answer: JSON, or (when an output is binary) the JSON header followed by the binary
 * outputs in output order, with Inference-Header-Content-Length giving the header's length.
 */
export function renderInfer(c: Context<AppEnv>, head: Omit<OipInferResponse, 'outputs'>, outputs: readonly Answered[]): Response {
  const blobs: Uint8Array[] = [];
  const json: OipInferResponse = {
    ...head,
    outputs: outputs.map((o): OipResponseOutput => {
      if (!o.binary) return { name: o.name, datatype: o.datatype, shape: o.shape, data: o.values };
      const bytes = writeElements(o.datatype, o.values);
      blobs.push(bytes);
      return { name: o.name, datatype: o.datatype, shape: o.shape, parameters: { binary_data_size: bytes.byteLength } };
    }),
  };
  if (blobs.length === 0) return c.json(json);
  const header = new TextEncoder().encode(JSON.stringify(json));
  const body = new Uint8Array(header.byteLength + blobs.reduce((n, b) => n + b.byteLength, 0));
  body.set(header);
  let at = header.byteLength;
  for (const b of blobs) {
    body.set(b, at);
    at += b.byteLength;
  }
  c.header(INFERENCE_HEADER_CONTENT_LENGTH, String(header.byteLength));
  return c.body(body, 200, { 'Content-Type': 'application/octet-stream' });
}
