import { describe, expect, it } from 'vitest';
import { baseToolName, filesInPatch, filesWritten } from '../../../src/measures/blast-radius.js';
import { toolCall } from '../semantic/fixtures.js';

describe('blast radius', () => {
  it('reads the path from the usual argument keys of write-like tools', () => {
    const files = filesWritten([
      toolCall('1', 'write_file', JSON.stringify({ path: 'a.txt', content: 'x' })),
      toolCall('2', 'Write', JSON.stringify({ file_path: '/repo/b.ts', content: 'x' })),
      toolCall('3', 'create_file', JSON.stringify({ filename: 'c.md' })),
      toolCall('4', 'edit_file', JSON.stringify({ target_file: 'd.py', instructions: '…' })),
      toolCall('5', 'NotebookEdit', JSON.stringify({ notebook_path: 'e.ipynb' })),
      toolCall('6', 'str_replace', JSON.stringify({ filepath: 'f.go', old: 'a', new: 'b' })),
    ]);
    expect(files).toEqual(['/repo/b.ts', 'a.txt', 'c.md', 'd.py', 'e.ipynb', 'f.go']);
  });

  it('counts each file once, after normalising the path', () => {
    expect(
      filesWritten([
        toolCall('1', 'write_file', '{"path":"src/a.ts"}'),
        toolCall('2', 'edit_file', '{"path":"./src//a.ts"}'),
        toolCall('3', 'edit_file', '{"path":" src/a.ts "}'),
      ]),
    ).toEqual(['src/a.ts']);
  });

  it('finds paths in wrapped arguments, lists of edits and path lists', () => {
    expect(
      filesWritten([
        toolCall('1', 'edit_file', JSON.stringify({ input: { path: 'wrapped.ts' } })),
        toolCall('2', 'multi_edit', JSON.stringify({ edits: [{ file_path: 'x.ts' }, { file_path: 'y.ts' }] })),
        toolCall('3', 'delete_file', JSON.stringify({ paths: ['old1.ts', 'old2.ts'] })),
      ]),
    ).toEqual(['old1.ts', 'old2.ts', 'wrapped.ts', 'x.ts', 'y.ts']);
  });

  it('reads the files a patch names, as the whole arguments or inside them', () => {
    const v4a = '*** Begin Patch\n*** Update File: src/a.ts\n@@\n-x\n+y\n*** Add File: src/new.ts\n+z\n*** Delete File: src/gone.ts\n*** End Patch';
    const unified = '--- a/lib/u.ts\n+++ b/lib/u.ts\n@@ -1 +1 @@\n-a\n+b\n--- /dev/null\n+++ b/lib/created.ts\n';
    expect(
      filesWritten([toolCall('1', 'apply_patch', JSON.stringify({ input: v4a })), toolCall('2', 'apply_patch', unified)]),
    ).toEqual(['lib/created.ts', 'lib/u.ts', 'src/a.ts', 'src/gone.ts', 'src/new.ts']);
    expect(filesInPatch('*** Update File: a\n*** Move to: b')).toEqual(['a', 'b']);
  });

  it('matches namespaced tool names and ignores reads, views and failed calls', () => {
    expect(baseToolName('mcp__filesystem__write_file')).toBe('write_file');
    expect(baseToolName('filesystem.Edit_File')).toBe('edit_file');
    expect(
      filesWritten([
        toolCall('1', 'mcp__filesystem__write_file', '{"path":"mcp.txt"}'),
        toolCall('2', 'read_file', '{"path":"read.txt"}'),
        toolCall('3', 'str_replace_based_edit_tool', '{"command":"view","path":"viewed.txt"}'),
        toolCall('4', 'str_replace_based_edit_tool', '{"command":"create","path":"created.txt"}'),
        toolCall('5', 'write_file', '{"path":"failed.txt"}', { isError: true }),
        toolCall('6', 'write_file', 'not json'),
        toolCall('7', 'write_file', null),
      ]),
    ).toEqual(['created.txt', 'mcp.txt']);
  });
});
