/**
 * Base64 as the proto3 JSON mapping uses it for bytes fields: the standard or the URL-safe
 * alphabet, with or without padding. Strict about the shape (Node's own decoder silently skips
 * anything it does not understand), lenient about non-zero trailing bits.
 */

const BASE64_CHARS = /^[A-Za-z0-9+/_-]*={0,2}$/;

/** The decoded bytes, or undefined when `text` is not base64. */
export function decodeBase64(text: string): Uint8Array | undefined {
  if (!BASE64_CHARS.test(text)) return undefined;
  const padding = text.endsWith('==') ? 2 : text.endsWith('=') ? 1 : 0;
  if (padding > 0 && text.length % 4 !== 0) return undefined;
  const dataChars = text.length - padding;
  if (dataChars % 4 === 1) return undefined;
  const byteLength = (dataChars * 6) >>> 3;
  const bytes = new Uint8Array(byteLength);
  if (byteLength === 0) return bytes;
  // Decode straight into the result's memory: no intermediate pooled Buffer to copy from.
  const written = Buffer.from(bytes.buffer, bytes.byteOffset, byteLength).write(text, 'base64');
  return written === byteLength ? bytes : undefined;
}

/** Standard base64 with padding, the form protobuf JSON encoders write. */
export function encodeBase64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
}
