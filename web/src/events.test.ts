import { asDiff, emptyView, parseAgent, reduce, shownText } from './events';
import type { TaskEvent } from './types';

const ev = (kind: string, data: Record<string, unknown>, task_id = 'T', id?: number): TaskEvent => ({
  id, task_id, root: 'T', kind, data,
});

describe('reduce', () => {
  it('folds a task with a tool call, an approval and a streamed answer', () => {
    const events = [
      ev('routed', { steps: [{ agent: 'code', request: 'x' }], method: 'llm', reason: 'files' }, 'T', 1),
      ev('start', { agent: 'code' }, 'T', 2),
      ev('tool_call', { agent: 'code', tool: 'write_file', call_id: 'c1', arguments: '{"path":"a.txt"}' }, 'T', 3),
      ev('approval_request', { call_id: 'c1', tool: 'write_file', perm: 'write', agent: 'code', approver: 'requester', arguments: { path: 'a.txt' } }, 'T', 4),
      ev('tool_result', { agent: 'code', tool: 'write_file', call_id: 'c1', content: 'wrote 5 bytes', is_error: false }, 'T', 5),
      ev('token', { text: 'Wrote ' }),
      ev('token', { text: 'it.' }),
    ];
    const v = events.reduce(reduce, emptyView('T'));
    expect(v.status).toBe('running');
    expect(v.agents).toEqual(['code']);
    expect(v.routeMethod).toBe('llm');
    expect(v.routeReason).toBe('files');
    expect(v.steps).toHaveLength(1);
    expect(v.steps[0]).toMatchObject({ title: 'write_file', result: 'wrote 5 bytes', done: true, isError: false });
    expect(v.steps[0]!.args).toContain('"path": "a.txt"');
    expect(v.approvals).toHaveLength(1);
    expect(v.approvals[0]!.answered).toBe('answered');
    expect(shownText(v)).toBe('Wrote it.');
    const end = reduce(v, ev('end', { status: 'done', answer: 'Wrote it.' }, 'T', 6));
    expect(end.status).toBe('done');
  });

  it('pairs results without call ids with the oldest open call of the tool', () => {
    let v = emptyView('T');
    v = reduce(v, ev('tool_call', { tool: 'read_file', arguments: '{"path":"a"}' }));
    v = reduce(v, ev('tool_call', { tool: 'read_file', arguments: '{"path":"b"}' }));
    v = reduce(v, ev('tool_result', { tool: 'read_file', content: 'A' }));
    expect(v.steps.map((s) => s.result)).toEqual(['A', undefined]);
  });

  it('a subtask ending does not end the task; its own end does', () => {
    let v = reduce(emptyView('T'), ev('start', { agent: 'code' }));
    v = reduce(v, ev('end', { status: 'failed', error: 'sub failed' }, 'SUB'));
    expect(v.status).toBe('running');
    v = reduce(v, ev('end', { status: 'cancelled' }));
    expect(v.status).toBe('cancelled');
  });

  it('the final answer makes up for tokens lost while disconnected', () => {
    let v = reduce(emptyView('T'), ev('token', { text: 'Hel' }));
    v = reduce(v, ev('end', { status: 'done', answer: 'Hello world' }));
    expect(shownText(v)).toBe('Hello world');
  });

  it('an approval asked twice is shown once; unanswered ones expire at the end', () => {
    const req = ev('approval_request', { call_id: 'c9', tool: 'run', perm: 'exec' });
    let v = reduce(reduce(emptyView('T'), req), req);
    expect(v.approvals).toHaveLength(1);
    v = reduce(v, ev('end', { status: 'failed', error: 'denied' }));
    expect(v.approvals[0]!.answered).toBe('expired');
    expect(v.error).toBe('denied');
  });
});

describe('parseAgent', () => {
  it('takes @agent at the start when the agent exists', () => {
    expect(parseAgent('@code fix the bug', ['code', 'data'])).toEqual({ agent: 'code', message: 'fix the bug' });
    expect(parseAgent('@nobody hi', ['code'])).toEqual({ message: '@nobody hi' });
    expect(parseAgent('mail @code later', ['code'])).toEqual({ message: 'mail @code later' });
    expect(parseAgent('@code before the list loads', undefined)).toEqual({ agent: 'code', message: 'before the list loads' });
  });
});

describe('asDiff', () => {
  it('recognises a unified diff and classifies its lines', () => {
    const d = asDiff('--- a/x\n+++ b/x\n@@ -1 +1 @@\n-old\n+new\n same');
    expect(d?.map((l) => l.sign)).toEqual(['-', '+', '@', '-', '+', ' ']);
  });
  it('leaves other text alone', () => {
    expect(asDiff('- a list\n- of things')).toBeNull();
  });
});
