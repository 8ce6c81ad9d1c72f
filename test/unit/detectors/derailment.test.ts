import { describe, expect, it } from 'vitest';
import { createDetectors } from '../../../src/detectors/registry.js';
import type { SemanticSpan } from '../../../src/semantic/semantic-span.js';
import { semanticSpan } from '../semantic/fixtures.js';
import { run } from './run-detector.js';

const TASK =
  'What was the population of Lyon, France in 2020 according to INSEE, and how does it compare with Marseille? ' +
  'Give both figures and say which city is larger.';

const PLAN =
  'Plan: WebSurfer searches the INSEE website for the 2020 municipal population of Lyon and of Marseille; Coder writes a ' +
  'script to download the INSEE population table and extract both figures; Assistant compares them and answers.';

const CODE = [
  'Here is the script that downloads the INSEE legal population table and extracts both cities:',
  '```python',
  'import io, requests, pandas as pd',
  'URL = "https://www.insee.fr/fr/statistiques/fichier/6683035/ensemble.xlsx"',
  'def load_table(url):',
  '    response = requests.get(url, timeout=30)',
  '    response.raise_for_status()',
  '    return pd.read_excel(io.BytesIO(response.content), sheet_name="Communes", skiprows=7)',
  'def population_of(table, commune):',
  '    row = table[table["Nom de la commune"] == commune].iloc[0]',
  '    return int(row["Population municipale"])',
  'table = load_table(URL)',
  'for city in ["Lyon", "Marseille"]:',
  '    print(city, population_of(table, city))',
  '```',
  'Computer_terminal, please run it.',
].join('\n');

// A terminal dumping an install log: few words of the task, but the words of the code before it.
const TERMINAL = [
  'exitcode: 0 (execution succeeded)',
  'Code output:',
  'Requirement already satisfied: requests in /usr/local/lib/python3.11/site-packages (2.31.0)',
  'Requirement already satisfied: pandas in /usr/local/lib/python3.11/site-packages (2.2.1)',
  'Collecting openpyxl',
  '  Downloading openpyxl-3.1.2-py2.py3-none-any.whl (249 kB)',
  'Requirement already satisfied: numpy>=1.23.2 in /usr/local/lib/python3.11/site-packages (from pandas) (1.26.4)',
  'Requirement already satisfied: python-dateutil>=2.8.2 in /usr/local/lib/python3.11/site-packages (from pandas) (2.9.0)',
  'Collecting et-xmlfile',
  '  Downloading et_xmlfile-1.1.0-py3-none-any.whl (4.7 kB)',
  'Installing collected packages: et-xmlfile, openpyxl',
  'Successfully installed et-xmlfile-1.1.0 openpyxl-3.1.2',
  'Lyon 522250',
  'Marseille 873076',
].join('\n');

const ANSWER =
  'According to the French national statistics office, Lyon counted about 522,000 inhabitants in 2020 while Marseille ' +
  'counted roughly 873,000 residents. Marseille is therefore the larger of the two cities, by around 350,000 people, ' +
  'which makes it France\'s second most populous commune after Paris and places Lyon third. Both figures are the ' +
  'official municipal counts published for 2020, which exclude people counted in another commune, such as students ' +
  'living away from their family home, so the comparison between the two cities is like for like.';

const CAKE =
  'For a moist chocolate cake, cream the butter and sugar until pale and fluffy, then beat in the eggs one at a time. ' +
  'Sift the flour, cocoa powder and baking soda together and fold them gently into the batter, alternating with ' +
  'buttermilk. Pour the batter into two greased tins and bake for thirty minutes until a skewer comes out clean. ' +
  'Leave the sponges to cool on a wire rack before spreading the ganache: warm cream poured over chopped dark ' +
  'chocolate, stirred until glossy, with a pinch of salt and a spoonful of vanilla extract.';

const FOOTBALL =
  'Olympique goalkeeper saves were decisive last season: the squad conceded fewer goals away from home, the striker ' +
  'scored a hat-trick in the derby, and the coach rotated wingers and midfielders to manage fatigue during the winter ' +
  'fixtures. Tactically the pressing trap high up the pitch forced turnovers, and set pieces produced headers from ' +
  'corners. Fans celebrated the trophy parade, while pundits debated the referee decisions and the transfer window.';

let clock = 0n;
function step(spanId: string, agentName: string | null, fields: Partial<SemanticSpan>): SemanticSpan {
  clock += 10n;
  return semanticSpan({ spanId, operation: 'chat', agentName, startNs: clock, endNs: clock + 1n, ...fields });
}
const root = () => step('root', null, { parentSpanId: '', operation: 'invoke_agent', prompt: TASK });
const say = (spanId: string, agent: string, completion: string) => step(spanId, agent, { completion });

/** An ordinary run: plan, code, terminal output, paraphrased answer. */
const ordinary = () => [
  root(),
  say('plan', 'Orchestrator', PLAN),
  say('code', 'Coder', CODE),
  say('term', 'Computer_terminal', TERMINAL),
  say('answer', 'Assistant', ANSWER),
];

describe('derailment detector', () => {
  it('stays silent on an ordinary run: code, terminal output and a paraphrasing answer', () => {
    expect(run('derailment', ordinary())).toEqual([]);
    // Code and logs are not judged at all, however little they share with the task.
    const logs = say('log', 'Computer_terminal', `${TERMINAL}\n${TERMINAL.replace(/pandas|requests|openpyxl/g, 'numpy')}`);
    expect(run('derailment', [...ordinary(), logs], { derailment: { minOutputTerms: 1 } })).toEqual([]);
  });

  it('fires on a substantial output unrelated to the task, attributed to its agent', () => {
    const spans = [...ordinary().slice(0, 3), say('cake', 'Assistant', CAKE), say('answer', 'Assistant', ANSWER)];
    const findings = run('derailment', spans);
    expect(findings).toHaveLength(1);
    expect(findings[0]).toMatchObject({ detectionType: 'derailment', agent: 'Assistant', affectedSpanIds: ['cake'], severity: 'low' });
    expect(findings[0]!.evidence[0]!.data).toMatchObject({ agent: 'Assistant' });
    expect((findings[0]!.evidence[0]!.data as { taskSimilarity: number }).taskSimilarity).toBeLessThan(0.04);
  });

  it('fires more strongly on consecutive off-task outputs of one agent', () => {
    const one = run('derailment', [...ordinary().slice(0, 3), say('cake', 'Assistant', CAKE)]);
    const three = run('derailment', [
      ...ordinary().slice(0, 3),
      say('cake', 'Assistant', CAKE),
      say('football', 'Assistant', FOOTBALL),
      say('cake2', 'Assistant', CAKE),
    ]);
    expect(three).toHaveLength(1);
    // The first derailed output comes first; an off-task output does not make the next one look on-topic.
    expect(three[0]).toMatchObject({ agent: 'Assistant', affectedSpanIds: ['cake', 'football', 'cake2'], severity: 'high' });
    expect(three[0]!.title).toMatch(/3 consecutive outputs/);
    expect(three[0]!.confidence).toBeGreaterThan(one[0]!.confidence);
    expect(three[0]!.fingerprint).toBe(one[0]!.fingerprint);
  });

  it('stays silent on short outputs, a run without a task, and tool spans (near misses)', () => {
    expect(run('derailment', [...ordinary(), say('short', 'Assistant', 'Bake the chocolate cake for thirty minutes.')])).toHaveLength(0);
    // Without a root prompt, the first prompt of the trace is the task.
    const asked = step('ask', 'Orchestrator', { parentSpanId: 'elsewhere', prompt: TASK });
    expect(run('derailment', [asked, ...ordinary().slice(1), say('cake', 'Assistant', CAKE)])).toHaveLength(1);
    expect(run('derailment', [say('plan', 'Orchestrator', PLAN), say('cake', 'Assistant', CAKE)])).toHaveLength(0); // no prompt at all
    const tool = step('tool', 'Assistant', { operation: 'execute_tool', toolName: 'recipes', toolResult: CAKE, completion: CAKE });
    expect(run('derailment', [...ordinary(), tool])).toHaveLength(0);
  });

  it('reads context from tool results and prompts, not only from outputs', () => {
    // Cake talk is on-topic once the task and the tool results are about baking.
    const bakingTask = step('root', null, { parentSpanId: '', operation: 'invoke_agent', prompt: 'Write a chocolate cake recipe for a birthday.' });
    const recipeTool = step('tool', 'Assistant', { operation: 'execute_tool', toolName: 'recipes', toolResult: CAKE });
    expect(run('derailment', [bakingTask, recipeTool, say('cake', 'Assistant', CAKE)])).toHaveLength(0);
  });

  it('is deterministic and validates its config', () => {
    const spans = [...ordinary().slice(0, 3), say('cake', 'Assistant', CAKE)];
    expect(run('derailment', spans)).toEqual(run('derailment', spans));
    expect(run('derailment', spans, { derailment: { maxSimilarity: 0 } })).toHaveLength(0);
    expect(() => createDetectors({ derailment: { maxSimilarity: 2 } })).toThrow(/detector derailment: maxSimilarity:/);
    expect(() => createDetectors({ derailment: { highSeverityRun: 0 } })).toThrow(/detector derailment: highSeverityRun:/);
  });
});
