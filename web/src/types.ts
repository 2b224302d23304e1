// The shapes of errand serve's answers (components.schemas of
// /api/v1/openapi.json).  e2e/api_fields.json lists the required fields the
// app relies on; the end-to-end test checks them against the live server's
// document, so a server change that breaks the app fails the tests.
export type TaskStatus = 'queued' | 'routed' | 'running' | 'done' | 'failed' | 'cancelled';

export interface User {
  id: string;
  name: string;
  role: 'admin' | 'user';
}

export interface TokenPair {
  access_token: string;
  token_type: 'Bearer';
  expires_in: number;
  refresh_token: string;
  refresh_expires_in: number;
  session_id: string;
  user: User;
}

export interface Task {
  id: string;
  parent_id?: string | null;
  conversation_id?: string | null;
  user_id?: string | null;
  status: TaskStatus;
  agent?: string | null;
  request: string;
  result?: string | null;
  error?: string | null;
  tokens_in: number;
  tokens_out: number;
  created: string;
  updated: string;
}

export interface TaskEvent {
  id?: number;
  task_id: string;
  root: string;
  kind: string;
  data: Record<string, unknown>;
  ts?: number;
}

export interface TaskDetail extends Task {
  steps: TaskEvent[];
  subtasks: { id: string; agent?: string | null; status: string; request: string }[];
}

export interface Conversation {
  id: string;
  user_id: string;
  title: string;
  created: string;
  updated: string;
}

export interface Message {
  id: number;
  role: 'user' | 'assistant';
  content: string;
  task_id?: string | null;
  created: string;
}

export interface ConversationDetail extends Conversation {
  messages: Message[];
}

export interface AgentStatus {
  queue: string;
  state: 'idle' | 'busy' | 'offline' | 'unknown';
  waiting?: number;
  consumers?: number;
}

export interface Agent {
  name: string;
  description: string;
  subagents: { name: string; description: string; tools: string[] }[];
  tools: string[];
  status: AgentStatus;
}

export interface ChatAccepted {
  task_id: string;
  conversation_id: string;
  status: 'queued';
}

/** One remembered item (GET /api/v1/memory, /api/v1/memory/{id}). */
export interface MemoryItem {
  id: string;
  text: string;
  kind: string;
  scope: string;
  scope_id?: string | null;
  source?: string | null;
  owner: 'user' | 'shared';
  untrusted: boolean;
  created: string;
  updated: string;
  expires?: string | null;
  score?: number;
}

/** An entity of the memory graph (GET /api/v1/memory/graph, /memory/entities/{id}). */
export interface Entity {
  id: string;
  name: string;
  type: string;
  owner: 'user' | 'shared';
  relations: number;
  created: string;
  aliases?: string[];
}

/** subject —predicate→ object, with both ends' ids; depth when walked from an entity. */
export interface Relation {
  id: string;
  subject_id: string;
  subject: string;
  predicate: string;
  object_id: string;
  object: string;
  confidence: number;
  source: string;
  owner?: 'user' | 'shared';
  depth?: number;
}
