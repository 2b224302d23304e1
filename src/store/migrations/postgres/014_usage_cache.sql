-- 014_usage_cache.sql (PostgreSQL) — what the provider's prompt cache did for a
-- request, how long the work behind it took, and its conversation
-- (include/errand/store_usage.h).  input_tokens keeps counting every input
-- token; cached_tokens and cache_write_tokens are the parts of them read from
-- and written to the cache, priced apart (llm.prices).  elapsed_ms is the
-- working time of the run the request belongs to since its previous request
-- (agent.max_daily_seconds sums it).  conversation_id is the top-level task's,
-- copied so the rows keep it when the task is gone.
ALTER TABLE llm_usage ADD COLUMN cached_tokens BIGINT NOT NULL DEFAULT 0;
ALTER TABLE llm_usage ADD COLUMN cache_write_tokens BIGINT NOT NULL DEFAULT 0;
ALTER TABLE llm_usage ADD COLUMN elapsed_ms BIGINT NOT NULL DEFAULT 0;
ALTER TABLE llm_usage ADD COLUMN conversation_id TEXT NOT NULL DEFAULT '';
UPDATE llm_usage SET conversation_id = COALESCE(
    (SELECT t.conversation_id FROM tasks t WHERE t.id = llm_usage.root_id), '');
CREATE INDEX llm_usage_conversation ON llm_usage (conversation_id, day);
