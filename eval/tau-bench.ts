/**
 * tau-bench airline trajectories (sierra-research/tau-bench, MIT licence) → OTLP/HTTP JSON
 * trace exports, as an OpenTelemetry GenAI instrumentation of this agent would send them.
 *
 * A run is a conversation between a user simulator and a GPT-4o tool-calling agent, recorded
 * as OpenAI chat messages. It becomes one trace:
 *
 * - a root `invoke_agent airline_agent` span for the run;
 * - one `chat gpt-4o` span per assistant message, its input the messages the model was sent
 *   (system policy, user turns, earlier assistant messages, tool answers) as
 *   `gen_ai.input.messages`, its answer as `gen_ai.output.messages` (text and tool calls);
 * - one `execute_tool <name>` span per tool call, a sibling of the chat span that asked for
 *   it (the agent loop runs the tool after the model call returned), with the call's
 *   arguments and the tool's answer; ERROR status when the answer is the tool API's error
 *   report, a string starting with "Error:".
 *
 * User turns have no span of their own: they reach the trace inside the next model call's
 * input messages, as they do in a real instrumentation. The data has no timestamps and no
 * token counts. Timestamps are synthesised (fixed durations, see the constants below);
 * token usage is left out rather than invented. docs/evaluation.md lists what is synthesised.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { hexId, request, span, type OtlpRequest, type OtlpSpan } from './otlp.js';

export const DATASET_FILE = 'gpt-4o-airline.json';
export const AGENT_NAME = 'airline_agent';
export const SERVICE_NAME = 'airline-agent';
export const MODEL = 'gpt-4o';
export const PROVIDER = 'openai';

/** Synthetic timing. Every run starts at 2024-01-01T00:00:00Z; the data records no time. */
export const BASE_MS = 1_704_067_200_000;
/** A user turn: the time between the agent's reply and the next user message. */
export const USER_TURN_MS = 5000;
export const LLM_DURATION_MS = 1500;
export const TOOL_DURATION_MS = 200;
/** Between a span's end and the next span's start. */
export const GAP_MS = 10;

/** The tau-bench tools' own way of reporting a failure: an answer string starting so. */
export const TOOL_ERROR_PREFIX = 'Error:';

export interface TauToolCall {
  readonly id: string;
  readonly type?: string;
  readonly function: { readonly name: string; readonly arguments: string };
}

export interface TauMessage {
  readonly role: 'system' | 'user' | 'assistant' | 'tool';
  readonly content: string | null;
  readonly tool_calls?: readonly TauToolCall[] | null;
  readonly tool_call_id?: string;
  readonly name?: string;
}

export interface TauRun {
  readonly task_id: number | string;
  readonly trial: number | string;
  /** 1.0 for a successful run, 0.0 for a failed one; a number or its text. */
  readonly reward: number | string;
  /** The task and reward details (a dict, or its Python repr in some exports); not read. */
  readonly info?: unknown;
  readonly traj: readonly TauMessage[];
}

export type Split = 'tune' | 'report';
export const SPLITS: readonly Split[] = ['tune', 'report'];

/**
 * The documented split: tasks with an even numeric id are for tuning detectors, odd ones for
 * reporting. All trials of a task fall in the same half, so a task tuned on is never reported on.
 */
export function splitOf(taskId: number): Split {
  return taskId % 2 === 0 ? 'tune' : 'report';
}

export const SPLIT_RULE = 'by task_id: even → tune, odd → report';

/** `--split tune|report` (or `--split=…`); report when absent. */
export function parseSplit(argv: readonly string[]): Split {
  const i = argv.findIndex((a) => a === '--split' || a.startsWith('--split='));
  if (i < 0) return 'report';
  const value = argv[i]!.includes('=') ? argv[i]!.slice('--split='.length) : argv[i + 1];
  if (value !== 'tune' && value !== 'report') throw new Error(`--split takes tune or report, not ${JSON.stringify(value ?? '')}`);
  return value;
}

export interface LoadedRun {
  readonly id: string;
  readonly taskId: number;
  readonly trial: number;
  readonly split: Split;
  readonly succeeded: boolean;
  readonly run: TauRun;
}

export function runId(taskId: number, trial: number): string {
  return `task${taskId}/trial${trial}`;
}

export function succeeded(reward: number | string): boolean {
  const r = typeof reward === 'number' ? reward : Number(String(reward).trim());
  if (!Number.isFinite(r)) throw new Error(`reward ${JSON.stringify(reward)} is not a number`);
  return r >= 1;
}

function integer(value: number | string, what: string): number {
  const n = typeof value === 'number' ? value : Number(String(value).trim());
  if (!Number.isInteger(n) || n < 0) throw new Error(`${what} ${JSON.stringify(value)} is not a non-negative integer`);
  return n;
}

/** The dataset directory: env TRACEFOLD_TAU_BENCH_DIR, else ../shared/datasets/tau-bench-airline next to the repo. */
export function datasetDir(repoRoot: string, env: NodeJS.ProcessEnv = process.env): string {
  return env.TRACEFOLD_TAU_BENCH_DIR ?? path.resolve(repoRoot, '../shared/datasets/tau-bench-airline');
}

/** Accepts the directory holding gpt-4o-airline.json or the file itself. */
export function loadDataset(dir: string): LoadedRun[] {
  const file = existsSync(dir) && statSync(dir).isFile() ? dir : path.join(dir, DATASET_FILE);
  if (!existsSync(file)) {
    throw new Error(`tau-bench dataset not found in ${dir} (expected ${DATASET_FILE}). Set TRACEFOLD_TAU_BENCH_DIR to the directory that holds it.`);
  }
  const data = JSON.parse(readFileSync(file, 'utf8')) as unknown;
  if (!Array.isArray(data)) throw new Error(`${file}: expected a list of runs`);
  const runs = (data as TauRun[]).map((run, i) => {
    if (!Array.isArray(run.traj)) throw new Error(`${file}: run ${i} has no traj list`);
    const taskId = integer(run.task_id, `run ${i}: task_id`);
    const trial = integer(run.trial, `run ${i}: trial`);
    return { id: runId(taskId, trial), taskId, trial, split: splitOf(taskId), succeeded: succeeded(run.reward), run };
  });
  const ids = new Set(runs.map((r) => r.id));
  if (ids.size !== runs.length) throw new Error(`${file}: task_id/trial pairs are not unique`);
  return runs.sort((a, b) => a.taskId - b.taskId || a.trial - b.trial);
}

/** A message as the GenAI conventions record it: a role and a list of typed parts. */
export interface GenAiMessage {
  readonly role: string;
  readonly parts: readonly GenAiPart[];
  readonly finish_reason?: string;
}

export type GenAiPart =
  | { readonly type: 'text'; readonly content: string }
  | { readonly type: 'tool_call'; readonly id: string; readonly name: string; readonly arguments: unknown }
  | { readonly type: 'tool_call_response'; readonly id: string; readonly response: string };

/** Tool-call arguments as an object when they are JSON (as recorded by the conventions), else the text. */
function parseArguments(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

function toolCallParts(message: TauMessage): GenAiPart[] {
  return (message.tool_calls ?? []).map((c) => ({ type: 'tool_call', id: c.id, name: c.function.name, arguments: parseArguments(c.function.arguments) }));
}

/** One chat message in the conventions' shape. */
export function genAiMessage(message: TauMessage): GenAiMessage {
  const text: GenAiPart[] = message.content !== null && message.content !== '' ? [{ type: 'text', content: message.content }] : [];
  if (message.role === 'tool') {
    return { role: 'tool', parts: [{ type: 'tool_call_response', id: message.tool_call_id ?? '', response: message.content ?? '' }] };
  }
  if (message.role === 'assistant') return { role: 'assistant', parts: [...text, ...toolCallParts(message)] };
  return { role: message.role, parts: text };
}

/** The answer of a model call, with the finish reason its content implies (tool calls or a stop). */
export function outputMessage(message: TauMessage): GenAiMessage {
  const hasCalls = (message.tool_calls ?? []).length > 0;
  return { ...genAiMessage(message), finish_reason: hasCalls ? 'tool_call' : 'stop' };
}

/** The tool API's error report, or null when the answer is a result. */
export function toolError(content: string | null): string | null {
  return content !== null && content.startsWith(TOOL_ERROR_PREFIX) ? content : null;
}

export interface ConvertedRun {
  readonly id: string;
  readonly traceId: string;
  readonly request: OtlpRequest;
  readonly rootSpanId: string;
  /** chatSpanIds[i] is the span of the i-th assistant message. */
  readonly chatSpanIds: readonly string[];
  /** Tool-call id → its execute_tool span. */
  readonly toolSpanIds: ReadonlyMap<string, string>;
}

export function convertRun(run: TauRun, id: string): ConvertedRun {
  const traceId = hexId(`tau-bench/airline/${id}`, 32);
  const rootSpanId = hexId(`${traceId}/root`, 16);
  const spans: OtlpSpan[] = [];
  const chatSpanIds: string[] = [];
  const toolSpanIds = new Map<string, string>();
  const calls = new Map<string, TauToolCall>();
  const history: GenAiMessage[] = [];
  let cursor = BASE_MS;
  let toolIndex = 0;

  for (const message of run.traj) {
    switch (message.role) {
      case 'system':
        history.push(genAiMessage(message));
        break;
      case 'user':
        cursor += USER_TURN_MS;
        history.push(genAiMessage(message));
        break;
      case 'assistant': {
        const spanId = hexId(`${traceId}/chat/${chatSpanIds.length}`, 16);
        chatSpanIds.push(spanId);
        for (const c of message.tool_calls ?? []) calls.set(c.id, c);
        spans.push(
          span({
            traceId,
            spanId,
            parentSpanId: rootSpanId,
            name: `chat ${MODEL}`,
            startMs: cursor,
            durationMs: LLM_DURATION_MS,
            attributes: {
              'gen_ai.operation.name': 'chat',
              'gen_ai.provider.name': PROVIDER,
              'gen_ai.request.model': MODEL,
              'gen_ai.input.messages': JSON.stringify(history),
              'gen_ai.output.messages': JSON.stringify([outputMessage(message)]),
            },
          }),
        );
        cursor += LLM_DURATION_MS + GAP_MS;
        history.push(genAiMessage(message));
        break;
      }
      case 'tool': {
        const callId = message.tool_call_id ?? `tool/${toolIndex}`;
        const call = calls.get(callId);
        const name = call?.function.name ?? message.name ?? 'unknown_tool';
        const spanId = hexId(`${traceId}/tool/${toolIndex}`, 16);
        toolIndex++;
        toolSpanIds.set(callId, spanId);
        const error = toolError(message.content);
        spans.push(
          span({
            traceId,
            spanId,
            parentSpanId: rootSpanId,
            name: `execute_tool ${name}`,
            startMs: cursor,
            durationMs: TOOL_DURATION_MS,
            attributes: {
              'gen_ai.operation.name': 'execute_tool',
              'gen_ai.tool.name': name,
              'gen_ai.tool.type': 'function',
              'gen_ai.tool.call.id': message.tool_call_id,
              'gen_ai.tool.call.arguments': call?.function.arguments,
              'gen_ai.tool.call.result': message.content ?? '',
            },
            ...(error !== null ? { error } : {}),
          }),
        );
        cursor += TOOL_DURATION_MS + GAP_MS;
        history.push(genAiMessage(message));
        break;
      }
    }
  }

  const root = span({
    traceId,
    spanId: rootSpanId,
    name: `invoke_agent ${AGENT_NAME}`,
    startMs: BASE_MS,
    durationMs: Math.max(1, cursor - BASE_MS),
    attributes: {
      'gen_ai.operation.name': 'invoke_agent',
      'gen_ai.agent.name': AGENT_NAME,
      'gen_ai.provider.name': PROVIDER,
      'gen_ai.request.model': MODEL,
      'gen_ai.conversation.id': id,
    },
  });
  return { id, traceId, request: request(SERVICE_NAME, [root, ...spans]), rootSpanId, chatSpanIds, toolSpanIds };
}
