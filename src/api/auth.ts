import type { ServiceConfig } from '@apinode/protocol';
import { ApiError } from '../errors.js';
import { equalDigests, hexBytes, sha256 } from '../services/key-hash.js';
import { verifyBearer, type VerifyOptions } from './oauth2.js';

/** Who called: the matched key's label, or null for a public service. */
export type Caller = string | null;

/**
 * Service authentication. PUBLIC lets everyone in. API_KEYS takes the key as the HTTP Basic
 * user name (empty password, as DSS clients send it) or as a Bearer token; stored keys are
 * SHA-256 hashes, compared in constant time against every stored key.
 * OAUTH2 takes a Bearer JWT checked against the issuer's JWKS (see oauth2.ts; `oauth2` says
 * whether a plain-http JWKS may be used: pass the node's APINODE_OAUTH2_ALLOW_HTTP_JWKS).
 * Missing credentials and unknown keys are both 401; 403 is kept for a valid identity without
 * access (an OAuth2 token without the required scope), which API keys cannot express.
 */
export async function authenticate(service: ServiceConfig, authorization: string | undefined, oauth2Options?: VerifyOptions): Promise<Caller> {
  if (service.auth.method === 'PUBLIC') return null;
  if (!authorization) {
    const what = service.auth.method === 'OAUTH2' ? 'a Bearer token' : 'an API key';
    throw new ApiError(401, 'MISSING_CREDENTIALS', `Service "${service.serviceId}" requires ${what}`, 'send the key as the Basic user name or as a Bearer token');
  }
  if (service.auth.method === 'OAUTH2') return oauth2(service, authorization, oauth2Options);
  // Hashing costs a thread-pool round trip in Node's WebCrypto: remember accepted credentials
  // per copy of the service config, so a key change or revocation takes effect with the config.
  let accepted = acceptedByConfig.get(service);
  const known = accepted?.get(authorization);
  if (known !== undefined) return known;
  const caller = await check(service, authorization);
  if (!accepted) acceptedByConfig.set(service, (accepted = new Map()));
  if (accepted.size >= MAX_ACCEPTED) accepted.clear();
  accepted.set(authorization, caller);
  return caller;
}

function oauth2(service: ServiceConfig, authorization: string, options: VerifyOptions | undefined): Promise<string> {
  const [scheme, token] = authorization.trim().split(/\s+/, 2);
  if (scheme?.toLowerCase() !== 'bearer' || !token) throw new ApiError(401, 'INVALID_CREDENTIALS', `Service "${service.serviceId}" takes a Bearer token`);
  return verifyBearer(service.auth.oauth2!, token, options);
}

const acceptedByConfig = new WeakMap<ServiceConfig, Map<string, string>>();
const MAX_ACCEPTED = 1024;

async function check(service: ServiceConfig, authorization: string): Promise<string> {
  const key = extractKey(authorization);
  if (!key) throw new ApiError(401, 'INVALID_CREDENTIALS', 'The Authorization header is not Basic or Bearer credentials');
  const digest = await sha256(key);
  let match: string | null = null;
  for (const stored of service.auth.keys) {
    // No early exit: the time taken does not depend on which key (if any) matched.
    if (equalDigests(digest, hexBytes(stored.hash.slice('sha256:'.length))) && match === null) match = stored.label;
  }
  if (match === null) throw new ApiError(401, 'INVALID_CREDENTIALS', `The API key is not valid for service "${service.serviceId}"`);
  return match;
}

export function extractKey(authorization: string): string | null {
  const [scheme, value] = authorization.trim().split(/\s+/, 2);
  if (!scheme || !value) return null;
  if (scheme.toLowerCase() === 'bearer') return value;
  if (scheme.toLowerCase() !== 'basic') return null;
  let decoded: string;
  try {
    decoded = new TextDecoder().decode(Uint8Array.from(atob(value), (c) => c.charCodeAt(0)));
  } catch {
    return null;
  }
  const colon = decoded.indexOf(':');
  const user = colon === -1 ? decoded : decoded.slice(0, colon);
  return user || null;
}
