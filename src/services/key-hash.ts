/** How keys are stored (hashed) and compared (in constant time): shared by service and admin auth, and by key management. */

export async function sha256(text: string): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(text)));
}

/** "sha256:<hex>" as stored in service.json. */
export async function hashKey(key: string): Promise<string> {
  return `sha256:${[...(await sha256(key))].map((b) => b.toString(16).padStart(2, '0')).join('')}`;
}

export function hexBytes(hex: string): Uint8Array {
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return out;
}

/** Constant-time: every byte is compared whatever differs first. */
export function equalDigests(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= (a[i] as number) ^ (b[i] as number);
  return diff === 0;
}
