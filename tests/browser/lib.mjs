// What the browser tests share: the environment run.sh sets, rosterd's API, polling with a
// deadline, the app page that opens a magic link in a popup, the watch on Roster's pages, and
// the end of every connection (the public token at the app, one exchange, the first sync).
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { createServer } from "node:http";
import { join } from "node:path";
import { chromium } from "playwright-core";

export const env = (name) => {
    const value = process.env[name];
    if (!value) throw new Error(`${name} is not set (run through run.sh)`);
    return value;
};
export const ROSTER = env("ROSTER_URL");
export const KEY = env("ROSTER_API_KEY");
export const SANDBOX = env("ROSTER_SANDBOX_URL");
export const EMPLOYEES = Number(env("ROSTER_SANDBOX_EMPLOYEES"));
const SHOTS = env("ROSTER_SCREENSHOT_DIR");
const DEADLINE_MS = 60000;

export async function api(method, path, body, status = 200) {
    const res = await fetch(ROSTER + path, {
        method,
        headers: { Authorization: `Bearer ${KEY}`, "Content-Type": "application/json" },
        body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    assert.equal(res.status, status, `${method} ${path}: ${res.status} ${text}`);
    return text ? JSON.parse(text) : null;
}

export async function until(what, check) {
    const deadline = Date.now() + DEADLINE_MS;
    for (;;) {
        const value = await check();
        if (value) return value;
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
        await new Promise((resolve) => setTimeout(resolve, 100));
    }
}

// A screenshot function saving `${prefix}${name}.png` into ROSTER_SCREENSHOT_DIR.
export function screenshots(prefix) {
    return (page, name) =>
        page.screenshot({ path: join(SHOTS, `${prefix}${name}.png`), fullPage: true });
}

// The app's page: opens the magic link and shows what the link posts back.
const OPENER_HTML = `<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>App</title>
<link rel="icon" href="data:,"></head><body>
<button id="open">Connect your HR system</button><pre id="result"></pre>
<script>
const link = new URLSearchParams(location.search).get("link");
document.getElementById("open").onclick = () => window.open(link, "roster", "width=480,height=760");
window.addEventListener("message", (event) => {
  if (event.data && event.data.type === "roster-link-success")
    document.getElementById("result").textContent = event.origin + " " + event.data.public_token;
});
</script></body></html>`;

function startOpener() {
    const server = createServer((req, res) => {
        res.writeHead(200, { "Content-Type": "text/html; charset=utf-8" });
        res.end(OPENER_HTML);
    });
    return new Promise((resolve) =>
        server.listen(0, "127.0.0.1", () => resolve(server)));
}

// Fails on a console error or warning, a page error, or a request leaving rosterd's origin.
// With `provider` (the URL of a provider's page Roster sends the admin to, such as an
// authorize endpoint), requests to `${provider}?…` are allowed too, and console and page errors
// count on Roster's pages only (the provider's page is not ours).
function watch(page, problems, provider) {
    const ours = (url) => url.startsWith(ROSTER + "/");
    const judged = (url) => !provider || ours(url);
    page.on("console", (msg) => {
        const where = msg.location().url || page.url();
        if ((msg.type() === "error" || msg.type() === "warning") && judged(where))
            problems.push(`console ${msg.type()}: ${msg.text()} (${where})`);
    });
    page.on("pageerror", (err) => {
        if (judged(page.url())) problems.push(`page error: ${err.message}`);
    });
    page.on("request", (req) => {
        if (!ours(req.url()) && !(provider && req.url().startsWith(provider + "?")))
            problems.push(`request to another origin: ${req.url()}`);
    });
}

// A magic link for end user `originId` whose base_url is the sandbox's `provider`.
export function createLink(originId, provider) {
    return api("POST", "/api/hris/v1/link-token", {
        end_user_email_address: "hr@acme.example",
        end_user_organization_name: "Acme GmbH",
        end_user_origin_id: originId,
        categories: ["hris"],
        should_create_magic_link_url: true,
        base_url: `${SANDBOX}/${provider}`,
    });
}

// The app's page opens the link in a popup, watched (see watch): { context, app, popup }.
export async function openLink(session, link, provider) {
    const context = await session.browser.newContext({ viewport: { width: 1000, height: 800 } });
    const app = await context.newPage();
    await app.goto(`${session.openerOrigin}/?link=${encodeURIComponent(link.magic_link_url)}`);
    const [popup] = await Promise.all([context.waitForEvent("page"), app.click("#open")]);
    watch(popup, session.problems, provider);
    await popup.setViewportSize({ width: 520, height: 820 });
    await popup.waitForLoadState("load");
    return { context, app, popup };
}

// After the success page: the public token reached the app from Roster's origin; the app
// exchanges it, once, for an account of `slug`, whose first sync stores the sandbox's
// employees. The exchanged account.
export async function expectConnected(app, slug) {
    const posted = await until("the public token at the opener", async () =>
        (await app.locator("#result").textContent()) || null);
    const [origin, publicToken] = posted.split(" ");
    assert.equal(origin, ROSTER);
    assert.match(publicToken, /^pt_[A-Za-z0-9_-]{43}$/);

    const exchanged = await api("GET", `/api/hris/v1/account-token/${publicToken}`);
    assert.equal(exchanged.integration.slug, slug);
    await api("GET", `/api/hris/v1/account-token/${publicToken}`, undefined, 404);
    const sync = await until("the first sync", async () => {
        const history = await api("GET", `/api/admin/v1/linked-accounts/${exchanged.id}/syncs`);
        const newest = history.results[0];
        return newest && !["QUEUED", "SYNCING"].includes(newest.status) ? newest : null;
    });
    assert.equal(sync.status, "DONE", JSON.stringify(sync));
    const res = await fetch(`${ROSTER}/api/hris/v1/employees?page_size=100`, {
        headers: { Authorization: `Bearer ${KEY}`, "X-Account-Token": exchanged.account_token },
    });
    const page = await res.json();
    assert.equal(page.results.length, EMPLOYEES);
    return exchanged;
}

// Runs one browser test: the app's page served on its own port and set as the organization's
// opener origin, headless Chromium, then test({ browser, openerOrigin, problems }). Any problem
// watched fails it; the closing line is the runner's "1 passed, 0 failed".
export function run(test) {
    main(test).catch((err) => {
        console.error(err);
        process.exit(1);
    });
}

async function main(test) {
    mkdirSync(SHOTS, { recursive: true });
    const opener = await startOpener();
    const openerOrigin = `http://127.0.0.1:${opener.address().port}`;
    let browser = null;
    const problems = [];
    try {
        await api("PATCH", "/api/admin/v1/link-settings", { opener_origin: openerOrigin });
        browser = await chromium.launch({
            executablePath: env("ROSTER_CHROMIUM"),
            headless: true,
            args: ["--no-sandbox"],
        });
        await test({ browser, openerOrigin, problems });
    } finally {
        if (browser) await browser.close();
        opener.close();
    }
    assert.deepEqual(problems, [], problems.join("\n"));
    console.log("1 passed, 0 failed");
}
