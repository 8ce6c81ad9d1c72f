/**
 * Blast radius: the distinct files a trace's tools wrote, read from tool arguments. A
 * heuristic, since tools describe their writes only through their own arguments:
 *
 * - A tool call writes when its tool name, lower-cased and taken after the last `.`, `/`,
 *   `:` or `__` (so MCP names such as `mcp__fs__write_file` or `filesystem.write_file`
 *   match), is one of WRITE_TOOLS. Editor tools that also read (`str_replace_editor`,
 *   `str_replace_based_edit_tool`) write only when their `command` is not `view`.
 * - Paths are the string values of PATH_KEYS, and the string items of PATHS_KEYS, found in
 *   the arguments (parsed as JSON) up to three levels deep (arguments wrapped in
 *   `{"input": {...}}`, lists of edits each naming a file).
 * - Patch tools (`apply_patch`, `patch`, `apply_diff`) also yield the files a patch text
 *   names: `*** Add/Update/Delete File: p`, `*** Move to: p`, and `+++ b/p` of unified
 *   diffs; the text may be the whole arguments or any string argument.
 * - Paths are compared after trimming and POSIX normalisation (`./a//b` is `a/b`).
 * - Tool calls that failed are assumed to have written nothing.
 *
 * Blind spots: shell tools (`bash`, `run_command`: `sed -i`, `>` redirections) and code
 * execution write without saying so; unknown tool names and argument keys are not seen;
 * a relative and an absolute path to the same file count twice (the working directory is
 * not known); a failed call may still have written part of a file.
 */
import { posix } from 'node:path';
import type { SemanticSpan } from '../semantic/semantic-span.js';

export const WRITE_TOOLS: ReadonlySet<string> = new Set([
  'write_file',
  'write_to_file',
  'writefile',
  'write',
  'edit_file',
  'editfile',
  'edit',
  'multiedit',
  'multi_edit',
  'notebookedit',
  'notebook_edit',
  'create_file',
  'createfile',
  'delete_file',
  'replace_in_file',
  'insert_in_file',
  'str_replace',
  'str_replace_editor',
  'str_replace_based_edit_tool',
  'apply_patch',
  'apply_diff',
  'patch',
]);

const EDITOR_TOOLS: ReadonlySet<string> = new Set(['str_replace_editor', 'str_replace_based_edit_tool']);
const PATCH_TOOLS: ReadonlySet<string> = new Set(['apply_patch', 'apply_diff', 'patch']);

export const PATH_KEYS: ReadonlySet<string> = new Set([
  'path',
  'file_path',
  'filepath',
  'filename',
  'file_name',
  'file',
  'target_file',
  'notebook_path',
]);
export const PATHS_KEYS: ReadonlySet<string> = new Set(['paths', 'file_paths', 'files']);

const MAX_DEPTH = 3;

/** The tool's own name: lower case, after the last namespace separator. */
export function baseToolName(toolName: string): string {
  const parts = toolName.trim().toLowerCase().split(/\.|\/|:|__/);
  return parts[parts.length - 1] ?? '';
}

function normalisePath(p: string): string | null {
  const trimmed = p.trim();
  if (trimmed === '' || trimmed === '/dev/null') return null;
  const normal = posix.normalize(trimmed);
  return normal.length > 1 && normal.endsWith('/') ? normal.slice(0, -1) : normal;
}

/** Files a patch text names. */
export function filesInPatch(text: string): string[] {
  const files: string[] = [];
  for (const line of text.split(/\r?\n/)) {
    const m = /^\*\*\* (?:(?:Add|Update|Delete) File|Move to): (.+)$/.exec(line) ?? /^\+\+\+ (?:b\/)?([^\t]+)/.exec(line);
    if (m?.[1] !== undefined) files.push(m[1].trim());
  }
  return files;
}

function collect(value: unknown, depth: number, patchTool: boolean, out: string[]): void {
  if (typeof value === 'string') {
    if (patchTool) out.push(...filesInPatch(value));
    return;
  }
  if (depth >= MAX_DEPTH || value === null || typeof value !== 'object') return;
  if (Array.isArray(value)) {
    for (const item of value) collect(item, depth + 1, patchTool, out);
    return;
  }
  for (const [key, v] of Object.entries(value as Record<string, unknown>)) {
    const k = key.toLowerCase();
    if (PATH_KEYS.has(k) && typeof v === 'string') out.push(v);
    else if (PATHS_KEYS.has(k) && Array.isArray(v)) {
      for (const item of v) {
        if (typeof item === 'string') out.push(item);
        else collect(item, depth + 1, patchTool, out);
      }
    } else collect(v, depth + 1, patchTool, out);
  }
}

/** The files one tool call wrote, by the rules above (not de-duplicated). */
export function filesWrittenBy(span: SemanticSpan): string[] {
  if (span.operation !== 'execute_tool' || span.isError || span.toolName === null) return [];
  const tool = baseToolName(span.toolName);
  if (!WRITE_TOOLS.has(tool)) return [];
  const text = span.toolArguments ?? '';
  let args: unknown;
  try {
    args = JSON.parse(text);
  } catch {
    args = text;
  }
  if (EDITOR_TOOLS.has(tool) && args !== null && typeof args === 'object' && (args as Record<string, unknown>).command === 'view') return [];
  const raw: string[] = [];
  collect(args, 0, PATCH_TOOLS.has(tool), raw);
  return raw.map(normalisePath).filter((p): p is string => p !== null);
}

/** Distinct files written across the spans, sorted. */
export function filesWritten(spans: readonly SemanticSpan[]): string[] {
  const files = new Set<string>();
  for (const span of spans) for (const f of filesWrittenBy(span)) files.add(f);
  return [...files].sort();
}
