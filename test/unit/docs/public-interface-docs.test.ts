/**
 * The documents subscribers rely on name every topic, schema and schema history file that
 * exists, so a new one cannot ship undocumented.
 */
import fs from 'node:fs';
import { describe, expect, it } from 'vitest';

const root = new URL('../../../', import.meta.url);
const read = (file: string) => fs.readFileSync(new URL(file, root), 'utf8');
const list = (dir: string) => fs.readdirSync(new URL(dir, root));

describe('documents of the public interface', () => {
  it('docs/subscribers.md gives every topic its key and value schema', () => {
    const doc = read('docs/subscribers.md');
    for (const file of list('topics/').filter((f) => f.endsWith('.json'))) {
      const topic = JSON.parse(read(`topics/${file}`)) as { name: string; valueSchema: string; cleanupPolicy: string };
      const row = doc.split('\n').find((line) => line.startsWith(`| \`${topic.name}\` |`));
      expect(row, `${topic.name} has a row`).toBeDefined();
      if (topic.valueSchema !== 'bytes') expect(row).toContain(`\`${topic.valueSchema}\``);
      expect(row).toContain(`| ${topic.cleanupPolicy} |`);
    }
  });

  it('schemas/README.md lists every schema file with its topics, and every history file', () => {
    const doc = read('schemas/README.md');
    for (const file of list('schemas/').filter((f) => f.endsWith('.avsc'))) expect(doc, file).toContain(`| \`${file}\` |`);
    for (const file of list('schemas/history/')) expect(doc, file).toContain(`| \`history/${file}\` |`);
    for (const file of list('topics/').filter((f) => f.endsWith('.json'))) {
      const topic = JSON.parse(read(`topics/${file}`)) as { name: string; valueSchema: string };
      if (topic.valueSchema !== 'bytes') expect(doc, topic.name).toMatch(new RegExp(`\\| \`${topic.valueSchema}\\.avsc\` \\| [^|]+ \\| [^\\n]*\`${topic.name.replaceAll('.', '\\.')}\``));
    }
  });
});
