/**
 * Stored form of a record (the value under its R key; topic, partition and offset are in
 * the key):
 *
 *   version u8 (=1) | timestamp f64 BE | key i32 BE length (-1 = null) + bytes
 *   | value i32 BE length (-1 = null) + bytes | header count u32 BE
 *   | per header: name u32 BE length + UTF-8, value u32 BE length + UTF-8
 *
 * The timestamp sits at a fixed position so retention reads it without decoding the rest.
 */
import type { Headers } from '../port.js';

const VERSION = 1;
const TIMESTAMP_AT = 1;

export interface StoredRecord {
  readonly key: Buffer | null;
  readonly value: Buffer | null;
  readonly headers: Headers;
  readonly timestamp: number;
}

export function encodeRecord(record: StoredRecord): Buffer {
  const headers = Object.entries(record.headers);
  let size = 1 + 8 + 4 + (record.key?.length ?? 0) + 4 + (record.value?.length ?? 0) + 4;
  for (const [name, value] of headers) size += 8 + Buffer.byteLength(name) + Buffer.byteLength(value);

  const buffer = Buffer.allocUnsafe(size);
  buffer[0] = VERSION;
  let at = buffer.writeDoubleBE(record.timestamp, TIMESTAMP_AT);
  at = writeBytes(buffer, record.key, at);
  at = writeBytes(buffer, record.value, at);
  at = buffer.writeUInt32BE(headers.length, at);
  for (const [name, value] of headers) {
    at = writeString(buffer, name, at);
    at = writeString(buffer, value, at);
  }
  return buffer;
}

export function decodeRecord(buffer: Buffer): StoredRecord {
  checkVersion(buffer);
  const timestamp = buffer.readDoubleBE(TIMESTAMP_AT);
  const cursor = { at: TIMESTAMP_AT + 8 };
  const key = readBytes(buffer, cursor);
  const value = readBytes(buffer, cursor);
  const count = buffer.readUInt32BE(cursor.at);
  cursor.at += 4;
  const headers: Record<string, string> = {};
  for (let i = 0; i < count; i++) {
    const name = readString(buffer, cursor);
    headers[name] = readString(buffer, cursor);
  }
  return { key, value, headers, timestamp };
}

export function timestampOf(buffer: Buffer): number {
  checkVersion(buffer);
  return buffer.readDoubleBE(TIMESTAMP_AT);
}

function checkVersion(buffer: Buffer): void {
  if (buffer.length === 0 || buffer[0] !== VERSION) {
    throw new Error(`unknown stored record version ${buffer[0]}`);
  }
}

function writeBytes(buffer: Buffer, bytes: Buffer | null, at: number): number {
  if (bytes === null) return buffer.writeInt32BE(-1, at);
  const next = buffer.writeInt32BE(bytes.length, at);
  return next + bytes.copy(buffer, next);
}

function writeString(buffer: Buffer, text: string, at: number): number {
  const length = Buffer.byteLength(text);
  const next = buffer.writeUInt32BE(length, at);
  return next + buffer.write(text, next, length);
}

function readBytes(buffer: Buffer, cursor: { at: number }): Buffer | null {
  const length = buffer.readInt32BE(cursor.at);
  cursor.at += 4;
  if (length < 0) return null;
  return take(buffer, cursor, length);
}

function readString(buffer: Buffer, cursor: { at: number }): string {
  const length = buffer.readUInt32BE(cursor.at);
  cursor.at += 4;
  return take(buffer, cursor, length).toString('utf8');
}

/** A view: rocksdb-native hands out a separately owned buffer per entry, so none is copied. */
function take(buffer: Buffer, cursor: { at: number }, length: number): Buffer {
  const end = cursor.at + length;
  if (end > buffer.length) throw new RangeError('stored record is truncated');
  const bytes = buffer.subarray(cursor.at, end);
  cursor.at = end;
  return bytes;
}
