// A RabbitMQ MCP server written the way most are: the official SDK's McpServer over
// stdio, the management API through node's HTTP client, publishing with amqplib. It
// is the baseline that warren's benchmarks compare against, so it stays plain: no
// tuning beyond what a typical server has (a keep-alive agent, an optional TTL cache).
//
//   node server.mjs
//
// Environment: RABBITMQ_MANAGEMENT_URL (http://localhost:15672), RABBITMQ_URL
// (amqp://localhost), RABBITMQ_USER / RABBITMQ_PASSWORD (guest/guest),
// PEER_CACHE_TTL_MS (0: list results are not cached).
import http from "node:http";
import https from "node:https";

import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js";
import amqp from "amqplib";
import { z } from "zod";

const managementUrl = (process.env.RABBITMQ_MANAGEMENT_URL || "http://localhost:15672")
  .replace(/\/+$/, "");
const amqpUrl = process.env.RABBITMQ_URL || "amqp://localhost";
const auth =
  "Basic " +
  Buffer.from(
    `${process.env.RABBITMQ_USER || "guest"}:${process.env.RABBITMQ_PASSWORD || "guest"}`,
  ).toString("base64");
const cacheTtlMs = Number(process.env.PEER_CACHE_TTL_MS || 0);

const client = managementUrl.startsWith("https:") ? https : http;
const agent = new client.Agent({ keepAlive: true });

// GET a management API path and parse the JSON answer.
function getJson(path) {
  return new Promise((resolve, reject) => {
    const req = client.get(
      managementUrl + path,
      { agent, headers: { authorization: auth, accept: "application/json" } },
      (res) => {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (chunk) => (body += chunk));
        res.on("end", () => {
          if (res.statusCode !== 200) {
            reject(new Error(`management API answered ${res.statusCode}: ${body}`));
            return;
          }
          try {
            resolve(JSON.parse(body));
          } catch (err) {
            reject(err);
          }
        });
      },
    );
    req.on("error", reject);
  });
}

const cache = new Map(); // path -> { expires, value }

async function cachedGetJson(path) {
  if (cacheTtlMs <= 0) return getJson(path);
  const hit = cache.get(path);
  if (hit && hit.expires > Date.now()) return hit.value;
  const value = await getJson(path);
  cache.set(path, { expires: Date.now() + cacheTtlMs, value });
  return value;
}

// One connection and one confirm channel, opened on first use and again after they
// closed (a publish to an exchange that does not exist closes the channel).
let connectionPromise;
let channelPromise;

function amqpConnection() {
  connectionPromise ??= amqp.connect(amqpUrl).then(
    (conn) => {
      conn.on("error", (err) => console.error("amqp connection error:", err.message));
      conn.on("close", () => (connectionPromise = channelPromise = undefined));
      return conn;
    },
    (err) => {
      connectionPromise = undefined;
      throw err;
    },
  );
  return connectionPromise;
}

function confirmChannel() {
  channelPromise ??= amqpConnection()
    .then((conn) => conn.createConfirmChannel())
    .then(
      (channel) => {
        channel.on("error", (err) => console.error("amqp channel error:", err.message));
        channel.on("close", () => (channelPromise = undefined));
        return channel;
      },
      (err) => {
        channelPromise = undefined;
        throw err;
      },
    );
  return channelPromise;
}

function result(structured) {
  return {
    content: [{ type: "text", text: JSON.stringify(structured) }],
    structuredContent: structured,
  };
}

const server = new McpServer({ name: "rabbitmq-peer-ts", version: "1.0.0" });

const queueFields = [
  "name",
  "vhost",
  "type",
  "state",
  "messages",
  "messages_ready",
  "messages_unacknowledged",
  "consumers",
];

server.registerTool(
  "list_queues",
  {
    description: "List the queues of a vhost (or of all vhosts), a page at a time.",
    inputSchema: {
      vhost: z.string().min(1).optional().describe("Virtual host; all when omitted."),
      page: z.number().int().min(1).default(1),
      page_size: z.number().int().min(1).max(500).default(100),
    },
    outputSchema: {
      items: z.array(z.record(z.unknown())),
      page: z.number(),
      page_size: z.number(),
      page_count: z.number().optional(),
      total_count: z.number().optional(),
      filtered_count: z.number().optional(),
    },
    annotations: { readOnlyHint: true },
  },
  async ({ vhost, page, page_size }) => {
    const path =
      "/api/queues" +
      (vhost ? "/" + encodeURIComponent(vhost) : "") +
      `?page=${page}&page_size=${page_size}&columns=${queueFields.join(",")}`;
    const body = await cachedGetJson(path);
    return result({
      items: body.items.map((q) =>
        Object.fromEntries(queueFields.filter((f) => f in q).map((f) => [f, q[f]])),
      ),
      page: body.page,
      page_size: body.page_size,
      page_count: body.page_count,
      total_count: body.total_count,
      filtered_count: body.filtered_count,
    });
  },
);

server.registerTool(
  "publish_message",
  {
    description: "Publish a text message and wait for the broker's confirm.",
    inputSchema: {
      exchange: z.string().describe('The exchange ("" is the default exchange).'),
      routing_key: z.string(),
      body: z.string(),
      persistent: z.boolean().default(true),
    },
    outputSchema: {
      published: z.boolean(),
      confirmed: z.boolean(),
      exchange: z.string(),
      routing_key: z.string(),
    },
  },
  async ({ exchange, routing_key, body, persistent }) => {
    const channel = await confirmChannel();
    await new Promise((resolve, reject) => {
      channel.publish(exchange, routing_key, Buffer.from(body), { persistent }, (err) =>
        err ? reject(new Error(`the broker did not confirm: ${err.message}`)) : resolve(),
      );
    });
    return result({ published: true, confirmed: true, exchange, routing_key });
  },
);

// The SDK's transport does not watch for the end of stdin; without this the open
// sockets would keep the process alive after the client went away.
async function shutdown() {
  try {
    await (await connectionPromise)?.close();
  } catch {
    // closing anyway
  }
  agent.destroy();
  process.exit(0);
}
process.stdin.on("end", shutdown);

await server.connect(new StdioServerTransport());
console.error("rabbitmq-peer-ts: serving on stdio");
