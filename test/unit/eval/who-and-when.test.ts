import { describe, expect, it } from 'vitest';
import { decodeOtlpJson } from '../../../src/ingest/otlp/json.js';
import { toSemanticTrace } from '../../../src/semantic/mapper.js';
import type { OtlpSpan } from '../../../eval/otlp.js';
import {
  BASE_MS,
  MAGENTIC_ONE_ROLES,
  baseAgentName,
  browserAction,
  convertRun,
  datasetDir,
  lastCodeBlock,
  loadDataset,
  terminalOutcome,
  type WhoWhenRun,
} from '../../../eval/who-and-when.js';

function attrs(span: OtlpSpan): Record<string, unknown> {
  return Object.fromEntries(span.attributes.map((a) => [a.key, Object.values(a.value)[0]]));
}

function spansOf(run: ReturnType<typeof convertRun>): OtlpSpan[] {
  return run.request.resourceSpans[0]!.scopeSpans[0]!.spans;
}

const magenticOne: WhoWhenRun = {
  question: 'How many studio albums did Mercedes Sosa release between 2000 and 2009?',
  mistake_agent: 'WebSurfer',
  mistake_step: '3',
  history: [
    { role: 'human', content: 'How many studio albums did Mercedes Sosa release between 2000 and 2009?' },
    { role: 'Orchestrator (thought)', content: 'Initial plan: ask WebSurfer to look up the discography.' },
    { role: 'Orchestrator (-> WebSurfer)', content: 'Please search Wikipedia for the Mercedes Sosa discography.' },
    { role: 'WebSurfer', content: "I typed 'Mercedes Sosa discography' into the search bar." },
    { role: 'Orchestrator (-> ComputerTerminal)', content: 'Run the script.' },
    {
      role: 'ComputerTerminal',
      content: 'The script ran, then exited with Unix exit code: 1\nIts output was:\nTraceback (most recent call last):\n  File "x.py", line 1\nKeyError: \'albums\'',
    },
    { role: 'Orchestrator (termination condition)', content: 'The answer is 3.' },
  ],
};

const captainAgent: WhoWhenRun = {
  question: 'What is 2 + 2?',
  mistake_agent: 'Verification_Expert',
  mistake_step: 2,
  system_prompt: {
    Math_Expert: '## Your role\nMath_Expert: solves arithmetic problems.',
    Verification_Expert: '## Your role\nVerification_Expert: checks results.',
  },
  history: [
    { role: 'assistant', name: 'Math_Expert', content: 'Let me compute.\n```python\nprint(2 + 2)\n```' },
    { role: 'user', name: 'Computer_terminal', content: 'exitcode: 1 (execution failed)\nCode output: NameError: name x is not defined' },
    { role: 'user', name: 'Verification_Expert', content: 'The answer is 5. TERMINATE' },
  ],
};

describe('convertRun: Magentic-One (Hand-Crafted)', () => {
  const run = convertRun(magenticOne, 'Hand-Crafted', 'Hand-Crafted/1');
  const spans = spansOf(run);

  it('makes a root span and one child span per history turn, in order, with synthetic timing', () => {
    expect(spans).toHaveLength(magenticOne.history.length + 1);
    const [root, ...turns] = spans;
    expect(attrs(root!)).toEqual({ 'gen_ai.operation.name': 'invoke_agent', 'input.value': magenticOne.question });
    expect(root!.parentSpanId).toBeUndefined();
    turns.forEach((s, i) => {
      expect(s.parentSpanId).toBe(root!.spanId);
      expect(s.startTimeUnixNano).toBe(String(BigInt(BASE_MS + i * 1000) * 1_000_000n));
      expect(s.endTimeUnixNano).toBe(String(BigInt(BASE_MS + i * 1000 + 900) * 1_000_000n));
    });
    expect(run.stepSpanIds).toEqual(turns.map((s) => s.spanId));
    expect(new Set(run.stepSpanIds).size).toBe(run.stepSpanIds.length);
  });

  it('maps speakers to operations, agents, roles and hand-off targets', () => {
    expect(spans[1]!.name).toBe('user message');
    expect(attrs(spans[2]!)).toMatchObject({
      'gen_ai.operation.name': 'chat',
      'gen_ai.agent.name': 'Orchestrator',
      'gen_ai.agent.description': MAGENTIC_ONE_ROLES.Orchestrator,
      'gen_ai.prompt': magenticOne.history[0]!.content,
      'gen_ai.completion': magenticOne.history[1]!.content,
    });
    expect(spans[3]!.name).toBe('handoff to WebSurfer');
    expect(attrs(spans[3]!)).toMatchObject({
      'gen_ai.operation.name': 'handoff',
      'gen_ai.agent.name': 'Orchestrator',
      'gen_ai.prompt': magenticOne.history[2]!.content,
    });
    expect(attrs(spans[3]!)['gen_ai.completion']).toBeUndefined();
    expect(attrs(spans[4]!)).toMatchObject({ 'gen_ai.agent.name': 'WebSurfer', 'gen_ai.agent.description': MAGENTIC_ONE_ROLES.WebSurfer });
    expect(attrs(spans[7]!)['gen_ai.agent.name']).toBe('Orchestrator');
    expect(run.turns.map((t) => t.kind)).toEqual(['user', 'agent', 'handoff', 'agent', 'handoff', 'terminal', 'agent']);
  });

  it('makes terminal turns failed tool calls of the last working agent when the output shows a failure', () => {
    const terminal = spans[6]!;
    expect(terminal.name).toBe('execute_tool terminal');
    expect(attrs(terminal)).toMatchObject({
      'gen_ai.operation.name': 'execute_tool',
      'gen_ai.tool.name': 'terminal',
      'gen_ai.agent.name': 'WebSurfer',
      'gen_ai.agent.id': 'ComputerTerminal',
      'gen_ai.tool.call.result': magenticOne.history[5]!.content,
    });
    expect(terminal.status).toEqual({ code: 2, message: "KeyError: 'albums'" });
  });

  it('decodes with the project decoder into the semantic view detectors read', () => {
    const { spans: decoded, rejected } = decodeOtlpJson(run.request, { tenantId: 't', receivedAtMs: 0 });
    expect(rejected).toEqual([]);
    const semantic = toSemanticTrace('t', run.traceId, decoded);
    const byId = new Map(semantic.spans.map((s) => [s.spanId, s]));
    expect(byId.get(run.stepSpanIds[2]!)).toMatchObject({ operation: 'handoff', agentName: 'Orchestrator' });
    expect(byId.get(run.stepSpanIds[5]!)).toMatchObject({ operation: 'execute_tool', toolName: 'terminal', isError: true });
    expect(byId.get(run.stepSpanIds[3]!)).toMatchObject({ operation: 'chat', agentName: 'WebSurfer', agentRole: MAGENTIC_ONE_ROLES.WebSurfer });
  });

  it('is deterministic', () => {
    expect(convertRun(magenticOne, 'Hand-Crafted', 'Hand-Crafted/1')).toEqual(run);
    expect(convertRun(magenticOne, 'Hand-Crafted', 'Hand-Crafted/2').traceId).not.toBe(run.traceId);
  });
});

describe('convertRun: CaptainAgent (Algorithm-Generated)', () => {
  const run = convertRun(captainAgent, 'Algorithm-Generated', 'Algorithm-Generated/1');
  const spans = spansOf(run);

  it('reads the agent from `name` and its role from system_prompt', () => {
    expect(attrs(spans[1]!)).toMatchObject({
      'gen_ai.operation.name': 'chat',
      'gen_ai.agent.name': 'Math_Expert',
      'gen_ai.agent.description': captainAgent.system_prompt!.Math_Expert,
      'gen_ai.prompt': captainAgent.question,
    });
    expect(attrs(spans[3]!)['gen_ai.agent.description']).toBe(captainAgent.system_prompt!.Verification_Expert);
  });

  it('makes Computer_terminal a failed terminal call of the agent that wrote the code, with the code as arguments', () => {
    expect(attrs(spans[2]!)).toMatchObject({
      'gen_ai.tool.name': 'terminal',
      'gen_ai.agent.name': 'Math_Expert',
      'gen_ai.agent.id': 'Computer_terminal',
      'gen_ai.tool.call.arguments': 'print(2 + 2)',
    });
    expect(spans[2]!.status).toEqual({ code: 2, message: 'NameError: name x is not defined' });
    expect(run.turns.map((t) => t.kind)).toEqual(['agent', 'terminal', 'agent']);
  });
});

describe('terminalOutcome', () => {
  it.each([
    ['exitcode: 0 (execution succeeded)\nCode output: 4', false],
    ['exitcode: 0 (execution succeeded)\nCode output: Error: file not found', false],
    ['The script ran, then exited with Unix exit code: 0\nIts output was:\nok', false],
    ['There is no code from the last 1 message for me to execute.', false],
    ['exitcode: 1 (execution failed)\nCode output: ', true],
    ['The script ran, then exited with Unix exit code: 2', true],
    ['Traceback (most recent call last):\n  File "a.py"\nValueError: bad', true],
  ])('%j → failed %s', (content, failed) => {
    expect(terminalOutcome(content).failed).toBe(failed);
  });

  it('names the exception when there is one, else the exit code', () => {
    expect(terminalOutcome('exitcode: 1 (execution failed)\nCode output: \nModuleNotFoundError: No module named foo').message).toBe(
      'ModuleNotFoundError: No module named foo',
    );
    expect(terminalOutcome('exitcode: 137 (execution failed)\nCode output: ').message).toBe('exit code 137');
  });
});

describe('helpers', () => {
  it('normalises orchestrator speakers', () => {
    expect(baseAgentName('Orchestrator (thought)')).toBe('Orchestrator');
    expect(baseAgentName('Orchestrator (-> WebSurfer)')).toBe('Orchestrator');
    expect(baseAgentName('WebSurfer')).toBe('WebSurfer');
  });

  it('takes the last fenced code block', () => {
    expect(lastCodeBlock('a\n```python\nx = 1\n```\nb\n```sh\nls\n```')).toBe('ls');
    expect(lastCodeBlock('no code')).toBeNull();
  });

  it('resolves the dataset directory from the env or next to the repo, and fails clearly when missing', () => {
    expect(datasetDir('/r/main', {})).toBe('/r/shared/datasets/who-and-when');
    expect(datasetDir('/r/main', { TRACEFOLD_WHO_AND_WHEN_DIR: '/data/ww' })).toBe('/data/ww');
    expect(() => loadDataset('/nonexistent/who-and-when')).toThrow(/Who&When dataset not found in \/nonexistent\/who-and-when/);
  });
});

describe('browserAction', () => {
  it('reads the WebSurfer action a turn opens with as the tool that performed it', () => {
    const shot = '\n\nHere is a screenshot of [Page](https://example.com).';
    expect(browserAction(`I typed 'Mercedes Sosa discography' into the browser search bar.${shot}`)).toEqual({
      tool: 'web_search',
      arguments: { query: 'Mercedes Sosa discography' },
    });
    expect(browserAction(`I typed 'https://www.usps.com/' into the browser address bar.${shot}`)).toEqual({
      tool: 'visit_url',
      arguments: { url: 'https://www.usps.com/' },
    });
    expect(browserAction(`I typed 'Ben & Jerry's flavor graveyard' into '0 characters out of 2000'.${shot}`)).toEqual({
      tool: 'input_text',
      arguments: { input_field: '0 characters out of 2000', text_value: "Ben & Jerry's flavor graveyard" },
    });
    expect(browserAction(`I clicked 'What's the destination country?'.${shot}`)).toEqual({
      tool: 'click',
      arguments: { target: "What's the destination country?" },
    });
    expect(browserAction(`I clicked the browser back button.${shot}`)).toEqual({ tool: 'history_back', arguments: {} });
    expect(browserAction(`I scrolled down one page in the browser.${shot}`)).toEqual({ tool: 'page_down', arguments: {} });
  });

  it('reads nothing from a turn that does not open with an action', () => {
    expect(browserAction('According to the page, the estimate is 3.')).toBeNull();
    expect(browserAction("I typed 'x' into the search bar.")).toBeNull();
  });
});

describe('convertRun: synthesised browser actions', () => {
  const history = [
    { role: 'human', content: 'Find the price.' },
    { role: 'Orchestrator (-> WebSurfer)', content: 'Search for the price.' },
    { role: 'WebSurfer', content: "I typed 'price of X' into the browser search bar.\n\nHere is a screenshot of [price of X - Search](https://www.bing.com/)." },
  ];
  const run = convertRun({ question: 'Find the price.', mistake_agent: 'WebSurfer', mistake_step: '2', history }, 'Hand-Crafted', 'Hand-Crafted/9');
  const spans = spansOf(run);

  it('adds the action as a tool call inside the turn, mapped to the turn’s step', () => {
    expect(spans).toHaveLength(history.length + 2);
    const turn = spans.find((s) => s.spanId === run.stepSpanIds[2])!;
    const action = spans.at(-1)!;
    expect(action.parentSpanId).toBe(turn.spanId);
    expect(action.name).toBe('execute_tool web_search');
    expect(attrs(action)).toMatchObject({
      'gen_ai.operation.name': 'execute_tool',
      'gen_ai.tool.name': 'web_search',
      'gen_ai.agent.name': 'WebSurfer',
      'gen_ai.tool.call.arguments': JSON.stringify({ query: 'price of X' }),
    });
    expect(BigInt(action.startTimeUnixNano)).toBeGreaterThan(BigInt(turn.startTimeUnixNano));
    expect(BigInt(action.endTimeUnixNano)).toBeLessThan(BigInt(turn.endTimeUnixNano));
    expect([...run.childSteps]).toEqual([[action.spanId, 2]]);
    expect(run.stepSpanIds).not.toContain(action.spanId);
  });

  it('adds none to Algorithm-Generated runs', () => {
    const ag = convertRun({ ...captainAgent, history: [{ role: 'assistant', name: 'Web_Expert', content: history[2]!.content }] }, 'Algorithm-Generated', 'Algorithm-Generated/9');
    expect(spansOf(ag)).toHaveLength(2);
    expect(ag.childSteps.size).toBe(0);
  });
});
