import { cleanup, fireEvent, render, screen } from '@testing-library/react';
import { TaskCard } from './TaskCard';
import { emptyView, reduce } from '../events';
import { filterTasks } from './Tasks';
import type { Task } from '../types';

afterEach(cleanup);

describe('TaskCard', () => {
  it('renders model markup as text, never as elements', () => {
    const v = reduce(emptyView('T'), {
      task_id: 'T', root: 'T', kind: 'token',
      data: { text: '<img src=x onerror="window.__x=1"><script>window.__x=2</script>' },
    });
    const { container } = render(<TaskCard view={v} request="<b>hi</b>" onCancel={() => {}} onApprove={() => {}} />);
    expect(container.querySelector('img, script, b')).toBeNull();
    expect(container.textContent).toContain('<img src=x onerror="window.__x=1">');
    expect(container.textContent).toContain('<b>hi</b>');
  });

  it('shows steps collapsed and answers approvals', () => {
    let v = emptyView('T');
    v = reduce(v, { task_id: 'T', root: 'T', kind: 'tool_call', data: { tool: 'write_file', call_id: 'c1', arguments: '{"path":"a"}' } });
    v = reduce(v, { task_id: 'T', root: 'T', kind: 'approval_request', data: { tool: 'write_file', call_id: 'c1', perm: 'write', agent: 'code' } });
    const calls: string[] = [];
    render(<TaskCard view={v} request="write" onCancel={(id) => calls.push(`cancel ${id}`)} onApprove={(t, c, d) => calls.push(`${t} ${c} ${d}`)} />);
    const details = document.querySelector('details.step') as HTMLDetailsElement;
    expect(details.open).toBe(false);
    fireEvent.click(screen.getByRole('button', { name: 'Always for this session' }));
    fireEvent.click(screen.getByRole('button', { name: 'Cancel' }));
    expect(calls).toEqual(['T c1 always', 'cancel T']);
  });
});

describe('filterTasks', () => {
  const t = (id: string, status: Task['status'], agent: string, created: string): Task => ({
    id, status, agent, request: `req ${id}`, created, updated: created, tokens_in: 0, tokens_out: 0,
  });
  const all = [t('a', 'done', 'code', '2026-01-02'), t('b', 'failed', 'data', '2026-01-03'), t('c', 'done', 'data', '2026-01-01')];
  it('filters by status, agent and text and sorts both ways', () => {
    expect(filterTasks(all, { status: 'done', agent: '', text: '' }, 'created', true).map((x) => x.id)).toEqual(['a', 'c']);
    expect(filterTasks(all, { status: '', agent: 'data', text: '' }, 'created', false).map((x) => x.id)).toEqual(['c', 'b']);
    expect(filterTasks(all, { status: '', agent: '', text: 'req b' }, 'created', true).map((x) => x.id)).toEqual(['b']);
  });
});
