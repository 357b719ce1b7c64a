import { createRemoteJWKSet, errors, jwtVerify, type JWTPayload } from 'jose';
import type { OAuth2Settings } from '@apinode/protocol';
import { ApiError } from '../errors.js';

/** One JWKS per URI per instance: jose caches the keys and refetches on an unknown kid. */
const jwksByUri = new Map<string, ReturnType<typeof createRemoteJWKSet>>();

/**
 * Verifies a Bearer JWT against the issuer's JWKS: signature, issuer, audience, expiry.
 * Bad or expired tokens are 401; a valid token without the required scope is 403.
 * Returns the caller's label for logs: the token's subject.
 */
export async function verifyBearer(settings: OAuth2Settings, token: string): Promise<string> {
  const uri = settings.jwksUri ?? `${settings.issuer.replace(/\/$/, '')}/.well-known/jwks.json`;
  let jwks = jwksByUri.get(uri);
  if (!jwks) jwksByUri.set(uri, (jwks = createRemoteJWKSet(new URL(uri), { timeoutDuration: 3000 })));
  let payload: JWTPayload;
  try {
    ({ payload } = await jwtVerify(token, jwks, { issuer: settings.issuer, audience: settings.audience }));
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

function scopes(p: JWTPayload): string[] {
  const raw = p.scope ?? p.scp;
  if (typeof raw === 'string') return raw.split(' ');
  return Array.isArray(raw) ? raw.map(String) : [];
}
