import { describe, expect, it } from 'vitest';
import { classifyError } from '../../../src/detectors/rate-limit.js';
import { errorHeadline, splitTypeNames } from '../../../src/detectors/error-text.js';
import { toSemanticSpan } from '../../../src/semantic/mapper.js';
import { canonicalSpan } from '../semantic/fixtures.js';
import { run } from './run-detector.js';

/** A Python traceback as a tool span's status message: the word "timeout" only in a frame's source line. */
const VALUE_ERROR_TRACEBACK = [
  'Traceback (most recent call last):',
  '  File "/app/agent/tools.py", line 88, in run_tool',
  '    result = fut.result(timeout)',
  '  File "/usr/lib/python3.11/concurrent/futures/_base.py", line 456, in result',
  '    return self.__get_result()',
  '  File "/app/agent/tools.py", line 41, in get_order_details',
  '    order = ORDERS[int(order_id.lstrip("#W"))]',
  "ValueError: invalid literal for int() with base 10: 'abc'",
].join('\n');

const TIMEOUT_TRACEBACK = [
  'Traceback (most recent call last):',
  '  File "/app/agent/tools.py", line 88, in run_tool',
  '    result = fut.result(timeout)',
  '  File "/usr/lib/python3.11/concurrent/futures/_base.py", line 458, in result',
  '    raise TimeoutError()',
  'TimeoutError',
].join('\n');

/** An OpenInference TOOL span that failed with `message` as its status message. */
function failedTool(spanId: string, message: string) {
  return toSemanticSpan(
    canonicalSpan({
      spanId,
      parentSpanId: 'agent',
      name: 'get_order_details',
      attributes: {
        'openinference.span.kind': 'TOOL',
        'tool.name': 'get_order_details',
        'input.value': '{"order_id":"#Wabc"}',
      },
      status: { code: 2, message },
    }),
  );
}

describe('error headlines', () => {
  it('reads a Python traceback by its exception line, the last one when exceptions were chained', () => {
    expect(errorHeadline(VALUE_ERROR_TRACEBACK)).toBe("ValueError: invalid literal for int() with base 10: 'abc'");
    const chained = [
      'Traceback (most recent call last):',
      '  File "a.py", line 1, in <module>',
      '    x = call(timeout=3)',
      'KeyError: 3',
      '',
      'During handling of the above exception, another exception occurred:',
      '',
      'Traceback (most recent call last):',
      '  File "a.py", line 3, in <module>',
      '    raise RuntimeError("lookup failed")',
      'RuntimeError: lookup failed',
    ].join('\n');
    expect(errorHeadline(chained)).toBe('RuntimeError: lookup failed');
  });

  it('reads a Java or Node stack trace by its first line and its causes', () => {
    const java = [
      'java.lang.RuntimeException: tool call failed',
      '\tat com.acme.Tools.run(Tools.java:42)',
      '\tat com.acme.Timeouts.await(Timeouts.java:7)',
      'Caused by: java.net.SocketTimeoutException: Read timed out',
      '\tat java.base/sun.nio.ch.NioSocketImpl.timedRead(NioSocketImpl.java:288)',
      '\t... 3 more',
    ].join('\n');
    expect(errorHeadline(java)).toBe('java.lang.RuntimeException: tool call failed; java.net.SocketTimeoutException: Read timed out');
    const node = ['Error: ENOENT: no such file', '    at Object.openSync (node:fs:573:3)', '    at withTimeout (/app/util.js:12:5)'].join('\n');
    expect(errorHeadline(node)).toBe('Error: ENOENT: no such file');
  });

  it('leaves a plain message as it is and splits exception type names into words', () => {
    expect(errorHeadline('upstream request timed out')).toBe('upstream request timed out');
    expect(splitTypeNames('openai.APITimeoutError')).toBe('openai.API Timeout Error');
    expect(splitTypeNames('httpx.ReadTimeout ETIMEDOUT')).toBe('httpx.Read Timeout ETIMEDOUT');
  });

  it('classifies by exception type, not by words in the frames', () => {
    expect(classifyError(VALUE_ERROR_TRACEBACK)).toBeNull();
    expect(classifyError(TIMEOUT_TRACEBACK)).toBe('service_error');
    expect(classifyError('anthropic.InternalServerError: ServiceUnavailableError')).toBe('service_error');
    expect(classifyError('openai.RateLimitError: Error code: 429')).toBe('rate_limit');
  });
});

describe('timeouts and service errors in tracebacks (OpenInference tool spans)', () => {
  it('reports neither a timeout nor a service error for a ValueError whose frames mention a timeout', () => {
    const span = failedTool('t1', VALUE_ERROR_TRACEBACK);
    expect(span.isError).toBe(true);
    expect(run('latency_outlier', [span])).toHaveLength(0);
    expect(run('rate_limit', [span])).toHaveLength(0);
  });

  it('reports a traceback ending in TimeoutError as a timeout and a service error, described by its exception line', () => {
    const span = failedTool('t2', TIMEOUT_TRACEBACK);
    const timeouts = run('latency_outlier', [span]);
    expect(timeouts.map((f) => f.detectionType)).toEqual(['timeout']);
    expect(timeouts[0]!.description).toContain(': TimeoutError.');
    expect(timeouts[0]!.description).not.toContain('fut.result');
    expect(run('rate_limit', [span]).map((f) => f.detectionType)).toEqual(['service_error']);
  });

  it('reads timeout exception types that have no "timed out" in their message', () => {
    for (const message of ['httpx.ReadTimeout', 'openai.APITimeoutError: Request timed out.', 'google.api_core.exceptions.DeadlineExceeded: 504']) {
      expect(run('latency_outlier', [failedTool('t', message)]).map((f) => f.detectionType)).toEqual(['timeout']);
    }
  });
});
