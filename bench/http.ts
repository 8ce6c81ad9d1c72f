/**
 * Small helpers the HTTP-driving benchmarks share: environment knobs, sleeping, and a
 * JSON POST that keeps the text when the answer is not JSON.
 */
import { z } from 'zod';

/** The answers the benchmarks read: tenant creation and OTLP ingest. */
export const tenantAnswer = z.object({ tenant_id: z.string(), api_key: z.string() });
export const ingestAnswer = z.object({ accepted_spans: z.number(), rejected_spans: z.number() });

export function envInt(name: string, fallback: number): number {
  const value = process.env[name];
  if (value === undefined || value === '') return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new Error(`${name} must be a positive whole number, got ${JSON.stringify(value)}`);
  return n;
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export async function postJson(url: string, body: string, token?: string): Promise<{ status: number; json: unknown; text: string }> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (token !== undefined) headers.authorization = `Bearer ${token}`;
  const res = await fetch(url, { method: 'POST', headers, body });
  const text = await res.text();
  let json: unknown = null;
  try {
    json = JSON.parse(text);
  } catch {
    // not JSON; the caller reports the text
  }
  return { status: res.status, json, text };
}
