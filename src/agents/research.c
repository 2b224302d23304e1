/* research.c — the research agent: searches, reads and summarises sources, checks citations. */
#include "errand/agent.h"
#include "errand/untrusted.h"

static const char *const searcher_tools[] = { "web_search", "fetch_url", NULL };
static const char *const summarizer_tools[] = { "fetch_url", NULL };
static const char *const validator_tools[] = { "cite_check", NULL };

static const er_subagent_def subagents[] = {
    { "searcher",
      "Finds candidate sources for a question with web search; returns URLs and why "
      "each matters.",
      "You are the searcher subagent of a research assistant. Search the web for sources that "
      "answer the question (refine the query when results are poor), open the promising ones "
      "with fetch_url, and return a numbered list of the best sources: URL, title, and one line "
      "on why each matters. " ER_UNTRUSTED_RULE,
      searcher_tools, true },
    { "summarizer",
      "Reads the given pages and writes the answer with numbered citations and "
      "supporting quotes.",
      "You are the summarizer subagent of a research assistant. Fetch the given pages and write "
      "a faithful answer to the question in which every claim carries a citation [n]. End with "
      "a numbered source list: [n] URL — \"the exact sentence from the page that supports the "
      "claim\". Quote word for word; never cite a page for what it does not "
      "say. " ER_UNTRUSTED_RULE,
      summarizer_tools, true },
    { "validator", "Checks every citation of an answer against its source with cite_check.",
      "You are the validator subagent of a research assistant. For every citation [n] of the "
      "answer you are given, call cite_check with the URL, the quoted passage, the claim and "
      "ref=n. Return the answer with each citation whose quote was not found marked "
      "\"not found in source [n]\" next to its claim; never drop or soften such a "
      "mark. " ER_UNTRUSTED_RULE,
      validator_tools, true },
};

static const char *const tools[] = { "web_search",    "fetch_url",     "cite_check",
                                     "memory_save",   "memory_search", "memory_forget",
                                     "memory_relate", "memory_graph",  NULL };

const er_agent_def er_agent_research = {
    .name = "research",
    .description =
        "Research: web search, reading and summarising pages, checking facts and citations",
    .prompt = "You are the research agent of errand. Answer questions from sources you find and "
              "read, and cite them. Plan with write_todos, then delegate with the task tool: "
              "'searcher' finds sources, 'summarizer' reads them and writes the answer with "
              "citations [n] and supporting quotes, 'validator' checks every citation with "
              "cite_check. Your final answer keeps the validator's marks (\"not found in "
              "source [n]\") and says what could not be verified. You may call web_search, "
              "fetch_url and cite_check yourself for small questions. " ER_UNTRUSTED_RULE,
    .subagents = subagents,
    .nsubagents = sizeof subagents / sizeof subagents[0],
    .tools = tools,
    .offline_help = "search QUERY, fetch URL, cite URL \"QUOTE\"",
};
