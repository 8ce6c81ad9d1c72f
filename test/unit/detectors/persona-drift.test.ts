import { describe, expect, it } from 'vitest';
import { createDetectors } from '../../../src/detectors/registry.js';
import type { SemanticSpan } from '../../../src/semantic/semantic-span.js';
import { semanticSpan } from '../semantic/fixtures.js';
import { run } from './run-detector.js';

const ROLES: Record<string, string> = {
  Coder:
    'Coder: writes, tests and debugs Python programs. Implements functions and scripts, fixes bugs and exceptions, ' +
    'runs unit tests and refactors the code in the repository.',
  WebSurfer:
    'WebSurfer: navigates websites in a web browser. Clicks links, scrolls pages, types queries into search boxes, ' +
    'opens tabs and reads the content of web pages and screenshots.',
  Verifier:
    'Verifier: reviews the final answer before it is returned. Checks every claim against the cited sources, validates ' +
    'numbers and confirms the answer is consistent with the evidence; reports discrepancies.',
};

const TASK = 'How many studio albums did Mercedes Sosa release between 2000 and 2009 (inclusive)? Use the latest English Wikipedia.';

const CODE_OUTPUT = [
  'Here is a script that counts the albums from the discography table:',
  '```python',
  'import requests',
  'from bs4 import BeautifulSoup',
  'def count_albums(html, start, end):',
  '    soup = BeautifulSoup(html, "html.parser")',
  '    rows = soup.select("table.wikitable tr")',
  '    years = [int(r.find("td").text) for r in rows if r.find("td")]',
  '    return sum(1 for y in years if start <= y <= end)',
  'def test_count_albums():',
  '    assert count_albums(SAMPLE_HTML, 2000, 2009) == 3',
  'print(count_albums(requests.get(URL).text, 2000, 2009))',
  '```',
  'I fixed the bug in the row parser that raised an exception on header rows, refactored the function and the unit test passes.',
].join('\n');

const BROWSING_OUTPUT =
  'I opened the browser and typed "Mercedes Sosa discography" into the search box, then clicked the first link to the ' +
  'Wikipedia page. I scrolled down the page to the studio albums section, opened the links of each album in new tabs ' +
  'and took a screenshot of the page. The viewport shows the table; I scrolled further, clicked the next page link and ' +
  'read the content of the web pages: Misa Criolla, Corazón Libre, Cantora 1 and Cantora 2 are listed there with years.';

const VERIFYING_OUTPUT =
  'I reviewed the final answer against the cited sources. The claim of three studio albums is consistent with the ' +
  'evidence: Corazón Libre (2005), Cantora 1 (2009) and Cantora 2 (2009) are confirmed by the discography, and the ' +
  'numbers match. I validated each year and found no discrepancies, so the answer of 3 is confirmed and can be returned.';

let clock = 0n;
function say(spanId: string, agent: string, completion: string, role: string | null = ROLES[agent] ?? null): SemanticSpan {
  clock += 10n;
  return semanticSpan({ spanId, operation: 'chat', agentName: agent, agentRole: role, completion, startNs: clock, endNs: clock + 1n });
}
const root = semanticSpan({ spanId: 'root', parentSpanId: '', operation: 'invoke_agent', prompt: TASK });

describe('persona_drift detector', () => {
  it('stays silent when every agent does its own job', () => {
    const spans = [root, say('w', 'WebSurfer', BROWSING_OUTPUT), say('c', 'Coder', CODE_OUTPUT), say('v', 'Verifier', VERIFYING_OUTPUT)];
    expect(run('persona_drift', spans)).toEqual([]);
  });

  it('fires when the verifier browses the web instead of verifying', () => {
    const spans = [root, say('c', 'Coder', CODE_OUTPUT), say('v', 'Verifier', BROWSING_OUTPUT), say('w', 'WebSurfer', BROWSING_OUTPUT)];
    const findings = run('persona_drift', spans);
    expect(findings).toHaveLength(1);
    expect(findings[0]).toMatchObject({ detectionType: 'persona_drift', agent: 'Verifier', affectedSpanIds: ['v'], severity: 'low' });
    const data = findings[0]!.evidence[0]!.data as { kind: string; otherAgent: string; ownScore: number; otherScore: number };
    expect(data).toMatchObject({ kind: 'lexical', otherAgent: 'WebSurfer' });
    expect(data.otherScore).toBeGreaterThan(3 * data.ownScore);
    expect(findings[0]!.confidence).toBeGreaterThan(0.5);
  });

  it('fires when the web surfer writes code, with more confidence for repeated drift', () => {
    const once = run('persona_drift', [root, say('w', 'WebSurfer', CODE_OUTPUT), say('c', 'Coder', CODE_OUTPUT)]);
    const twice = run('persona_drift', [root, say('w1', 'WebSurfer', CODE_OUTPUT), say('w2', 'WebSurfer', CODE_OUTPUT), say('c', 'Coder', CODE_OUTPUT)]);
    expect(once).toHaveLength(1);
    expect(once[0]).toMatchObject({ agent: 'WebSurfer', affectedSpanIds: ['w'] });
    expect(twice[0]).toMatchObject({ agent: 'WebSurfer', affectedSpanIds: ['w1', 'w2'], severity: 'medium' });
    expect(twice[0]!.confidence).toBeGreaterThan(once[0]!.confidence);
    expect(once[0]!.fingerprint).toBe(twice[0]!.fingerprint);
  });

  it('fires on an agent claiming another agent\'s identity, not on a mere reference to it', () => {
    const claim = run('persona_drift', [root, say('c', 'Coder', 'As the Verifier, I confirm the answer is 3.'), say('v', 'Verifier', VERIFYING_OUTPUT)]);
    expect(claim).toHaveLength(1);
    expect(claim[0]).toMatchObject({ agent: 'Coder', affectedSpanIds: ['c'], severity: 'medium', title: 'Coder spoke as Verifier' });
    expect(claim[0]!.evidence[0]!.data).toMatchObject({ kind: 'identity_claim', otherAgent: 'Verifier' });
    // Any agent of the trace can be claimed, one without a role too; a lone agent with a role never fires.
    const terminal = semanticSpan({ spanId: 't', operation: 'chat', agentName: 'Terminal', completion: 'exit code 0' });
    expect(run('persona_drift', [root, say('c', 'Coder', "I'm Terminal"), say('v', 'Verifier', 'ok'), terminal])).toHaveLength(1);
    expect(run('persona_drift', [root, say('c', 'Coder', "I'm Terminal"), terminal])).toHaveLength(0);
    const reference = [
      root,
      say('c', 'Coder', 'As the Verifier suggested, I re-ran the script. I am Coder, and a reviewer such as the Verifier.'),
      say('v', 'Verifier', VERIFYING_OUTPUT),
    ];
    expect(run('persona_drift', reference)).toHaveLength(0);
    expect(run('persona_drift', [root, say('c', 'Coder', 'As the Verifier, I confirm.'), say('v', 'Verifier', 'ok')], { persona_drift: { reportIdentityClaims: false } })).toHaveLength(0);
  });

  it('stays silent on short outputs, agents without a role and thin roles (near misses)', () => {
    const short = 'I clicked the link and scrolled the web page in the browser.';
    expect(run('persona_drift', [root, say('v', 'Verifier', short), say('w', 'WebSurfer', BROWSING_OUTPUT)])).toHaveLength(0);
    expect(run('persona_drift', [root, say('v', 'Verifier', BROWSING_OUTPUT, null), say('w', 'WebSurfer', BROWSING_OUTPUT)])).toHaveLength(0);
    expect(run('persona_drift', [root, say('v', 'Verifier', BROWSING_OUTPUT, 'Checks answers.'), say('w', 'WebSurfer', BROWSING_OUTPUT)])).toHaveLength(0);
    // A single agent with a role has nobody to drift to.
    expect(run('persona_drift', [root, say('v', 'Verifier', BROWSING_OUTPUT)])).toHaveLength(0);
  });

  it('does not count mentions of another agent or the task\'s subject as that agent\'s work', () => {
    // A role naming the task's subject would otherwise claim every on-task output.
    const roles = { ...ROLES, Historian: 'Historian: expert on Mercedes Sosa, her studio albums, discography, Argentine folk music and Wikipedia sources.' };
    const spans = [
      root,
      say('h', 'Historian', 'Mercedes Sosa released Corazón Libre in 2005.', roles.Historian),
      say('v', 'Verifier', `${VERIFYING_OUTPUT} Mercedes Sosa studio albums per the Wikipedia discography; Historian and WebSurfer agree.`),
    ];
    expect(run('persona_drift', spans)).toHaveLength(0);
  });

  it('is deterministic and validates its config', () => {
    const spans = [root, say('c', 'Coder', CODE_OUTPUT), say('v', 'Verifier', BROWSING_OUTPUT), say('w', 'WebSurfer', BROWSING_OUTPUT)];
    expect(run('persona_drift', spans)).toEqual(run('persona_drift', spans));
    expect(run('persona_drift', spans, { persona_drift: { minOtherScore: 0.99 } })).toHaveLength(0);
    expect(() => createDetectors({ persona_drift: { minRatio: 0.5 } })).toThrow(/detector persona_drift: minRatio:/);
    expect(() => createDetectors({ persona_drift: { minOutputTerms: 2.5 } })).toThrow(/detector persona_drift: minOutputTerms:/);
  });
});
