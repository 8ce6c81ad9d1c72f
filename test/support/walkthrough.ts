/**
 * The OTLP JSON payload of the "Your First Run" walkthrough (shared seeds, 000), verbatim:
 * two agent steps with non-hex ids.
 */
export const walkthroughTrace = {
  resourceSpans: [
    {
      resource: {
        attributes: [{ key: 'service.name', value: { stringValue: 'demo-pipeline' } }],
      },
      scopeSpans: [
        {
          spans: [
            {
              traceId: 'demo-trace-001',
              spanId: 'span-001',
              name: 'research_step',
              kind: 1,
              startTimeUnixNano: '1700000000000000000',
              endTimeUnixNano: '1700000002000000000',
              attributes: [
                { key: 'gen_ai.agent.name', value: { stringValue: 'researcher' } },
                { key: 'gen_ai.request.model', value: { stringValue: 'claude-sonnet-4' } },
                { key: 'gen_ai.usage.prompt_tokens', value: { intValue: 2000 } },
                { key: 'gen_ai.usage.completion_tokens', value: { intValue: 1500 } },
                { key: 'gen_ai.state', value: { stringValue: '{"task": "research pricing", "status": "complete"}' } },
              ],
              status: { code: 1 },
            },
            {
              traceId: 'demo-trace-001',
              spanId: 'span-002',
              parentSpanId: 'span-001',
              name: 'writing_step',
              kind: 1,
              startTimeUnixNano: '1700000002000000000',
              endTimeUnixNano: '1700000005000000000',
              attributes: [
                { key: 'gen_ai.agent.name', value: { stringValue: 'writer' } },
                { key: 'gen_ai.request.model', value: { stringValue: 'claude-sonnet-4' } },
                { key: 'gen_ai.usage.prompt_tokens', value: { intValue: 3000 } },
                { key: 'gen_ai.usage.completion_tokens', value: { intValue: 2000 } },
                { key: 'gen_ai.state', value: { stringValue: '{"task": "write report", "status": "complete"}' } },
              ],
              status: { code: 1 },
            },
          ],
        },
      ],
    },
  ],
};
