/**
 * The folder layering of src/ as docs/architecture.md states it (the `layers` block): every
 * import of a file, types included, goes to its own folder or to a folder in a lower layer.
 * A violation is reported with its file and line, and so is a folder the block leaves out.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const SRC = path.join(root, 'src');

/** Folder → layer index (0 is the top), from the ```layers block of docs/architecture.md. */
export function readLayers(markdown: string): Map<string, number> {
  const block = /```layers\n([\s\S]*?)```/.exec(markdown);
  if (block === null) throw new Error('docs/architecture.md has no ```layers block');
  const layers = new Map<string, number>();
  block[1]!
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '')
    .forEach((line, index) => {
      for (const folder of line.split(/\s+/)) layers.set(folder, index);
    });
  return layers;
}

interface Import {
  readonly file: string;
  readonly line: number;
  readonly from: string;
  readonly to: string;
}

/** Every relative import (static, `export … from`, dynamic) of the .ts files under src/, as folder → folder. */
export function folderImports(srcDir: string): Import[] {
  const out: Import[] = [];
  const walk = (dir: string) => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.name.endsWith('.ts')) {
        const lines = fs.readFileSync(full, 'utf8').split('\n');
        lines.forEach((text, i) => {
          for (const m of text.matchAll(/(?:\bfrom\s*|\bimport\s*\(\s*|^import\s+)['"](\.{1,2}\/[^'"]+)['"]/g)) {
            const target = path.resolve(path.dirname(full), m[1]!);
            const from = path.relative(srcDir, full).split(path.sep)[0]!;
            const to = path.relative(srcDir, target).split(path.sep)[0]!;
            out.push({ file: path.relative(root, full), line: i + 1, from, to });
          }
        });
      }
    }
  };
  walk(srcDir);
  return out;
}

describe('folder layering (docs/architecture.md)', () => {
  const layers = readLayers(fs.readFileSync(path.join(root, 'docs', 'architecture.md'), 'utf8'));
  const imports = folderImports(SRC);

  it('places every folder of src/ in a layer', () => {
    const folders = fs
      .readdirSync(SRC, { withFileTypes: true })
      .filter((e) => e.isDirectory() && fs.readdirSync(path.join(SRC, e.name), { recursive: true }).length > 0)
      .map((e) => e.name);
    expect(folders.filter((f) => !layers.has(f))).toEqual([]);
    expect([...layers.keys()].filter((f) => !folders.includes(f))).toEqual([]);
  });

  it('has no import from a folder to its own layer or one above it', () => {
    const violations = imports
      .filter((i) => i.from !== i.to && layers.has(i.from) && layers.has(i.to) && layers.get(i.to)! <= layers.get(i.from)!)
      .map((i) => `${i.file}:${i.line}: ${i.from} imports ${i.to}`);
    expect(violations).toEqual([]);
  });

  it('sees the imports it judges (the scan is not empty and reads type imports)', () => {
    expect(imports.length).toBeGreaterThan(500);
    expect(imports.some((i) => i.from === 'api' && i.to === 'http')).toBe(true);
    expect(imports.some((i) => i.file.endsWith(path.join('http', 'context.ts')) && i.to === 'views')).toBe(true);
  });
});
