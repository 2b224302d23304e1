// TaskCard.tsx — one request in the chat: who handles it and why, its tool
// steps (collapsed), approval questions, the answer as it streams, cancel.
import { Fragment, memo } from 'react';
import type { TaskView } from '../events';
import { shownText } from '../events';
import { Output, Prose } from './Text';
import { StepImages } from './Images';

interface Props {
  view: TaskView;
  request: string;
  onCancel: (id: string) => void;
  onApprove: (taskId: string, callId: string, decision: 'allow' | 'deny' | 'always') => void;
}

const ended = (s: string) => s === 'done' || s === 'failed' || s === 'cancelled';

// Memoised: a frame of streamed tokens re-renders only the task they belong to.
export const TaskCard = memo(function TaskCard({ view, request, onCancel, onApprove }: Props) {
  const text = shownText(view);
  return (
    <article className="turn" data-task={view.id} aria-label={`task ${view.id}`}>
      <div className="msg user">
        <Prose text={request} />
      </div>
      <div className="msg assistant">
        <div className="meta" aria-live="polite">
          <span className={`status s-${view.status}`} data-testid="status">{view.status}</span>
          {view.agents.length > 0 && (
            <span className="agents" data-testid="agents">
              → {view.agents.join(', ')}
              {view.routeMethod && <span className="why"> ({view.routeMethod}{view.routeReason ? `: ${view.routeReason}` : ''})</span>}
            </span>
          )}
          {!ended(view.status) && (
            <button type="button" className="small" onClick={() => onCancel(view.id)}>
              Cancel
            </button>
          )}
        </div>
        {view.steps.length > 0 && (
          <div className="steps">
            {view.steps.map((s) => (
              <Fragment key={s.key}>
              <details className={`step${s.isError ? ' err' : ''}`}>
                <summary>
                  <span className="tool">{s.title}</span>
                  {s.agent && <span className="dim"> · {s.agent}</span>}
                  <span className="dim"> {s.done ? (s.isError ? '✗ failed' : '✓') : '…'}</span>
                </summary>
                {s.args && (
                  <>
                    <h4>arguments</h4>
                    <Output text={s.args} />
                  </>
                )}
                {s.result !== undefined && (
                  <>
                    <h4>result</h4>
                    <Output text={s.result} />
                  </>
                )}
              </details>
              {s.done && !s.isError && <StepImages texts={[s.args, s.result]} />}
              </Fragment>
            ))}
          </div>
        )}
        {view.approvals
          .filter((a) => !a.answered)
          .map((a) => (
            <div key={a.callId} className="approval" role="alertdialog" aria-label={`approve ${a.tool}`}>
              <p>
                <strong>{a.agent || 'The agent'}</strong> asks to run <code>{a.tool}</code> ({a.perm})
                {a.approver === 'admin' && <span className="dim"> — only an administrator may answer</span>}
              </p>
              {a.reason && <p className="dim">{a.reason}</p>}
              <Output text={a.args} />
              <div className="row">
                <button type="button" onClick={() => onApprove(a.taskId, a.callId, 'allow')}>Approve</button>
                <button type="button" onClick={() => onApprove(a.taskId, a.callId, 'always')}>Always for this session</button>
                <button type="button" className="danger" onClick={() => onApprove(a.taskId, a.callId, 'deny')}>Deny</button>
              </div>
            </div>
          ))}
        {text && <Prose text={text} />}
        {view.error && <p className="error">{view.error}</p>}
      </div>
    </article>
  );
});
