import { useState } from 'preact/hooks';
import { errorText, useApp, usePoll } from '../hooks.js';
import { reveal } from '../text.js';
import { ErrorNote, Field } from './common.js';

interface Verify {
  ok: boolean;
  checked: number;
  head: string | null;
  first_broken: unknown;
}

export function AuditView() {
  const { api, session } = useApp();
  const [result, setResult] = useState<Verify | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [from, setFrom] = useState('');
  const [to, setTo] = useState('');
  const [exportStatus, setExportStatus] = useState<string | null>(null);
  const verify = async () => {
    try {
      setResult((await api.get<Verify>('/audit/verify')).body);
      setError(null);
    } catch (e) {
      setError(errorText(e));
    }
  };
  usePoll(verify, false, []);
  const download = async () => {
    setExportStatus('Preparing…');
    try {
      const instant = (v: string) => (v === '' ? undefined : new Date(v).toISOString());
      const { body } = await api.get<unknown>('/audit/export', { format: 'eu-ai-act', from: instant(from), to: instant(to) });
      const url = URL.createObjectURL(new Blob([JSON.stringify(body, null, 2)], { type: 'application/json' }));
      const a = document.createElement('a');
      a.href = url;
      a.download = `tracefold-audit-${session.tenantId.replace(/[^A-Za-z0-9_-]/g, '_')}.json`;
      document.body.append(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 10_000);
      setExportStatus('Downloaded. Check it offline with: npx tracefold audit verify --from-export FILE');
    } catch (e) {
      setExportStatus(`Export failed: ${errorText(e)}`);
    }
  };
  return (
    <section aria-labelledby="audit-title">
      <h1 id="audit-title">Audit</h1>
      <h2>Chain verification</h2>
      <button type="button" onClick={() => void verify()}>
        Verify again
      </button>
      <ErrorNote error={error} />
      {result !== null && (
        <div class={result.ok ? 'verify ok' : 'verify broken'} role="status">
          <strong>{result.ok ? 'Chain verified' : 'Chain broken'}</strong>: {result.checked} records checked
          {result.head !== null && (
            <>
              , head <code>{reveal(result.head)}</code>
            </>
          )}
          {!result.ok && <pre>{reveal(JSON.stringify(result.first_broken, null, 2))}</pre>}
        </div>
      )}
      <h2>Export</h2>
      <form
        class="filters"
        onSubmit={(e) => {
          e.preventDefault();
          void download();
        }}
      >
        <Field id="audit-from" label="From">
          <input id="audit-from" type="datetime-local" value={from} onChange={(e) => setFrom(e.currentTarget.value)} />
        </Field>
        <Field id="audit-to" label="To">
          <input id="audit-to" type="datetime-local" value={to} onChange={(e) => setTo(e.currentTarget.value)} />
        </Field>
        <div class="field actions">
          <button type="submit">Download export (eu-ai-act)</button>
        </div>
      </form>
      {exportStatus !== null && <p role="status">{reveal(exportStatus)}</p>}
    </section>
  );
}
