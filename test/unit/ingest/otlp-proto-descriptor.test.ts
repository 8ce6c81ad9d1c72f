/**
 * The committed protobuf descriptor must be what scripts/gen-otlp-proto.sh makes from the
 * .proto files under proto/: editing one without the other fails here.
 */
import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { DESCRIPTOR_FILE, descriptorSource, loadOtlpDescriptor, PROTO_DIR } from '../../../src/ingest/otlp/proto-codegen.js';

describe('OTLP protobuf descriptor', () => {
  it('matches the .proto files under proto/ (run scripts/gen-otlp-proto.sh after changing them)', () => {
    expect(fs.readFileSync(DESCRIPTOR_FILE, 'utf8')).toBe(descriptorSource(loadOtlpDescriptor()));
  });

  it('notes the OTLP version of the .proto files', () => {
    expect(fs.readFileSync(`${PROTO_DIR}/README.md`, 'utf8')).toMatch(/Version: OTLP \d+\.\d+\.\d+/);
  });
});
