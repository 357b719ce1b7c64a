import { z } from 'zod';

/**
 * Endpoint types a DSS API package may name that this node cannot run (it has no Python or R
 * interpreter), each with what to use instead. Refused at import with that advice, rather than
 * with zod's "invalid discriminator" that names none of it.
 */
export const UNSUPPORTED_ENDPOINT_TYPES: Readonly<Record<string, string>> = {
  PY_FUNCTION: 'Python functions cannot run in apinode: port the function to JavaScript and declare it as a FUNCTION endpoint (docs/code-endpoints.md)',
  R_FUNCTION: 'R functions cannot run in apinode: port the function to JavaScript and declare it as a FUNCTION endpoint (docs/code-endpoints.md)',
  CUSTOM_R_PREDICTION:
    'R custom predictions cannot run in apinode: export the model to ONNX and declare a STD_PREDICTION endpoint, or write the scoring in JavaScript as a CUSTOM_PREDICTION endpoint (docs/code-endpoints.md)',
};

const PYTHON_CUSTOM_PREDICTION =
  'Python custom predictions cannot run in apinode: a CUSTOM_PREDICTION endpoint here runs a JavaScript module (code: {file: "code/<name>.js", sha256}). Export the model to ONNX and declare a STD_PREDICTION endpoint, or port the predictor to JavaScript (docs/code-endpoints.md)';

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Why this endpoint, as written in a manifest, cannot run here; undefined when it may. */
export function unsupportedEndpointReason(endpoint: unknown): string | undefined {
  if (!isRecord(endpoint) || typeof endpoint.type !== 'string') return undefined;
  const reason = UNSUPPORTED_ENDPOINT_TYPES[endpoint.type];
  if (reason) return `endpoint type ${endpoint.type}: ${reason}`;
  if (endpoint.type !== 'CUSTOM_PREDICTION') return undefined;
  const code = endpoint.code;
  const language = String(endpoint.language ?? endpoint.codeLanguage ?? '');
  const python = /python/i.test(language) || (isRecord(code) && typeof code.file === 'string' && /\.py$/i.test(code.file)) || typeof code === 'string';
  return python ? `endpoint type CUSTOM_PREDICTION: ${PYTHON_CUSTOM_PREDICTION}` : undefined;
}

/** Wraps an endpoint schema so that unsupported DSS types fail first, with the advice above. */
export const refusingUnsupported = <T extends z.ZodType>(schema: T) =>
  z
    .unknown()
    .superRefine((value, ctx) => {
      const reason = unsupportedEndpointReason(value);
      if (reason) ctx.addIssue({ code: 'custom', message: reason });
    })
    .pipe(schema);
