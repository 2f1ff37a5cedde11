// Roster's webhooks verified by the official Standard Webhooks library (`standardwebhooks`,
// version pinned in package.json) and by Merge's documented check of X-Merge-Webhook-Signature
// (base64url HMAC-SHA256 of the raw body, `=` padding stripped on both sides). A receiver in
// this process records every delivery; roster-sandbox (ROSTER_SANDBOX_BIN) gives a linked account
// real employees (names beyond ASCII, so the signed bytes are UTF-8). Run by run.sh, which
// provides ROSTER_URL and ROSTER_API_KEY and lets rosterd deliver to loopback addresses.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { createHmac, timingSafeEqual } from "node:crypto";
import { readFileSync } from "node:fs";
import { createServer } from "node:http";
import { createRequire } from "node:module";

import { env } from "./env.mjs";

const require = createRequire(import.meta.url);
const { Webhook, WebhookVerificationError } = require("standardwebhooks");

const ROSTER_URL = env("ROSTER_URL");
const API_KEY = env("ROSTER_API_KEY");
const SANDBOX_BIN = env("ROSTER_SANDBOX_BIN");
const EMPLOYEES = 40;
const DEADLINE_MS = 60000;

// ---------------------------------------------------------------------------------------------
// The receiver: every request with its raw body, answered 204.

const received = [];
const receiver = createServer((req, res) => {
    const chunks = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => {
        received.push({ headers: req.headers, raw: Buffer.concat(chunks) });
        res.writeHead(204).end();
    });
});
await new Promise((resolve) => receiver.listen(0, "127.0.0.1", resolve));
const RECEIVER_URL = `http://127.0.0.1:${receiver.address().port}/hooks/roster`;

// roster-sandbox on a free port: its URL from the "listening" line.
const sandbox = spawn(SANDBOX_BIN, ["--listen", "127.0.0.1:0", "--employees", String(EMPLOYEES),
                                    "--seed", "2"], { stdio: ["ignore", "ignore", "pipe"] });
const SANDBOX_URL = await new Promise((resolve, reject) => {
    let log = "";
    sandbox.stderr.on("data", (d) => {
        log += d;
        const m = /msg="listening" addr=(\S+)/.exec(log);
        if (m) resolve(`http://${m[1]}`);
    });
    sandbox.on("exit", (code) => reject(new Error(`roster-sandbox exited (${code}): ${log}`)));
});

const admin = async (method, path, body, want) => {
    const res = await fetch(`${ROSTER_URL}/api/admin/v1${path}`, {
        method,
        headers: { Authorization: `Bearer ${API_KEY}`, "Content-Type": "application/json" },
        body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    assert.equal(res.status, want, `${method} ${path}: ${text}`);
    return text ? JSON.parse(text) : null;
};

const waitFor = async (what, ok) => {
    const deadline = Date.now() + DEADLINE_MS;
    for (;;) {
        if (await ok()) return;
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
        await new Promise((r) => setTimeout(r, 50));
    }
};
const eventOf = (r) => JSON.parse(r.raw.toString("utf8")).hook.event;

// Merge's documented check: base64url HMAC-SHA256 of the raw body with the secret's key bytes,
// compared in constant time with `=` padding stripped on both sides.
const mergeVerifies = (secret, raw, header) => {
    const key = Buffer.from(secret.replace(/^whsec_/, ""), "base64");
    const expected = createHmac("sha256", key).update(raw).digest("base64url").replace(/=+$/, "");
    const given = String(header ?? "").replace(/=+$/, "");
    return expected.length === given.length &&
           timingSafeEqual(Buffer.from(expected), Buffer.from(given));
};

// ---------------------------------------------------------------------------------------------

const tests = [];
const test = (name, fn) => tests.push({ name, fn });
const state = {};

test("the pinned standardwebhooks is the one installed", async () => {
    const pkg = JSON.parse(readFileSync(new URL("./package.json", import.meta.url)));
    const installed = JSON.parse(readFileSync(require.resolve("standardwebhooks/package.json")));
    assert.equal(installed.version, pkg.dependencies.standardwebhooks);
});

test("deliveries of a linked account's initial sync verify with standardwebhooks", async () => {
    const ep = await admin("POST", "/webhook-endpoints", { url: RECEIVER_URL }, 201);
    state.endpoint = ep.id;
    state.secret = ep.secret;
    const acct = await admin("POST", "/linked-accounts", {
        integration: "bamboohr", end_user_origin_id: "conformance-webhooks",
        end_user_organization_name: "Acme (webhooks)", end_user_email_address: "hr@acme.example",
        credentials: { subdomain: "acme", api_key: "sandbox" }, base_url: `${SANDBOX_URL}/bamboohr`,
    }, 201);
    state.account = acct.id;
    await waitFor("the initial sync's sync_completed",
                  () => received.some((r) => eventOf(r) === "LinkedAccount.sync_completed"));
    const wh = new Webhook(state.secret);
    for (const r of received) {
        const payload = wh.verify(r.raw, r.headers); // throws on a bad signature or timestamp
        assert.equal(payload.hook.id, state.endpoint);
        assert.equal(r.headers["content-type"], "application/json");
        assert.match(r.headers["webhook-id"], /^[0-9a-f-]{36}$/);
    }
    const employees = received.filter((r) => eventOf(r) === "Employee.added");
    assert.equal(employees.length, EMPLOYEES);
    assert.ok(employees.some((r) => /[^\x00-\x7f]/.test(r.raw.toString("utf8"))),
              "some names beyond ASCII: the signature covers UTF-8 bytes");
    state.deliveredBeforeRotation = received.length;
});

test("a tampered body, id or timestamp is rejected by standardwebhooks", async () => {
    const wh = new Webhook(state.secret);
    const r = received.find((x) => eventOf(x) === "Employee.added");
    const body = r.raw.toString("utf8");
    assert.throws(() => wh.verify(body.replace("\"Employee.added\"", "\"Employee.changed\""),
                                  r.headers), WebhookVerificationError);
    assert.throws(() => wh.verify(body + " ", r.headers), WebhookVerificationError);
    assert.throws(() => wh.verify(body, { ...r.headers, "webhook-id": "msg_forged" }),
                  WebhookVerificationError);
    const old = String(Number(r.headers["webhook-timestamp"]) - 3600);
    assert.throws(() => wh.verify(body, { ...r.headers, "webhook-timestamp": old }),
                  WebhookVerificationError);
    assert.throws(() => new Webhook(`whsec_${Buffer.alloc(32, 7).toString("base64")}`)
        .verify(body, r.headers), WebhookVerificationError);
});

test("Merge's check accepts X-Merge-Webhook-Signature (and only for the right bytes)", async () => {
    for (const r of received) {
        const header = r.headers["x-merge-webhook-signature"];
        assert.match(header, /^[A-Za-z0-9_-]{43}$/, "base64url without padding");
        assert.ok(mergeVerifies(state.secret, r.raw, header), `message ${r.headers["webhook-id"]}`);
        assert.ok(!mergeVerifies(state.secret, Buffer.concat([r.raw, Buffer.from(" ")]), header));
    }
});

test("during a rotation, both secrets verify; the new one signs Merge's header", async () => {
    const rotated = await admin("POST", `/webhook-endpoints/${state.endpoint}/rotate-secret`,
                                undefined, 200);
    assert.notEqual(rotated.secret, state.secret);
    assert.ok(rotated.previous_secret_expires_at);
    await admin("DELETE", `/linked-accounts/${state.account}`, undefined, 204);
    await waitFor("LinkedAccount.deleted",
                  () => received.some((r) => eventOf(r) === "LinkedAccount.deleted"));
    const after = received.slice(state.deliveredBeforeRotation);
    assert.ok(after.length >= 1);
    for (const r of after) {
        assert.equal(r.headers["webhook-signature"].split(" ").length, 2);
        new Webhook(rotated.secret).verify(r.raw, r.headers);
        new Webhook(state.secret).verify(r.raw, r.headers);
        assert.ok(mergeVerifies(rotated.secret, r.raw, r.headers["x-merge-webhook-signature"]));
    }
    const deleted = JSON.parse(after.find((r) => eventOf(r) === "LinkedAccount.deleted").raw);
    assert.equal(deleted.linked_account.id, state.account);
    await admin("DELETE", `/webhook-endpoints/${state.endpoint}`, undefined, 204);
});

async function runAll() {
    let passed = 0;
    let failed = 0;
    const started = Date.now();
    for (const { name, fn } of tests) {
        const t0 = Date.now();
        try {
            await fn();
            passed++;
            console.log(`ok - ${name} (${Date.now() - t0} ms)`);
        } catch (e) {
            failed++;
            console.log(`not ok - ${name}`);
            console.log(`  ${String(e.stack ?? e).split("\n").join("\n  ")}`);
        }
    }
    console.log(`${passed} passed, ${failed} failed (${Date.now() - started} ms)`);
    return failed === 0 ? 0 : 1;
}

const code = await runAll();
sandbox.kill("SIGTERM");
await new Promise((resolve) => (sandbox.exitCode !== null ? resolve() : sandbox.on("exit", resolve)));
receiver.close();
process.exit(code);
