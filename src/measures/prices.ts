/**
 * The dated price table cost is computed from (prices/*.json, kept as data) and the model
 * name normalisation used to look models up in it. Pure: the table is read once, when
 * this module loads, and handed to measureTrace.
 */
import table202611 from './prices/2026-11.json' with { type: 'json' };

/** USD per 1,000,000 tokens. */
export interface ModelPrice {
  readonly input: number;
  /** A prompt-cache read. */
  readonly cachedInput: number;
  readonly output: number;
}

export interface PriceTable {
  /** The date the figures were taken (YYYY-MM-DD); metrics records carry it. */
  readonly taken: string;
  /** By lower-case model id; aliases are entries of their own. */
  readonly models: ReadonlyMap<string, ModelPrice>;
}

interface PriceFileModel {
  readonly input: unknown;
  readonly cached_input: unknown;
  readonly output: unknown;
  readonly aliases?: readonly unknown[];
}

function price(value: unknown, where: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) throw new Error(`price table: ${where} is not a non-negative number`);
  return value;
}

/** Checks a price file's shape and indexes it by model id and alias (lower case). */
export function parsePriceTable(file: { readonly taken?: unknown; readonly models?: unknown }): PriceTable {
  if (typeof file.taken !== 'string' || !/^\d{4}-\d{2}-\d{2}$/.test(file.taken)) throw new Error('price table: "taken" must be a YYYY-MM-DD date');
  if (file.models === null || typeof file.models !== 'object') throw new Error('price table: "models" must be an object');
  const models = new Map<string, ModelPrice>();
  const add = (name: string, p: ModelPrice): void => {
    const key = name.trim().toLowerCase();
    if (models.has(key)) throw new Error(`price table: model "${key}" is listed twice`);
    models.set(key, p);
  };
  for (const [id, raw] of Object.entries(file.models as Record<string, PriceFileModel>)) {
    const p: ModelPrice = {
      input: price(raw.input, `${id}.input`),
      cachedInput: price(raw.cached_input, `${id}.cached_input`),
      output: price(raw.output, `${id}.output`),
    };
    add(id, p);
    for (const alias of raw.aliases ?? []) {
      if (typeof alias !== 'string') throw new Error(`price table: ${id}.aliases holds a non-string`);
      add(alias, p);
    }
  }
  return { taken: file.taken, models };
}

/** The current table, loaded once. */
export const PRICE_TABLE: PriceTable = parsePriceTable(table202611);

/** Prefixes of cloud model ids naming the vendor, e.g. Bedrock's `us.anthropic.`. */
const VENDOR_PREFIX = /^(?:[a-z]{2,4}\.)?(?:anthropic|openai|google|meta|mistral|cohere|amazon)\./;

/**
 * The normalised form of a model name, tried when the name itself is not in the table:
 * - lower case, surrounding space trimmed;
 * - a path-like prefix dropped up to the last `/` (`openai/gpt-4o`, `models/gemini-2.5-pro`,
 *   `openrouter/anthropic/claude-sonnet-4`);
 * - a vendor prefix with a dot dropped, optionally after a region (`us.anthropic.…`, Bedrock);
 * - a version tag after `@` dropped (`claude-sonnet-4@20250514`, Vertex AI);
 * - a Bedrock version suffix `-v1`, `-v2:0` dropped;
 * - then one release suffix: `-latest`, a date `-2024-08-06` or `-20241022`.
 * Dated snapshots are thus priced as their family; a snapshot priced differently needs an
 * entry of its own (exact names are looked up first).
 */
export function normaliseModelName(model: string): string {
  let name = model.trim().toLowerCase();
  const slash = name.lastIndexOf('/');
  if (slash >= 0) name = name.slice(slash + 1);
  name = name.replace(VENDOR_PREFIX, '');
  name = name.replace(/@[\w.-]*$/, '');
  name = name.replace(/-v\d+(?::\d+)?$/, '');
  name = name.replace(/-(?:latest|\d{4}-\d{2}-\d{2}|\d{8})$/, '');
  return name;
}

/** The price of a model: its exact (case-insensitive) name first, then its normalised name; null when unknown. */
export function priceOf(table: PriceTable, model: string): ModelPrice | null {
  return table.models.get(model.trim().toLowerCase()) ?? table.models.get(normaliseModelName(model)) ?? null;
}
