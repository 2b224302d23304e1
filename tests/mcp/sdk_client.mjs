// sdk_client.mjs URL TOKEN REQUEST — the reference MCP client (the official
// TypeScript SDK) against errand's /mcp: connects over Streamable HTTP with
// the bearer token, lists the tools, calls ask_code with REQUEST, lists the
// resources and reads the task the call ran.  Prints one JSON object of what
// it saw (tests/e2e/t_api_mcp.sh checks it); exit 1 on any error.
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";

const [url, token, request] = process.argv.slice(2);
const transport = new StreamableHTTPClientTransport(new URL(url), {
  requestInit: { headers: { Authorization: `Bearer ${token}` } },
});
const client = new Client({ name: "errand-e2e", version: "1.0.0" });
const out = {};
try {
  await client.connect(transport);
  out.server = client.getServerVersion();
  out.capabilities = client.getServerCapabilities();
  out.session = transport.sessionId ?? null;
  out.tools = (await client.listTools()).tools.map((t) => t.name);
  out.call = await client.callTool({ name: "ask_code", arguments: { request } });
  out.resources = (await client.listResources()).resources;
  const task = out.resources.find((r) => r.uri.startsWith("errand://tasks/"));
  out.read = task ? await client.readResource({ uri: task.uri }) : null;
  try {
    await client.readResource({ uri: "errand://tasks/no-such-task" });
    out.missing = "read";
  } catch (e) {
    out.missing = { code: e.code, message: e.message };
  }
  await client.close();
} catch (e) {
  console.error(`sdk client: ${e.stack || e}`);
  process.exit(1);
}
console.log(JSON.stringify(out));
