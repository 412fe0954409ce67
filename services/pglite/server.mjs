// PGlite (PostgreSQL 17 built to WASM) with TimescaleDB, served over the PostgreSQL wire
// protocol on loopback for the tests: node server.mjs --port PORT [--host 127.0.0.1]
//
// PGlite is one backend, one session. Clients are therefore served one at a time, in the
// order they connect: a later one is accepted but gets no answer to its startup message
// until the current one disconnects (its connect() blocks meanwhile). Between two clients
// the session is reset (ROLLBACK, then DISCARD ALL: settings, prepared statements,
// advisory locks, temp tables) so that each client sees a fresh session as on a real
// server: without it a transaction left open by one client, its advisory locks and
// psycopg's named prepared statements would all be inherited by the next one. The data
// lives in memory and goes away with the process. Any password is accepted; the database
// name a client asks for is ignored (the session is in template1).
import net from "node:net";
import { parseArgs } from "node:util";
import { PGlite } from "@electric-sql/pglite";
import { timescaledb } from "@electric-sql/pglite/timescaledb";
import { PGLiteSocketHandler } from "@electric-sql/pglite-socket";

const { values } = parseArgs({
  options: {
    port: { type: "string", default: "5432" },
    host: { type: "string", default: "127.0.0.1" },
  },
});

// The socket handler leaves a rejected lock promise unhandled when a client's socket fails
// (e.g. a reset connection); that must not end the server.
process.on("unhandledRejection", (reason) => console.error("unhandled rejection:", reason));

const began = Date.now();
const db = await PGlite.create("memory://", { extensions: { timescaledb } });
console.log(`PGlite with TimescaleDB ready in ${Date.now() - began} ms`);

async function serve(socket) {
  if (socket.destroyed) return;
  const closed = new Promise((resolve) => socket.once("close", resolve));
  const handler = new PGLiteSocketHandler({ db, closeOnDetach: true });
  try {
    await handler.attach(socket);
    await closed;
  } finally {
    handler.detach(false); // releases PGlite if the handler missed the close
  }
  try {
    await db.exec("ROLLBACK");
    await db.exec("DISCARD ALL");
    // PGlite boots with search_path = pg_catalog and sets `public` afterwards in the
    // session, so DISCARD ALL (RESET ALL) would leave public out: PostgreSQL's default.
    await db.exec(`SET search_path TO "$user", public`);
  } catch (error) {
    console.error("session reset failed:", error);
  }
}

let turn = Promise.resolve();
const server = net.createServer((socket) => {
  socket.on("error", (error) => console.error("client socket error:", error.message));
  turn = turn.then(() => serve(socket)).catch((error) => console.error("client failed:", error));
});
server.on("error", (error) => {
  console.error("server error:", error);
  process.exit(1);
});
server.listen(Number(values.port), values.host, () => {
  console.log(`listening on ${values.host}:${values.port}`);
});

// Everything is in memory: nothing to flush, and a client may still hold the session.
process.on("SIGTERM", () => process.exit(0));
process.on("SIGINT", () => process.exit(0));
