// The magic-link flow for Factorial by OAuth in headless Chromium, as an HR admin does it: an
// app page opens the magic link in a popup; the picker; Factorial's sign-in page; the sandbox's
// consent page (what it shows is checked); Deny first (the "declined" page, then "Try again"),
// then Approve; the success page hands the public token to the opener by postMessage; the app
// exchanges it and the first sync stores the sandbox's employees. Screenshots of each step go to
// ROSTER_SCREENSHOT_DIR (run.sh: the build tree; docs/img to refresh the docs). Any console
// error or warning on Roster's pages, or a request to an origin other than Roster's and the
// sandbox's authorization server, fails the test.
import assert from "node:assert/strict";
import { ROSTER, SANDBOX, api, createLink, expectConnected, openLink, run, screenshots }
    from "./lib.mjs";

const CLIENT_ID = "acme-engage";
const AUTHORIZE = `${SANDBOX}/factorial/oauth/authorize`;
const shot = screenshots("connect-oauth-");

// From Factorial's sign-in page to the sandbox's consent page, which is checked.
async function toConsent(popup) {
    await popup.getByRole("heading", { name: "Connect Factorial" }).waitFor();
    await Promise.all([
        popup.waitForURL((url) => url.href.startsWith(AUTHORIZE + "?")),
        popup.getByRole("button", { name: "Continue to Factorial" }).click(),
    ]);
    const params = new URL(popup.url()).searchParams;
    assert.equal(params.get("client_id"), CLIENT_ID);
    assert.equal(params.get("redirect_uri"), `${ROSTER}/link/oauth/callback`);
    assert.equal(params.get("code_challenge_method"), "S256");
    assert.match(params.get("code_challenge"), /^[A-Za-z0-9_-]{43}$/);
    assert.match(params.get("state"), /^[A-Za-z0-9_-]{43}$/);
    // what the admin is asked to approve: the app, what it may use, where they go next
    await popup.getByRole("heading", { name: "Factorial sandbox" }).waitFor();
    assert.equal(await popup.locator("#client").textContent(), CLIENT_ID);
    assert.deepEqual(await popup.locator("#scopes li").allTextContents(), ["read"]);
    assert.equal(await popup.locator("#redirect").textContent(), `${ROSTER}/link/oauth/callback`);
    assert.equal(await popup.getByRole("button", { name: "Approve" }).count(), 1);
    assert.equal(await popup.getByRole("button", { name: "Deny" }).count(), 1);
}

run(async (session) => {
    await api("PUT", "/api/admin/v1/oauth-clients/factorial",
              { client_id: CLIENT_ID, client_secret: "sandbox" }, 201);
    const link = await createLink("acme-browser-oauth", "factorial");
    const { context, app, popup } = await openLink(session, link, AUTHORIZE);

    // 1. the picker: Factorial connects by signing in
    await popup.getByRole("heading", { name: "Connect your HR system" }).waitFor();
    await popup.getByLabel("Search").fill("fact");
    await popup.waitForFunction(() =>
        document.getElementById("provider-count").textContent === "1 system matches");
    const item = popup.getByRole("link", { name: /Factorial/ });
    assert.match(await item.textContent(), /Sign-in$/);
    await shot(popup, "1-picker");
    await item.click();

    // 2. Factorial's sign-in page: what happens next, one button
    await popup.getByRole("heading", { name: "Connect Factorial" }).waitFor();
    assert.match(await popup.locator(".lead").textContent(),
                 /You will sign in to Factorial and approve read access for Acme Engage\./);
    await shot(popup, "2-start");

    // 3. the provider's consent page; the admin declines first
    await toConsent(popup);
    await shot(popup, "3-consent");
    await Promise.all([popup.waitForURL((url) => url.href.startsWith(ROSTER + "/")),
                       popup.getByRole("button", { name: "Deny" }).click()]);
    await popup.getByRole("heading", { name: "Access to Factorial was declined" }).waitFor();
    assert.equal(await popup.getByRole("link", { name: "All HR systems" }).count(), 1);
    await shot(popup, "4-declined");
    await popup.getByRole("link", { name: "Try again" }).click();

    // 4. again, and Approve: back at Roster, connected, the token posted to the opener
    await toConsent(popup);
    await Promise.all([popup.waitForURL((url) => url.href.startsWith(ROSTER + "/")),
                       popup.getByRole("button", { name: "Approve" }).click()]);
    await popup.getByRole("heading", { name: "Factorial is connected" }).waitFor();
    await shot(popup, "5-connected");

    // 5. the app exchanges it, once, and the first sync stores the employees
    await expectConnected(app, "factorial");
    await context.close();
});
