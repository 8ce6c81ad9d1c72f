/**
 * Keeps the current version of value schemas in schemas/history/ before they change, so
 * values already written with them stay readable (schemas/README.md, "Wire format and ids").
 *
 *   npx tsx scripts/schema-history.ts detection trace-record …
 *
 * Writes `schemas/history/<name>.<local id>.avsc` (the composed schema, shared types
 * inlined) for each name; a version already kept is left as it is.
 */
import { access, writeFile } from 'node:fs/promises';
import { HISTORY_DIR, SCHEMA_DIR, VALUE_SCHEMAS, exportSchema, loadSchema, localSchemaId } from '../src/log/serde/index.js';

const names = process.argv.slice(2);
if (names.length === 0) {
  console.error(`usage: schema-history.ts <name>…  (names: ${VALUE_SCHEMAS.join(', ')})`);
  process.exit(2);
}
for (const name of names) {
  if (!(VALUE_SCHEMAS as readonly string[]).includes(name)) {
    console.error(`schema-history: ${name} is not a value schema (${VALUE_SCHEMAS.join(', ')})`);
    process.exit(2);
  }
  const type = await loadSchema(name);
  const file = new URL(`${HISTORY_DIR}${name}.${localSchemaId(type)}.avsc`, SCHEMA_DIR);
  const kept = await access(file).then(
    () => true,
    () => false,
  );
  if (kept) {
    console.log(`${name}: ${file.pathname} kept already`);
    continue;
  }
  await writeFile(file, `${JSON.stringify(exportSchema(type), null, 2)}\n`);
  console.log(`${name}: kept as ${file.pathname}`);
}
