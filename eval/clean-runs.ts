/**
 * Generated successful agent runs, the negatives of the evaluation: the Who&When runs are all
 * failures, so false positives are measured here. Seeded and deterministic: the same seed
 * and count give byte-identical payloads.
 *
 * Runs are clean by construction (no errored span, every dispatched agent acts, outputs on
 * the task and in the agent's role) but carry the near-misses real runs have: one tool called
 * several times with different arguments, a file read twice, prompts growing moderately from
 * call to call (well under the token-explosion factor), prompts well inside the model's
 * context window, an output that stops exactly on a round token count after a full sentence,
 * an author/reviewer exchange of one or two round trips, and durations that vary within a
 * few seconds.
 */
import { BASE_MS } from './who-and-when.js';
import { hexId, request, span, type AttributeInput, type OtlpRequest, type OtlpSpan } from './otlp.js';
import { seededRandom } from '../test/support/seeded-random.js';

export type CleanKind = 'single-agent-tools' | 'multi-agent-handoff' | 'rag' | 'coder-terminal';
export const CLEAN_KINDS: readonly CleanKind[] = ['single-agent-tools', 'multi-agent-handoff', 'rag', 'coder-terminal'];

export interface CleanRun {
  readonly id: string;
  readonly kind: CleanKind;
  readonly traceId: string;
  readonly request: OtlpRequest;
}

export const DEFAULT_CLEAN_RUNS = 240;
export const DEFAULT_SEED = 20240601;

type Rand = () => number;
const int = (r: Rand, lo: number, hi: number) => lo + Math.floor(r() * (hi - lo + 1));
const pick = <T>(r: Rand, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
function shuffled<T>(r: Rand, xs: readonly T[]): T[] {
  const out = [...xs];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(r() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

const MODELS: readonly { model: string; provider: string }[] = [
  { model: 'gpt-4o', provider: 'openai' },
  { model: 'gpt-4o-mini', provider: 'openai' },
  { model: 'gpt-4.1-mini', provider: 'openai' },
  { model: 'claude-3-5-sonnet-20241022', provider: 'anthropic' },
  { model: 'gemini-1.5-pro', provider: 'gcp.gemini' },
];

/** Output token counts that are typical caps; outputs avoid them except for one near-miss. */
const CAPS = new Set([256, 512, 1024, 2048, 4096, 8192]);

interface Topic {
  readonly subject: string;
  readonly question: string;
  readonly queries: readonly string[];
  readonly facts: readonly string[];
}

const TOPICS: readonly Topic[] = [
  {
    subject: 'heat pumps in cold climates',
    question: 'How well do air-source heat pumps work in cold climates?',
    queries: ['air source heat pump efficiency below -15C', 'cold climate heat pump field study', 'heat pump COP at low temperature'],
    facts: ['cold-climate models keep a COP above 1.5 at -15 °C', 'field studies in Maine and Norway report high owner satisfaction', 'backup resistance heating is used on the coldest days'],
  },
  {
    subject: 'the history of the Suez Canal',
    question: 'Summarise the history of the Suez Canal.',
    queries: ['Suez Canal construction 1859 1869', 'Suez Crisis 1956 nationalisation', 'Suez Canal expansion 2015'],
    facts: ['construction ran from 1859 to 1869 under Ferdinand de Lesseps', 'Egypt nationalised the canal in 1956', 'a parallel channel opened in 2015'],
  },
  {
    subject: 'sourdough starter care',
    question: 'How should I maintain a sourdough starter?',
    queries: ['sourdough starter feeding ratio', 'sourdough starter refrigerator storage', 'revive sluggish sourdough starter'],
    facts: ['a 1:1:1 feeding ratio by weight is common', 'a refrigerated starter needs feeding about once a week', 'two or three feedings at room temperature revive a sluggish starter'],
  },
  {
    subject: 'the James Webb Space Telescope',
    question: 'What has the James Webb Space Telescope discovered so far?',
    queries: ['JWST early galaxies discovery', 'JWST exoplanet atmosphere carbon dioxide', 'JWST launch date L2 orbit'],
    facts: ['it launched on 25 December 2021 and orbits near L2', 'it detected carbon dioxide in the atmosphere of WASP-39b', 'it found bright galaxies less than 400 million years after the Big Bang'],
  },
  {
    subject: 'electric bus adoption in European cities',
    question: 'How fast are European cities adopting electric buses?',
    queries: ['electric bus share new registrations Europe', 'city electric bus fleet Oslo Amsterdam', 'electric bus total cost of ownership'],
    facts: ['battery-electric buses exceeded a third of new city bus registrations in 2023', 'Oslo and Amsterdam run largely electric fleets', 'lifetime costs are approaching those of diesel buses'],
  },
  {
    subject: 'Python packaging with pyproject.toml',
    question: 'How do I package a Python library with pyproject.toml?',
    queries: ['pyproject.toml build-system setuptools', 'PEP 621 project metadata', 'python -m build wheel sdist'],
    facts: ['PEP 621 defines the [project] metadata table', 'the [build-system] table names the build backend', 'python -m build produces the sdist and the wheel'],
  },
  {
    subject: 'marathon training plans',
    question: 'What does a good 16-week marathon training plan look like?',
    queries: ['16 week marathon plan long run progression', 'marathon taper length', 'easy run pace marathon training'],
    facts: ['the long run builds gradually to about 32 km', 'a two- to three-week taper is typical', 'most weekly mileage is run at an easy pace'],
  },
  {
    subject: 'coral reef bleaching',
    question: 'What causes coral reef bleaching and how often does it happen now?',
    queries: ['coral bleaching cause marine heatwave', 'global coral bleaching event 2024', 'coral recovery after bleaching'],
    facts: ['bleaching follows sustained water temperatures above the summer maximum', 'NOAA confirmed a fourth global bleaching event in 2024', 'reefs can recover within a decade if heat stress does not recur'],
  },
  {
    subject: 'the Raft consensus algorithm',
    question: 'Explain how the Raft consensus algorithm elects a leader.',
    queries: ['raft leader election randomized timeout', 'raft log replication commit index', 'raft paper Ongaro Ousterhout'],
    facts: ['followers become candidates after a randomised election timeout', 'a candidate needs votes from a majority of the cluster', 'entries commit once a majority has replicated them'],
  },
  {
    subject: 'home battery storage',
    question: 'Is a home battery worth it with rooftop solar?',
    queries: ['home battery payback period solar', 'home battery capacity kWh typical', 'time of use tariff battery savings'],
    facts: ['typical home batteries store 10 to 15 kWh', 'payback periods range from 7 to 12 years', 'time-of-use tariffs shorten the payback'],
  },
  {
    subject: 'the Voyager probes',
    question: 'Where are the Voyager probes now and are they still working?',
    queries: ['Voyager 1 distance from Earth', 'Voyager 2 interstellar space 2018', 'Voyager instruments power budget'],
    facts: ['Voyager 1 entered interstellar space in 2012', 'Voyager 2 crossed the heliopause in 2018', 'instruments are switched off one by one to save power'],
  },
  {
    subject: 'indoor air quality and CO2',
    question: 'What indoor CO2 level should an office aim for?',
    queries: ['indoor CO2 ppm guideline office', 'CO2 cognitive performance study', 'ventilation rate per person office'],
    facts: ['many guidelines aim for below 1000 ppm', 'some studies link higher CO2 to slower decision making', 'about 10 litres per second per person is a common ventilation target'],
  },
];

const CITIES = ['Lisbon', 'Oslo', 'Nairobi', 'Osaka', 'Montreal', 'Lima', 'Krakow', 'Adelaide', 'Reykjavik', 'Seville'];

interface CodeTask {
  readonly task: string;
  readonly variants: readonly { readonly code: string; readonly output: string }[];
}

function primesBelow(n: number): number {
  const sieve = new Uint8Array(n);
  let count = 0;
  for (let i = 2; i < n; i++) {
    if (sieve[i] === 1) continue;
    count++;
    for (let j = i * i; j < n; j += i) sieve[j] = 1;
  }
  return count;
}

function codeTasks(r: Rand): CodeTask[] {
  const n = pick(r, [1000, 5000, 10_000, 50_000]);
  const m = int(r, 20, 90);
  const k = int(r, 10, 30);
  const fib = (x: number) => {
    let [a, b] = [0n, 1n];
    for (let i = 0; i < x; i++) [a, b] = [b, a + b];
    return a;
  };
  const squares = (x: number) => (x * (x + 1) * (2 * x + 1)) / 6;
  return [
    {
      task: `Count the prime numbers below ${n}.`,
      variants: [
        { code: `import math\nprint(sum(1 for p in range(2, ${n}) if all(p % d for d in range(2, math.isqrt(p) + 1))))`, output: `${primesBelow(n)}` },
        { code: `sieve = [True] * ${n}\nsieve[0] = sieve[1] = False\nfor i in range(2, int(${n} ** 0.5) + 1):\n    if sieve[i]:\n        sieve[i*i::i] = [False] * len(sieve[i*i::i])\nprint(sum(sieve))`, output: `${primesBelow(n)}` },
      ],
    },
    {
      task: `Compute the sum of the squares of the integers from 1 to ${m}.`,
      variants: [
        { code: `print(sum(i * i for i in range(1, ${m + 1})))`, output: `${squares(m)}` },
        { code: `n = ${m}\nprint(n * (n + 1) * (2 * n + 1) // 6)`, output: `${squares(m)}` },
      ],
    },
    {
      task: `Find the ${k}th Fibonacci number (F(0) = 0).`,
      variants: [
        { code: `a, b = 0, 1\nfor _ in range(${k}):\n    a, b = b, a + b\nprint(a)`, output: `${fib(k)}` },
        { code: `from functools import lru_cache\n@lru_cache(None)\ndef f(n):\n    return n if n < 2 else f(n - 1) + f(n - 2)\nprint(f(${k}))`, output: `${fib(k)}` },
      ],
    },
  ];
}

interface AgentSpec {
  readonly name: string;
  readonly role: string;
}

/** Assembles one run's spans on a running clock, keeping per-agent token growth moderate. */
class RunBuilder {
  readonly traceId: string;
  readonly rootId: string;
  private readonly spans: OtlpSpan[] = [];
  private clock: number;
  private readonly start: number;
  private seq = 0;
  private readonly tokens = new Map<string, { base: number; step: number; calls: number }>();
  private readonly model: { model: string; provider: string };

  constructor(
    private readonly r: Rand,
    key: string,
    startMs: number,
    private readonly task: string,
  ) {
    this.traceId = hexId(`clean/${key}`, 32);
    this.rootId = hexId(`${this.traceId}/root`, 16);
    this.start = startMs;
    this.clock = startMs + int(r, 5, 40);
    this.model = pick(r, MODELS);
  }

  private next(durationMs: number): { spanId: string; startMs: number } {
    const spanId = hexId(`${this.traceId}/${this.seq++}`, 16);
    const startMs = this.clock;
    this.clock += durationMs + int(this.r, 5, 120);
    return { spanId, startMs };
  }

  private inputTokens(agent: string, extra: number): number {
    let t = this.tokens.get(agent);
    if (t === undefined) {
      t = { base: int(this.r, 600, 3500) + extra, step: 0.05 + this.r() * 0.15, calls: 0 };
      this.tokens.set(agent, t);
    }
    // Linear growth of at most 20% of the first prompt per call: with the few calls an agent
    // makes here, the last prompt stays under 2.5× the first.
    const n = Math.round(t.base * (1 + t.step * Math.min(t.calls, 7)) + int(this.r, 0, 40));
    t.calls++;
    return n;
  }

  private outputTokens(text: string): number {
    // Near-miss: an output sitting exactly on a cap but ending with a full sentence.
    if (this.r() < 0.05 && /[.!?]\s*$/.test(text)) return 512;
    let n = Math.max(12, Math.round(text.length / 4) + int(this.r, 0, 60));
    if (CAPS.has(n)) n++;
    return n;
  }

  chat(agent: AgentSpec, prompt: string, completion: string, extraInputTokens = 0): void {
    const durationMs = int(this.r, 700, 4500);
    const { spanId, startMs } = this.next(durationMs);
    this.push(spanId, `chat ${this.model.model}`, startMs, durationMs, {
      'gen_ai.operation.name': 'chat',
      'gen_ai.agent.name': agent.name,
      'gen_ai.agent.description': agent.role,
      'gen_ai.request.model': this.model.model,
      'gen_ai.provider.name': this.model.provider,
      'gen_ai.usage.input_tokens': this.inputTokens(agent.name, extraInputTokens),
      'gen_ai.usage.output_tokens': this.outputTokens(completion),
      'gen_ai.prompt': prompt,
      'gen_ai.completion': completion,
    });
  }

  tool(agent: AgentSpec, tool: string, args: unknown, result: string): void {
    const durationMs = int(this.r, 80, 2500);
    const { spanId, startMs } = this.next(durationMs);
    this.push(spanId, `execute_tool ${tool}`, startMs, durationMs, {
      'gen_ai.operation.name': 'execute_tool',
      'gen_ai.agent.name': agent.name,
      'gen_ai.tool.name': tool,
      'gen_ai.tool.call.arguments': typeof args === 'string' ? args : JSON.stringify(args),
      'gen_ai.tool.call.result': result,
    });
  }

  handoff(from: AgentSpec, to: AgentSpec, instruction: string): void {
    const durationMs = int(this.r, 3, 30);
    const { spanId, startMs } = this.next(durationMs);
    this.push(spanId, `handoff to ${to.name}`, startMs, durationMs, {
      'gen_ai.operation.name': 'handoff',
      'gen_ai.agent.name': from.name,
      'gen_ai.agent.description': from.role,
      'gen_ai.prompt': instruction,
    });
  }

  retrieval(agent: AgentSpec, query: string, docs: readonly string[]): void {
    const embedMs = int(this.r, 60, 400);
    const e = this.next(embedMs);
    this.push(e.spanId, 'embeddings text-embedding-3-small', e.startMs, embedMs, {
      'gen_ai.operation.name': 'embeddings',
      'gen_ai.agent.name': agent.name,
      'gen_ai.request.model': 'text-embedding-3-small',
      'gen_ai.provider.name': 'openai',
      'gen_ai.usage.input_tokens': Math.max(4, Math.round(query.length / 4)),
    });
    const retrieveMs = int(this.r, 40, 600);
    const s = this.next(retrieveMs);
    this.push(s.spanId, 'retrieval knowledge_base', s.startMs, retrieveMs, {
      'gen_ai.operation.name': 'retrieval',
      'gen_ai.agent.name': agent.name,
      'gen_ai.data_source.id': 'knowledge_base',
      'input.value': query,
      'output.value': JSON.stringify(docs.map((text, i) => ({ id: `doc-${i + 1}`, score: Math.round((0.9 - i * 0.07) * 100) / 100, text }))),
    });
  }

  private push(spanId: string, name: string, startMs: number, durationMs: number, attrs: AttributeInput): void {
    this.spans.push(span({ traceId: this.traceId, spanId, parentSpanId: this.rootId, name, startMs, durationMs, attributes: attrs }));
  }

  build(service: string): OtlpRequest {
    const root = span({
      traceId: this.traceId,
      spanId: this.rootId,
      name: `${service} run`,
      startMs: this.start,
      durationMs: this.clock - this.start + 10,
      attributes: { 'gen_ai.operation.name': 'invoke_agent', 'input.value': this.task },
    });
    return request(service, [root, ...this.spans]);
  }
}

function singleAgentTools(r: Rand, key: string, startMs: number): OtlpRequest {
  const topic = pick(r, TOPICS);
  const cities = shuffled(r, CITIES).slice(0, int(r, 2, 4));
  const weather = r() < 0.5;
  const task = weather ? `Compare tomorrow's weather in ${cities.join(', ')} for an outdoor event.` : topic.question;
  const b = new RunBuilder(r, key, startMs, task);
  const agent: AgentSpec = {
    name: 'assistant',
    role: 'Assistant: answers user questions by calling the web_search, get_weather and calculator tools and summarising the results accurately.',
  };
  if (weather) {
    b.chat(agent, task, `I will look up tomorrow's forecast for ${cities.join(', ')} with the get_weather tool and compare them.`);
    const forecasts = cities.map((city) => ({ city, high: int(r, 8, 31), rain: int(r, 0, 80) }));
    for (const f of forecasts) {
      b.tool(agent, 'get_weather', { city: f.city, day: 'tomorrow' }, JSON.stringify({ city: f.city, high_c: f.high, chance_of_rain_pct: f.rain }));
    }
    const best = [...forecasts].sort((x, y) => x.rain - y.rain || y.high - x.high)[0]!;
    if (r() < 0.5) {
      // Same tool, different arguments: not a loop.
      b.tool(agent, 'calculator', { expression: `(${forecasts.map((f) => f.high).join(' + ')}) / ${forecasts.length}` }, String(forecasts.reduce((s, f) => s + f.high, 0) / forecasts.length));
    }
    b.chat(
      agent,
      `Forecasts: ${JSON.stringify(forecasts)}`,
      `Tomorrow's weather favours ${best.city}: a high of ${best.high} °C and a ${best.rain}% chance of rain. ` +
        forecasts.filter((f) => f !== best).map((f) => `${f.city} expects ${f.high} °C with a ${f.rain}% chance of rain.`).join(' '),
    );
  } else {
    b.chat(agent, task, `To answer this I will search the web for ${topic.subject} and summarise what reliable sources say.`);
    const queries = shuffled(r, topic.queries).slice(0, int(r, 2, 3));
    queries.forEach((q, i) => b.tool(agent, 'web_search', { query: q, max_results: 5 }, `Top result: ${topic.facts[i % topic.facts.length]}.`));
    if (r() < 0.3) {
      // A second search with the first query but more results: different arguments.
      b.tool(agent, 'web_search', { query: queries[0], max_results: 10 }, `More results confirm that ${topic.facts[0]}.`);
    }
    b.chat(agent, `Search results about ${topic.subject}.`, `Here is what the sources say about ${topic.subject}: ${topic.facts.join('; ')}.`);
  }
  return b.build('assistant-service');
}

function multiAgentHandoff(r: Rand, key: string, startMs: number): OtlpRequest {
  const topic = pick(r, TOPICS);
  const task = `Write a short briefing on ${topic.subject}.`;
  const b = new RunBuilder(r, key, startMs, task);
  const planner: AgentSpec = { name: 'planner', role: 'Planner: breaks the request into steps, assigns each step to the researcher or the writer, and checks the final briefing.' };
  const researcher: AgentSpec = { name: 'researcher', role: 'Researcher: searches the web for sources on the assigned topic and reports the key facts with citations.' };
  const writer: AgentSpec = { name: 'writer', role: 'Writer: turns the research notes into a clear, concise briefing for the reader.' };
  const reviewer: AgentSpec = { name: 'reviewer', role: 'Reviewer: checks the draft briefing for accuracy and clarity and either approves it or asks for specific changes.' };
  const orchestrated = r() < 0.5;
  b.chat(planner, task, `Plan for the briefing on ${topic.subject}: 1. research the key facts, 2. write the briefing, 3. review it.`);
  b.handoff(planner, researcher, `Research ${topic.subject} and list the three most important facts with sources.`);
  b.chat(researcher, `Research ${topic.subject}.`, `I will search for recent, reliable sources on ${topic.subject}.`);
  const queries = shuffled(r, topic.queries);
  const searches = int(r, 2, 3);
  for (let i = 0; i < searches; i++) b.tool(researcher, 'web_search', { query: queries[i % queries.length], page: 1 + Math.floor(i / queries.length) }, `Result: ${topic.facts[i % topic.facts.length]}.`);
  b.chat(researcher, `Search results on ${topic.subject}.`, `Research notes on ${topic.subject}: ${topic.facts.map((f, i) => `(${i + 1}) ${f}`).join(' ')}.`);
  b.handoff(orchestrated ? planner : researcher, writer, `Write a briefing of about 150 words on ${topic.subject} from these research notes.`);
  b.chat(writer, `Research notes on ${topic.subject}.`, `Draft briefing on ${topic.subject}. ${topic.facts.map((f) => f[0]!.toUpperCase() + f.slice(1)).join('. ')}.`);
  const reviews = r() < 0.6 ? int(r, 1, 2) : 0;
  for (let i = 0; i < reviews; i++) {
    // An author/reviewer exchange of at most two round trips: below the ping-pong threshold.
    b.handoff(writer, reviewer, `Please review draft ${i + 1} of the briefing on ${topic.subject}.`);
    const last = i === reviews - 1;
    b.chat(
      reviewer,
      `Draft ${i + 1} of the briefing on ${topic.subject}.`,
      last ? `The briefing on ${topic.subject} is accurate and clear. Approved.` : `The briefing on ${topic.subject} is accurate; please shorten the second sentence and add the source for the first fact.`,
    );
    if (!last) {
      b.handoff(reviewer, writer, `Revise the briefing on ${topic.subject}: shorten the second sentence and cite the first fact.`);
      b.chat(writer, `Review comments on ${topic.subject}.`, `Revised briefing on ${topic.subject} with the second sentence shortened and the first fact cited.`);
    }
  }
  b.handoff(orchestrated || reviews === 0 ? writer : reviewer, planner, `The briefing on ${topic.subject} is ready for a final check.`);
  b.chat(planner, `Final briefing on ${topic.subject}.`, `The briefing on ${topic.subject} covers the key facts and is ready to send.`);
  return b.build('briefing-crew');
}

function rag(r: Rand, key: string, startMs: number): OtlpRequest {
  const topic = pick(r, TOPICS);
  const b = new RunBuilder(r, key, startMs, topic.question);
  const agent: AgentSpec = {
    name: 'rag_assistant',
    role: 'Knowledge-base assistant: answers questions from the retrieved documents of the knowledge base and cites them.',
  };
  const questions = [topic.question, ...shuffled(r, topic.queries).map((q) => `And what about ${q}?`)].slice(0, int(r, 1, 3));
  questions.forEach((q, i) => {
    const docs = shuffled(r, topic.facts).slice(0, int(r, 2, 3)).map((f) => `${topic.subject}: ${f}.`);
    b.retrieval(agent, q, docs);
    // Retrieved context makes these prompts larger than the other kinds, still far below any window.
    b.chat(agent, `Context:\n${docs.join('\n')}\n\nQuestion: ${q}`, `According to the knowledge base, ${docs[0]!.replace(/\.$/, '')} [doc-1].${i === 0 && docs.length > 1 ? ` Also, ${docs[1]!.replace(/\.$/, '')} [doc-2].` : ''}`, int(r, 2000, 9000));
  });
  return b.build('rag-service');
}

function coderTerminal(r: Rand, key: string, startMs: number): OtlpRequest {
  const code = pick(r, codeTasks(r));
  const b = new RunBuilder(r, key, startMs, code.task);
  const coder: AgentSpec = { name: 'coder', role: 'Coder: writes Python code to compute the answer and runs it in the terminal.' };
  const checker: AgentSpec = { name: 'checker', role: 'Checker: verifies the computed result with an independent method before it is reported.' };
  const first = code.variants[0]!;
  b.chat(coder, code.task, `I will compute this in Python.\n\`\`\`python\n${first.code}\n\`\`\``);
  b.tool(coder, 'terminal', first.code, `exitcode: 0 (execution succeeded)\nCode output: ${first.output}`);
  if (r() < 0.6) {
    const second = code.variants[1]!;
    b.handoff(coder, checker, `Verify that the answer to "${code.task}" is ${first.output} with a different method.`);
    b.chat(checker, `Verify ${first.output}.`, `I will check the result with a different method.\n\`\`\`python\n${second.code}\n\`\`\``);
    b.tool(checker, 'terminal', second.code, `exitcode: 0 (execution succeeded)\nCode output: ${second.output}`);
    b.chat(checker, `Output: ${second.output}`, `Both methods give ${second.output}, so the result is verified.`);
    b.handoff(checker, coder, `The result ${second.output} is verified; report it.`);
  }
  b.chat(coder, `Output: ${first.output}`, `The answer is ${first.output}.`);
  return b.build('coding-agent');
}

const GENERATORS: Readonly<Record<CleanKind, (r: Rand, key: string, startMs: number) => OtlpRequest>> = {
  'single-agent-tools': singleAgentTools,
  'multi-agent-handoff': multiAgentHandoff,
  rag,
  'coder-terminal': coderTerminal,
};

/** `count` runs, the kinds in rotation; each run has its own stream seeded from (seed, index). */
export function generateCleanRuns(count = DEFAULT_CLEAN_RUNS, seed = DEFAULT_SEED): CleanRun[] {
  const runs: CleanRun[] = [];
  for (let i = 0; i < count; i++) {
    const kind = CLEAN_KINDS[i % CLEAN_KINDS.length]!;
    const r = seededRandom((seed ^ Math.imul(i + 1, 0x9e3779b1)) >>> 0);
    const id = `clean/${kind}/${i}`;
    const body = GENERATORS[kind](r, `${seed}/${i}`, BASE_MS + i * 600_000);
    runs.push({ id, kind, traceId: body.resourceSpans[0]!.scopeSpans[0]!.spans[0]!.traceId, request: body });
  }
  return runs;
}
