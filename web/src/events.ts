// events.ts — a task's events folded into what the chat shows: the agents
// the supervisor chose and why, the streamed answer, the tool steps (call and
// result paired), pending approvals, and the outcome.  Pure: the tests feed
// it recorded events.
import type { TaskEvent, TaskStatus } from './types';

export interface Step {
  key: string;
  kind: 'tool' | 'delegate' | 'plan';
  agent: string;
  title: string;
  args?: string;
  result?: string;
  isError?: boolean;
  done: boolean;
}

export interface Approval {
  taskId: string;
  callId: string;
  tool: string;
  perm: string;
  agent: string;
  args: string;
  approver: string;
  reason?: string;
  answered?: string;
}

export interface TaskView {
  id: string;
  status: TaskStatus;
  agents: string[];
  routeMethod?: string;
  routeReason?: string;
  text: string;             // streamed tokens of the task tree, in order
  answer?: string;          // the final answer (end event)
  error?: string;
  steps: Step[];
  approvals: Approval[];
  events: number;
}

export function emptyView(id: string): TaskView {
  return { id, status: 'queued', agents: [], text: '', steps: [], approvals: [], events: 0 };
}

const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
const pretty = (v: unknown): string => {
  if (v === undefined || v === null) return '';
  if (typeof v === 'string') {
    try {
      return JSON.stringify(JSON.parse(v), null, 2);
    } catch {
      return v;
    }
  }
  return JSON.stringify(v, null, 2);
};

const ended = (s: TaskStatus) => s === 'done' || s === 'failed' || s === 'cancelled';

/** The view after one more event (a new object; v is not changed). */
export function reduce(v: TaskView, e: TaskEvent): TaskView {
  const d = e.data ?? {};
  const agent = str(d.agent) ?? '';
  const n: TaskView = { ...v, events: v.events + 1 };
  const own = e.task_id === v.id;
  switch (e.kind) {
    case 'token':
      n.text = v.text + (str(d.text) ?? '');
      break;
    case 'routed': {
      const steps = Array.isArray(d.steps) ? (d.steps as { agent?: string }[]) : [];
      const names = steps.map((s) => s.agent ?? '?');
      if (own) {
        n.agents = names.length ? names : agent ? [agent] : v.agents;
        n.routeMethod = str(d.method);
        n.routeReason = str(d.reason) ?? str(d.why);
        if (!ended(v.status)) n.status = 'routed';
      }
      break;
    }
    case 'start':
      if (own && !ended(v.status)) n.status = 'running';
      if (agent && !n.agents.includes(agent)) n.agents = [...n.agents, agent];
      break;
    case 'tool_call': {
      const key = str(d.call_id) ?? `${e.task_id}:${v.steps.length}`;
      n.steps = [...v.steps, { key, kind: 'tool', agent, title: str(d.tool) ?? 'tool', args: pretty(d.arguments), done: false }];
      break;
    }
    case 'tool_result': {
      const callId = str(d.call_id);
      const tool = str(d.tool);
      // Pair with its call: by call id, else the oldest open call of that tool.
      let i = callId ? v.steps.findIndex((s) => s.key === callId) : -1;
      if (i < 0) i = v.steps.findIndex((s) => !s.done && s.kind === 'tool' && s.title === tool);
      const result = pretty(d.content);
      const isError = d.is_error === true;
      if (i < 0) {
        n.steps = [...v.steps, { key: callId ?? `${e.task_id}:r${v.steps.length}`, kind: 'tool', agent, title: tool ?? 'tool', result, isError, done: true }];
      } else {
        n.steps = v.steps.map((s, j) => (j === i ? { ...s, result, isError, done: true } : s));
      }
      n.approvals = v.approvals.map((a) => (a.callId === callId && !a.answered ? { ...a, answered: 'answered' } : a));
      break;
    }
    case 'delegate':
      n.steps = [...v.steps, {
        key: `${e.task_id}:d${v.steps.length}`, kind: 'delegate', agent,
        title: `${agent || 'agent'} → ${str(d.subagent) ?? 'subagent'}`, args: str(d.description), done: true,
      }];
      break;
    case 'approval_request': {
      const callId = str(d.call_id) ?? '';
      if (v.approvals.some((a) => a.callId === callId && a.taskId === e.task_id)) break;
      n.approvals = [...v.approvals, {
        taskId: e.task_id, callId, tool: str(d.tool) ?? '?', perm: str(d.perm) ?? '?', agent,
        args: pretty(d.arguments), approver: str(d.approver) ?? 'requester', reason: str(d.reason),
      }];
      break;
    }
    case 'end':
      if (own) {
        const st = str(d.status) as TaskStatus | undefined;
        n.status = st && ['done', 'failed', 'cancelled'].includes(st) ? st : 'done';
        n.answer = str(d.answer);
        n.error = str(d.error);
        n.steps = v.steps.map((s) => (s.done ? s : { ...s, done: true }));
        n.approvals = v.approvals.map((a) => (a.answered ? a : { ...a, answered: 'expired' }));
      }
      break;
    default:
      break;
  }
  return n;
}

/** What the chat shows as the answer: the final answer once there is one
 * (tokens lost while the socket was down are then made up), else the stream. */
export function shownText(v: TaskView): string {
  return v.answer && v.answer.length >= v.text.length ? v.answer : v.text;
}

/** `@agent rest` picks the agent, as in the terminal.  agents: the known
 * names, or undefined while they are not loaded (the server then says
 * whether the name is an agent). */
export function parseAgent(input: string, agents: string[] | undefined): { agent?: string; message: string } {
  const m = /^@([a-z_]+)\s+([\s\S]*)$/.exec(input.trim());
  if (m && (!agents || agents.includes(m[1]!))) return { agent: m[1], message: m[2]!.trim() };
  return { message: input.trim() };
}

export type DiffLine = { sign: '+' | '-' | ' ' | '@'; text: string };

/** A unified diff's lines, or null when text is not one. */
export function asDiff(text: string): DiffLine[] | null {
  const lines = text.split('\n');
  if (!lines.some((l) => l.startsWith('@@')) || !lines.some((l) => /^(\+|-)/.test(l))) return null;
  return lines.map((l) => {
    const c = l[0];
    if (l.startsWith('@@')) return { sign: '@', text: l };
    if (c === '+' || c === '-') return { sign: c, text: l };
    return { sign: ' ', text: l };
  });
}
