/** SHA-256 of a stored file's bytes, as lowercase hex: what a manifest's `files` records (Web Crypto, so every runtime). */
export async function sha256Hex(body: Uint8Array): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', body as Uint8Array<ArrayBuffer>));
  let hex = '';
  for (const b of digest) hex += b.toString(16).padStart(2, '0');
  return hex;
}
