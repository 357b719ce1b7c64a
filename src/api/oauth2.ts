import { createRemoteJWKSet, decodeProtectedHeader, errors, jwtVerify, type JWTPayload } from 'jose';
import { jwksUriOf, jwksUriProblem, type OAuth2Settings } from '@apinode/protocol';
import { ApiError } from '../errors.js';

/**
 * Signature algorithms a token may use: asymmetric only, so the keys the JWKS publishes can only
 * verify. `none` and the HMAC family (HS*, whose "key" would be a public JWKS entry) are refused
 * from the token's header alone, before any network call.
 */
export const ALLOWED_ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA', 'Ed25519'] as const;
const allowed: ReadonlySet<string> = new Set(ALLOWED_ALGORITHMS);

/** A JWKS that does not answer within this is down: 503 quickly, not a request held for seconds. */
export const JWKS_TIMEOUT_MS = 2000;

/** One JWKS per URI per instance: jose caches the keys and refetches on an unknown kid. */
const jwksByUri = new Map<string, ReturnType<typeof createRemoteJWKSet>>();

export interface VerifyOptions {
  /**
   * Plain-http JWKS URIs (APINODE_OAUTH2_ALLOW_HTTP_JWKS). Absent: http is let through here, as
   * setAuth already refused it when storing the settings; other schemes (file:, data:) never are.
   */
  readonly allowHttpJwks?: boolean;
}

/**
 * Verifies a Bearer JWT against the issuer's JWKS: algorithm, signature, issuer, audience, expiry.
 * Bad or expired tokens are 401; a valid token without the required scope is 403; a JWKS that
 * cannot be fetched (or answers nothing within JWKS_TIMEOUT_MS) is 503.
 * Returns the caller's label for logs: the token's subject.
 */
export async function verifyBearer(settings: OAuth2Settings, token: string, opts: VerifyOptions = {}): Promise<string> {
  const alg = headerAlgorithm(token);
  if (alg === null || !allowed.has(alg)) {
    throw new ApiError(401, 'INVALID_CREDENTIALS', 'Bearer token rejected: the token is not valid for this service', alg === null ? 'the token is not a signed JWT' : `tokens signed with "${alg}" are not accepted (use one of ${ALLOWED_ALGORITHMS.join(', ')})`);
  }
  const uri = jwksUriOf(settings);
  const problem = jwksUriProblem(uri, opts.allowHttpJwks ?? true);
  if (problem) throw ApiError.unavailable('AUTH_PROVIDER_UNAVAILABLE', "The token issuer's keys cannot be fetched", `the service's OAuth2 settings are refused: ${problem}`);
  let jwks = jwksByUri.get(uri);
  if (!jwks) jwksByUri.set(uri, (jwks = createRemoteJWKSet(new URL(uri), { timeoutDuration: JWKS_TIMEOUT_MS })));
  let payload: JWTPayload;
  try {
    ({ payload } = await jwtVerify(token, jwks, { issuer: settings.issuer, audience: settings.audience, algorithms: [...ALLOWED_ALGORITHMS] }));
  } catch (e) {
    if (e instanceof errors.JWKSTimeout || (e instanceof Error && /fetch|network|ECONNREFUSED/i.test(e.message) && !(e instanceof errors.JOSEError))) {
      throw ApiError.unavailable('AUTH_PROVIDER_UNAVAILABLE', 'The token issuer\'s keys cannot be fetched right now');
    }
    const why = e instanceof errors.JWTExpired ? 'the token has expired' : e instanceof errors.JWTClaimValidationFailed ? `claim "${e.claim}" is not accepted` : 'the token is not valid for this service';
    throw new ApiError(401, 'INVALID_CREDENTIALS', `Bearer token rejected: ${why}`);
  }
  if (settings.requiredScope && !scopes(payload).includes(settings.requiredScope)) {
    throw new ApiError(403, 'FORBIDDEN', `The token lacks the scope "${settings.requiredScope}"`);
  }
  return `jwt:${payload.sub ?? 'unknown'}`;
}

/** The `alg` of a compact JWS's protected header; null when the token is not one. Reads, verifies nothing. */
function headerAlgorithm(token: string): string | null {
  try {
    const { alg } = decodeProtectedHeader(token);
    return typeof alg === 'string' ? alg : null;
  } catch {
    return null;
  }
}

function scopes(p: JWTPayload): string[] {
  const raw = p.scope ?? p.scp;
  if (typeof raw === 'string') return raw.split(' ');
  return Array.isArray(raw) ? raw.map(String) : [];
}
