/**
 * Who&When (Agents_Failure_Attribution) runs → OTLP/HTTP JSON trace exports.
 *
 * The dataset holds chat transcripts, not traces: no timestamps, token counts, models or
 * structured tool calls. Everything below that is not in a transcript is synthesised, and
 * docs/evaluation.md lists it: span ids and timestamps, operations inferred from the speaker,
 * Magentic-One role descriptions, hand-off targets from "Orchestrator (-> X)", the agent on
 * whose behalf a terminal ran, the error status of terminal output, and the tool calls of
 * browser actions that WebSurfer turns report in prose.
 */
import { readdirSync, readFileSync, existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { hexId, request, span, type AttributeInput, type OtlpRequest, type OtlpSpan } from './otlp.js';

export type Subset = 'Hand-Crafted' | 'Algorithm-Generated';
export const SUBSETS: readonly Subset[] = ['Hand-Crafted', 'Algorithm-Generated'];

export interface WhoWhenTurn {
  readonly role: string;
  readonly name?: string;
  readonly content: string;
}

export interface WhoWhenRun {
  readonly history: readonly WhoWhenTurn[];
  readonly question: string;
  readonly mistake_agent: string;
  /** 0-based index into `history`; a string in the published files. */
  readonly mistake_step: string | number;
  readonly mistake_reason?: string;
  readonly system_prompt?: Readonly<Record<string, string>>;
}

/** What a history turn becomes. */
export type TurnKind = 'user' | 'agent' | 'handoff' | 'terminal';

export interface TurnInfo {
  readonly kind: TurnKind;
  /** The acting agent; for a terminal turn, the agent it ran for (null when none precedes it). */
  readonly agent: string | null;
  /** Hand-off target. */
  readonly target: string | null;
}

export interface ConvertedRun {
  readonly id: string;
  readonly subset: Subset;
  readonly traceId: string;
  readonly request: OtlpRequest;
  /** stepSpanIds[i] is the span made from history[i]. */
  readonly stepSpanIds: readonly string[];
  /** Spans synthesised inside a turn (browser actions) → the history index of that turn. */
  readonly childSteps: ReadonlyMap<string, number>;
  readonly turns: readonly TurnInfo[];
}

/** Fixed start of every converted run (2024-01-01T00:00:00Z): the transcripts carry no time. */
export const BASE_MS = 1_704_067_200_000;
export const TURN_SPACING_MS = 1000;
export const TURN_DURATION_MS = 900;
/** A synthesised browser action runs inside its turn's span. */
export const ACTION_OFFSET_MS = 300;
export const ACTION_DURATION_MS = 500;

export const TERMINAL_TOOL = 'terminal';

/**
 * Short role descriptions of the Magentic-One agents, written for this evaluation from the
 * agents' documented roles (the Hand-Crafted runs carry no system prompts).
 */
export const MAGENTIC_ONE_ROLES: Readonly<Record<string, string>> = {
  Orchestrator:
    'Orchestrator: plans how to solve the user request, keeps a ledger of facts and progress, decides which agent acts next and what it should do, and gives the final answer.',
  WebSurfer:
    'WebSurfer: controls a web browser; searches the web, opens pages, clicks, types, scrolls and reports what the pages show.',
  FileSurfer:
    'FileSurfer: reads local files (documents, spreadsheets, audio transcripts) with a text file browser and reports their content.',
  Assistant:
    'Assistant: a general-purpose assistant that reasons about the task and writes Python or shell code for the terminal to run.',
  Coder: 'Coder: writes Python or shell code to analyse information or compute results, for the terminal to run.',
  ComputerTerminal: 'ComputerTerminal: runs the code blocks other agents write and returns their output.',
};

const TERMINAL_NAMES = new Set(['computerterminal', 'computer_terminal']);
const USER_NAMES = new Set(['human', 'user']);

function isTerminal(name: string): boolean {
  return TERMINAL_NAMES.has(name.toLowerCase());
}

/** The speaker of a turn: `name` in CaptainAgent runs, `role` in Magentic-One runs. */
export function speakerOf(turn: WhoWhenTurn, subset: Subset): string {
  return subset === 'Algorithm-Generated' && turn.name !== undefined && turn.name !== '' ? turn.name : turn.role;
}

/** "Orchestrator (thought)" / "Orchestrator (-> WebSurfer)" → "Orchestrator". */
export function baseAgentName(speaker: string): string {
  return speaker.replace(/\s*\([^)]*\)\s*$/, '').trim();
}

function handoffTarget(speaker: string): string | null {
  const m = /\(\s*->\s*([^)]+?)\s*\)\s*$/.exec(speaker);
  return m?.[1] ?? null;
}

export function classifyTurns(run: WhoWhenRun, subset: Subset): TurnInfo[] {
  const out: TurnInfo[] = [];
  let lastWorker: string | null = null;
  let lastAgent: string | null = null;
  for (const turn of run.history) {
    const speaker = speakerOf(turn, subset);
    if (USER_NAMES.has(speaker.toLowerCase())) {
      out.push({ kind: 'user', agent: null, target: null });
      continue;
    }
    if (isTerminal(speaker)) {
      // A tool call belongs to the agent that asked for it: the last agent other than the
      // orchestrator (which only routes) to speak, else the last agent at all.
      out.push({ kind: 'terminal', agent: lastWorker ?? lastAgent, target: null });
      continue;
    }
    const agent = baseAgentName(speaker);
    const target = handoffTarget(speaker);
    if (target !== null) out.push({ kind: 'handoff', agent, target });
    else out.push({ kind: 'agent', agent, target: null });
    lastAgent = agent;
    if (agent !== 'Orchestrator') lastWorker = agent;
  }
  return out;
}

export interface TerminalOutcome {
  readonly failed: boolean;
  readonly message: string | null;
}

/**
 * Reads a terminal turn's output: a non-zero exit code or a Python traceback is a failure.
 * Exit code 0 with "Error: …" printed by the script itself is not: the program handled it.
 */
export function terminalOutcome(content: string): TerminalOutcome {
  const exit = /exit\s*code(?: was)?:\s*(-?\d+)/i.exec(content);
  const code = exit === null ? null : Number(exit[1]);
  const traceback = /Traceback \(most recent call last\)/.test(content);
  if ((code === null || code === 0) && !traceback) return { failed: false, message: null };
  // The exception line of a traceback says more than the exit code.
  const lines = content.split('\n').map((l) => l.trim().replace(/^Code output:\s*/, ''));
  const exceptionLine = [...lines].reverse().find((l) => /^[A-Za-z_.]*(Error|Exception|Interrupt|Exit)\b.*/.test(l));
  const message = exceptionLine ?? (code !== null ? `exit code ${code}` : 'Python traceback');
  return { failed: true, message: message.slice(0, 300) };
}

/** The code a terminal ran: the last fenced block of the turn that asked for it. */
export function lastCodeBlock(text: string): string | null {
  const blocks = [...text.matchAll(/```[^\n`]*\n([\s\S]*?)```/g)];
  const last = blocks.at(-1)?.[1]?.trim();
  return last === undefined || last === '' ? null : last;
}

/** A browser action a turn reports in prose, as the tool call that performed it. */
export interface BrowserAction {
  readonly tool: string;
  readonly arguments: Readonly<Record<string, string>>;
}

/**
 * Reads the browser action a Magentic-One WebSurfer turn opens with ("I typed 'X' into the
 * browser search bar.", "I clicked 'Y'.", "I scrolled down one page in the browser.") as
 * the WebSurfer tool that performed it (web_search, visit_url, input_text, click,
 * page_down, page_up, history_back). Only the first paragraph is read; quoted text may
 * hold apostrophes, so the quote ends at the last match of what follows it.
 */
export function browserAction(content: string): BrowserAction | null {
  const head = content.split(/\n\s*\n/)[0]!.trim();
  let m = /^I typed '([\s\S]*)' into the browser (search|address) bar\.$/.exec(head);
  if (m !== null) return m[2] === 'search' ? { tool: 'web_search', arguments: { query: m[1]! } } : { tool: 'visit_url', arguments: { url: m[1]! } };
  m = /^I typed '([\s\S]*)' into '([\s\S]*)'\.$/.exec(head);
  if (m !== null) return { tool: 'input_text', arguments: { input_field: m[2]!, text_value: m[1]! } };
  m = /^I input '([\s\S]*)'\.$/.exec(head);
  if (m !== null) return { tool: 'input_text', arguments: { text_value: m[1]! } };
  if (/^I clicked the browser back button\.$/.test(head)) return { tool: 'history_back', arguments: {} };
  m = /^I clicked '([\s\S]*)'\.$/.exec(head);
  if (m !== null) return { tool: 'click', arguments: { target: m[1]! } };
  // The target was not named ("I clicked the control."): the call is known, its input is not.
  if (/^I clicked the control\.$/.test(head)) return { tool: 'click', arguments: {} };
  m = /^I scrolled (down|up) one page in the browser\.$/.exec(head);
  if (m !== null) return { tool: m[1] === 'down' ? 'page_down' : 'page_up', arguments: {} };
  return null;
}

function roleOf(run: WhoWhenRun, subset: Subset, agent: string): string | null {
  if (subset === 'Algorithm-Generated') return run.system_prompt?.[agent] ?? null;
  return MAGENTIC_ONE_ROLES[agent] ?? null;
}

export function convertRun(run: WhoWhenRun, subset: Subset, id: string): ConvertedRun {
  const traceId = hexId(`who-and-when/${subset}/${id}`, 32);
  const rootId = hexId(`${traceId}/root`, 16);
  const turns = classifyTurns(run, subset);
  const n = run.history.length;
  const spans: OtlpSpan[] = [
    span({
      traceId,
      spanId: rootId,
      name: subset === 'Hand-Crafted' ? 'magentic-one run' : 'captain-agent run',
      startMs: BASE_MS,
      durationMs: Math.max(1, n) * TURN_SPACING_MS,
      attributes: { 'gen_ai.operation.name': 'invoke_agent', 'input.value': run.question },
    }),
  ];
  const stepSpanIds: string[] = [];
  const childSteps = new Map<string, number>();
  for (let i = 0; i < n; i++) {
    const turn = run.history[i]!;
    const info = turns[i]!;
    const spanId = hexId(`${traceId}/step/${i}`, 16);
    stepSpanIds.push(spanId);
    const previous = i > 0 ? run.history[i - 1]!.content : run.question;
    const base = { traceId, spanId, parentSpanId: rootId, startMs: BASE_MS + i * TURN_SPACING_MS, durationMs: TURN_DURATION_MS };
    const role = info.agent === null ? null : roleOf(run, subset, info.agent);
    let attrs: AttributeInput;
    let name: string;
    let error: string | undefined;
    switch (info.kind) {
      case 'user':
        name = 'user message';
        attrs = { 'input.value': turn.content };
        break;
      case 'handoff':
        // The instruction is what the target receives: the hand-off's prompt, not its output.
        name = `handoff to ${info.target}`;
        attrs = {
          'gen_ai.operation.name': 'handoff',
          'gen_ai.agent.name': info.agent,
          'gen_ai.agent.description': role,
          'gen_ai.prompt': turn.content,
        };
        break;
      case 'terminal': {
        const outcome = terminalOutcome(turn.content);
        name = `execute_tool ${TERMINAL_TOOL}`;
        attrs = {
          'gen_ai.operation.name': 'execute_tool',
          'gen_ai.tool.name': TERMINAL_TOOL,
          // The name is the agent the code ran for (whom a tool failure is attributed to);
          // the id is the terminal agent itself, so a hand-off to it is seen to be answered.
          'gen_ai.agent.name': info.agent,
          'gen_ai.agent.id': speakerOf(turn, subset),
          'gen_ai.tool.call.arguments': lastCodeBlock(previous),
          'gen_ai.tool.call.result': turn.content,
        };
        if (outcome.failed) error = outcome.message ?? 'terminal failure';
        break;
      }
      case 'agent':
        name = `chat ${info.agent}`;
        attrs = {
          'gen_ai.operation.name': 'chat',
          'gen_ai.agent.name': info.agent,
          'gen_ai.agent.description': role,
          'gen_ai.prompt': previous,
          'gen_ai.completion': turn.content,
        };
        break;
    }
    spans.push(span({ ...base, name, attributes: attrs, ...(error !== undefined ? { error } : {}) }));
    // A turn that reports a browser action also gets the tool call it describes, as a child
    // of the turn's model call (which decided it), inside the turn's time.
    const action = info.kind === 'agent' && subset === 'Hand-Crafted' ? browserAction(turn.content) : null;
    if (action !== null) {
      const actionId = hexId(`${traceId}/step/${i}/action`, 16);
      childSteps.set(actionId, i);
      spans.push(
        span({
          traceId,
          spanId: actionId,
          parentSpanId: spanId,
          name: `execute_tool ${action.tool}`,
          startMs: base.startMs + ACTION_OFFSET_MS,
          durationMs: ACTION_DURATION_MS,
          attributes: {
            'gen_ai.operation.name': 'execute_tool',
            'gen_ai.tool.name': action.tool,
            'gen_ai.agent.name': info.agent,
            'gen_ai.tool.call.arguments': JSON.stringify(action.arguments),
            'gen_ai.tool.call.result': turn.content,
          },
        }),
      );
    }
  }
  const service = subset === 'Hand-Crafted' ? 'magentic-one' : 'captain-agent';
  return { id, subset, traceId, request: request(service, spans), stepSpanIds, childSteps, turns };
}

export interface LabelledRun {
  readonly id: string;
  readonly subset: Subset;
  readonly run: WhoWhenRun;
}

/** The dataset directory: env TRACEFOLD_WHO_AND_WHEN_DIR, else ../shared next to the repo. */
export function datasetDir(repoRoot: string, env: NodeJS.ProcessEnv = process.env): string {
  return env.TRACEFOLD_WHO_AND_WHEN_DIR ?? path.resolve(repoRoot, '../shared/datasets/who-and-when');
}

/** Accepts the directory holding `Who&When/` or `Who&When/` itself. */
function subsetRoot(dir: string): string | null {
  for (const candidate of [path.join(dir, 'Who&When'), dir]) {
    if (SUBSETS.every((s) => existsSync(path.join(candidate, s)) && statSync(path.join(candidate, s)).isDirectory())) return candidate;
  }
  return null;
}

export function loadDataset(dir: string): LabelledRun[] {
  const root = subsetRoot(dir);
  if (root === null) {
    throw new Error(
      `Who&When dataset not found in ${dir} (expected Who&When/Hand-Crafted and Who&When/Algorithm-Generated). ` +
        'Set TRACEFOLD_WHO_AND_WHEN_DIR to the directory that holds it.',
    );
  }
  const runs: LabelledRun[] = [];
  for (const subset of SUBSETS) {
    const files = readdirSync(path.join(root, subset))
      .filter((f) => f.endsWith('.json'))
      // Numeric file names in numeric order, so output is stable and readable.
      .sort((a, b) => parseInt(a, 10) - parseInt(b, 10) || (a < b ? -1 : 1));
    for (const file of files) {
      const run = JSON.parse(readFileSync(path.join(root, subset, file), 'utf8')) as WhoWhenRun;
      if (!Array.isArray(run.history)) throw new Error(`${subset}/${file}: no history list`);
      runs.push({ id: `${subset}/${file.replace(/\.json$/, '')}`, subset, run });
    }
  }
  return runs;
}
