import { useState } from 'preact/hooks';
import { errorText, useApp, usePoll } from '../hooks.js';
import { pct, reveal, when } from '../text.js';
import { ErrorNote } from './common.js';

interface Stat {
  detector: string;
  true_positives: number;
  false_positives: number;
  missed: number;
  precision: number | null;
  confidence_shift: number;
  updated_at: string;
}

export function FeedbackView() {
  const { api, live } = useApp();
  const [stats, setStats] = useState<Stat[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const load = async () => {
    try {
      const { body } = await api.get<{ detectors: Stat[] }>('/feedback/stats');
      setStats(body.detectors);
      setError(null);
    } catch (e) {
      setError(errorText(e));
    }
  };
  usePoll(load, live, []);
  return (
    <section aria-labelledby="fb-title">
      <h1 id="fb-title">Feedback</h1>
      <p>Per detector: what this tenant said about its detections, and the confidence shift calibration applies from it.</p>
      <button type="button" onClick={() => void load()}>
        Refresh
      </button>
      <ErrorNote error={error} />
      {stats !== null && stats.length === 0 && <p>No feedback yet. Mark detections true or false positive from a run.</p>}
      {stats !== null && stats.length > 0 && (
        <table class="list" aria-label="Feedback per detector">
          <thead>
            <tr>
              <th scope="col">Detector</th>
              <th scope="col">True positives</th>
              <th scope="col">False positives</th>
              <th scope="col">Missed</th>
              <th scope="col">Precision</th>
              <th scope="col">Confidence shift</th>
              <th scope="col">Updated</th>
            </tr>
          </thead>
          <tbody>
            {stats.map((s) => (
              <tr key={s.detector} data-detector={s.detector}>
                <td>
                  <bdi>{reveal(s.detector)}</bdi>
                </td>
                <td class="num tp">{s.true_positives}</td>
                <td class="num fp">{s.false_positives}</td>
                <td class="num">{s.missed}</td>
                <td class="num">{pct(s.precision)}</td>
                <td class="num">{s.confidence_shift.toFixed(3)}</td>
                <td>{when(s.updated_at)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
