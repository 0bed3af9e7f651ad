/* SPDX-License-Identifier: Apache-2.0 */
/* End-to-end tests of the hookgate dashboard in headless Chromium, driven with
 * playwright-core, against the real hookgated and PostgreSQL that tests/integration/t_browser.sh
 * started. Prints TAP. Every wait is on an element or a condition, not on the clock, except the
 * wait for the short 2FA session of the second daemon to run out. The destinations' cases post
 * to a receiver this script runs, which verifies every request with npm standardwebhooks. */
'use strict';

const crypto = require('crypto');
const fs = require('fs');
const path = require('path');
const http = require('http');
const { chromium } = require('playwright-core');
const { Webhook } = require('standardwebhooks');

const env = (name) => {
	const v = process.env[name];
	if (!v)
		throw new Error('environment variable ' + name + ' is not set');
	return v;
};

const ADMIN = env('HG_ADMIN_URL');          /* http://127.0.0.1:PORT */
const ADMIN_SHORT = env('HG_ADMIN_URL_SHORT'); /* a daemon with twofa_session_ttl = 10s */
const WEBHOOK = env('HG_WEBHOOK_URL');      /* the first daemon's server.listen */
const USER = env('HG_USER'), PASSWORD = env('HG_PASSWORD');
const USER2 = env('HG_USER2'), PASSWORD2 = env('HG_PASSWORD2');
const SHOTS = env('HG_SCREENSHOTS');
const PROFILE = env('HG_BROWSER_PROFILE');
const CHROMIUM = process.env.HG_CHROMIUM || '/usr/bin/chromium';

/* ---- TAP ------------------------------------------------------------------------------------ */

const cases = [];
const test = (name, fn) => cases.push({ name, fn });

function diag(text) {
	for (const line of String(text).split('\n'))
		console.log('# ' + line);
}

function assert(cond, message) {
	if (!cond)
		throw new Error(message);
}

function assertEq(got, want, what) {
	if (got !== want)
		throw new Error(what + ': got ' + JSON.stringify(got) + ', expected ' + JSON.stringify(want));
}

/* ---- TOTP (RFC 6238, SHA-1, 6 digits, 30 s) ------------------------------------------------- */

function base32Decode(text) {
	const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
	let bits = 0, value = 0;
	const out = [];
	for (const ch of text.replace(/[\s=]/g, '').toUpperCase()) {
		const i = alphabet.indexOf(ch);
		if (i < 0)
			throw new Error('bad base32 character ' + ch);
		value = (value << 5) | i;
		bits += 5;
		if (bits >= 8) {
			out.push((value >>> (bits - 8)) & 0xff);
			bits -= 8;
		}
	}
	return Buffer.from(out);
}

function totpAt(secret, step) {
	const msg = Buffer.alloc(8);
	msg.writeBigUInt64BE(BigInt(step));
	const mac = crypto.createHmac('sha1', base32Decode(secret)).update(msg).digest();
	const off = mac[19] & 0xf;
	const bin = mac.readUInt32BE(off) & 0x7fffffff;
	return String(bin % 1000000).padStart(6, '0');
}

/* A code for a time step later than any used before for this secret (the server refuses a
 * step twice), within its ±1 step window; waits for the clock when both are spent. */
const lastStep = new Map();
async function nextCode(secret) {
	for (;;) {
		const now = Math.floor(Date.now() / 30000);
		const step = Math.max((lastStep.get(secret) || 0) + 1, now);
		if (step <= now + 1) {
			lastStep.set(secret, step);
			return totpAt(secret, step);
		}
		await new Promise((r) => setTimeout(r, 1000));
	}
}

/* ---- helpers -------------------------------------------------------------------------------- */

let context, page;
const secrets = new Map(); /* token name -> secret */
const ids = new Map();     /* token name -> public id */
const cspViolations = [];

async function shot(name) {
	await page.screenshot({ path: path.join(SHOTS, name + '.png'), fullPage: true });
}

async function webhook(urlOrPath, body) {
	const url = urlOrPath.startsWith('http') ? urlOrPath : WEBHOOK + urlOrPath;
	const res = await fetch(url, {
		method: 'POST',
		headers: { 'Content-Type': 'application/json', 'User-Agent': 'hookgate-browser-test' },
		body: JSON.stringify(body || { text: 'hello from the browser test' }),
	});
	let code = '';
	if (res.status !== 204) {
		try {
			code = (await res.json()).code;
		} catch (e) {
			code = '';
		}
	}
	return res.status + (code ? ' ' + code : '');
}

const channelPath = (secret) =>
	'/api/v2/channelsbyname/general/message?zapikey=' + encodeURIComponent(secret);

function row(name) {
	return page.locator('#tokens-body tr').filter({
		has: page.locator('button.name', { hasText: new RegExp('^' + name + '$') }),
	});
}

async function clipboard() {
	return page.evaluate(() => navigator.clipboard.readText());
}

async function signInAndWait(user, password, screen) {
	await page.getByLabel('Login').fill(user);
	await page.getByLabel('Password').fill(password);
	await page.getByRole('button', { name: 'Sign in' }).click();
	await page.locator(screen).waitFor({ state: 'visible' });
}

/* A user's first sign-in: enrollment with a TOTP code, past the recovery codes to the token
 * list. Returns the TOTP secret. */
async function firstSignIn(user, password) {
	await signInAndWait(user, password, '#screen-enroll');
	const secret = (await page.locator('#enroll-secret').textContent()).replace(/\s+/g, '');
	await page.locator('#screen-enroll').getByLabel('Code').fill(await nextCode(secret));
	await page.getByRole('button', { name: 'Confirm' }).click();
	await page.getByRole('button', { name: /continue/ }).click();
	await page.locator('#screen-tokens').waitFor({ state: 'visible' });
	return secret;
}

async function createToken(name) {
	await page.getByRole('button', { name: 'Generate New Token' }).click();
	const dlg = page.locator('#dlg-create');
	await dlg.getByLabel('Name').fill(name);
	await dlg.getByRole('button', { name: 'Generate' }).click();
	const secretDlg = page.locator('#dlg-secret');
	await secretDlg.waitFor({ state: 'visible' });
	const secret = await page.locator('#secret-value').inputValue();
	assert(/^hgt_[0-9A-Za-z]+$/.test(secret), 'the new token is shown: ' + secret);
	secrets.set(name, secret);
	await row(name).waitFor();
	ids.set(name, await row(name).locator('button.tid').textContent());
	return secret;
}

/* ---- the cases ------------------------------------------------------------------------------ */

test('the page is served with a strict CSP, nosniff and no-cache; sign-in asks Login and Password',
     async () => {
	const res = await page.goto(ADMIN + '/admin/');
	const h = res.headers();
	assertEq(res.status(), 200, 'status');
	assert(/^text\/html/.test(h['content-type']), 'content type ' + h['content-type']);
	assert(/script-src 'self'/.test(h['content-security-policy'] || ''), 'CSP ' +
	       h['content-security-policy']);
	assert(/frame-ancestors 'none'/.test(h['content-security-policy']), 'frame-ancestors');
	assertEq(h['x-content-type-options'], 'nosniff', 'X-Content-Type-Options');
	assertEq(h['cache-control'], 'no-cache', 'Cache-Control');
	for (const [file, type] of [['app.js', /^text\/javascript/], ['app.css', /^text\/css/],
				    ['token-life.js', /^text\/javascript/], ['org.js', /^text\/javascript/]]) {
		const r = await fetch(ADMIN + '/admin/' + file);
		assertEq(r.status, 200, file + ' status');
		assert(type.test(r.headers.get('content-type')), file + ' content type');
	}
	for (const bad of ['../hookgate.conf', '..%2fsecret.key', 'app.js/', 'nope.html']) {
		const r = await fetch(ADMIN + '/admin/' + bad);
		assertEq(r.status, 404, 'GET /admin/' + bad);
	}
	const redirect = await fetch(ADMIN + '/admin', { redirect: 'manual' });
	assertEq(redirect.status, 301, 'GET /admin');
	assertEq(redirect.headers.get('location'), '/admin/', 'GET /admin redirects to');
	assertEq((await fetch(ADMIN + '/admin/', { method: 'POST' })).status, 405, 'POST /admin/');
	await page.getByLabel('Login').waitFor();
	await page.getByLabel('Password').waitFor();
	await shot('01-sign-in');
});

test('first sign-in: enrollment with a QR code and the secret, confirmed by a TOTP code; ' +
     'the ten recovery codes are shown once', async () => {
	await signInAndWait(USER, PASSWORD, '#screen-enroll');
	const qr = page.locator('#enroll-qr');
	await qr.waitFor({ state: 'visible' });
	const src = await qr.getAttribute('src');
	assert(src.startsWith('data:image/svg+xml;base64,'), 'the QR code is an SVG data URI');
	const loaded = await qr.evaluate((img) => img.complete && img.naturalWidth > 0);
	assert(loaded, 'the QR image renders');
	const secret = (await page.locator('#enroll-secret').textContent()).replace(/\s+/g, '');
	assert(/^[A-Z2-7]{32}$/.test(secret), 'the secret is shown as text: ' + secret);
	await shot('02-enrollment-qr');
	await page.locator('#screen-enroll').getByLabel('Code').fill(await nextCode(secret));
	await page.getByRole('button', { name: 'Confirm' }).click();
	await page.locator('#screen-recovery').waitFor({ state: 'visible' });
	const codes = await page.locator('#recovery-codes li').allTextContents();
	assertEq(codes.length, 10, 'number of recovery codes');
	for (const c of codes)
		assert(/^[a-z0-9]{5}-[a-z0-9]{5}$/.test(c), 'recovery code form: ' + c);
	await shot('03-recovery-codes');
	await page.getByRole('button', { name: /continue/ }).click();
	await page.locator('#screen-tokens').waitFor({ state: 'visible' });
	assert(/Session: \d+:\d\d left/.test(await page.locator('#countdown').textContent()),
	       'the 2FA session countdown is shown');
});

test('Generate New Token five times; each new token is shown once with a working copy button',
     async () => {
	for (let i = 1; i <= 5; i++) {
		const secret = await createToken('token-' + i);
		if (i === 1) {
			await shot('05-new-token');
			await page.locator('#secret-copy').click();
			await page.locator('#secret-status', { hasText: 'Copied' }).waitFor();
			assertEq(await clipboard(), secret, 'clipboard after Copy of the new token');
		}
		await page.locator('#dlg-secret').getByRole('button', { name: 'Done' }).click();
		await page.locator('#dlg-secret').waitFor({ state: 'hidden' });
		await page.waitForFunction(() => document.getElementById('secret-value').value === '',
					   null, { timeout: 2000 });
	}
	assertEq(await page.locator('#tokens-body tr').count(), 5, 'rows in the list');
});

test('at five tokens Generate New Token is disabled and says why', async () => {
	const button = page.getByRole('button', { name: 'Generate New Token' });
	assert(await button.isDisabled(), 'the button is disabled');
	const reason = page.locator('#limit-reason');
	await reason.waitFor({ state: 'visible' });
	assert(/limit/.test(await reason.textContent()), 'the reason mentions the limit');
	await shot('04-token-list');
});

test('rename by clicking the name (kept after a reload of the page)', async () => {
	await row('token-1').locator('button.name').click();
	const input = page.locator('#tokens-body input.rename');
	await input.fill('ci-pipeline');
	await input.press('Enter');
	await row('ci-pipeline').waitFor();
	secrets.set('ci-pipeline', secrets.get('token-1'));
	ids.set('ci-pipeline', ids.get('token-1'));
	await page.reload();
	await row('ci-pipeline').waitFor();
	assertEq(await row('token-1').count(), 0, 'the old name is gone');
});

test('status toggle: disabled token refused by the webhook (401), enabled again accepted (204)',
     async () => {
	const sw = row('token-2').getByRole('switch');
	assertEq(await webhook(channelPath(secrets.get('token-2'))), '204', 'call while active');
	await sw.click();
	await page.locator('#tokens-body tr', { hasText: 'token-2' })
		.locator('.switch[aria-checked=false]').waitFor();
	assertEq(await webhook(channelPath(secrets.get('token-2'))), '401 token_disabled',
		 'call while disabled');
	await row('token-2').getByRole('switch').click();
	await page.locator('#tokens-body tr', { hasText: 'token-2' })
		.locator('.switch[aria-checked=true]').waitFor();
	assertEq(await webhook(channelPath(secrets.get('token-2'))), '204', 'call after enabling');
});

test('copy a token from its row (button shown on hover)', async () => {
	const r = row('token-3');
	const copy = r.locator('button.copy');
	/* Resolves once the button's computed opacity is the given one (it fades in and out). */
	const opacity = (want) => copy.evaluate((b, w) => new Promise((resolve) => {
		const check = () => getComputedStyle(b).opacity === w ? resolve() :
			requestAnimationFrame(check);
		check();
	}), want);
	await page.mouse.move(0, 0);
	await page.evaluate(() => document.activeElement && document.activeElement.blur());
	await opacity('0');
	await r.hover();
	await opacity('1');
	await copy.click();
	await page.locator('#notice', { hasText: 'copied' }).waitFor();
	assertEq(await clipboard(), secrets.get('token-3'), 'clipboard after Copy');
});

test('usage history after webhook calls: rows with every column, paged with Load more',
     async () => {
	const secret = secrets.get('token-3');
	for (let i = 0; i < 11; i++)
		assertEq(await webhook(channelPath(secret)), '204', 'call ' + i);
	assertEq(await webhook('/api/v2/channelsbyname/nowhere/message?zapikey=' + secret),
		 '404 not_found', 'a call to an unknown channel');
	await page.reload();
	await row('token-3').waitFor();
	assertEq(await row('token-3').locator('td').nth(2).textContent(), '12', 'invocations');
	const last = row('token-3').locator('.last');
	assert(/now|second|minute/.test(await last.textContent()), 'last invoked is relative');
	assert(/\d{4}-\d\d-\d\dT/.test(await last.getAttribute('title')),
	       'the exact time is in the title');
	await row('token-3').locator('button.tid').click();
	const dlg = page.locator('#dlg-usage');
	await dlg.waitFor({ state: 'visible' });
	await page.locator('#usage-body tr').nth(9).waitFor();
	assertEq(await page.locator('#usage-body tr').count(), 10, 'first page');
	const first = await page.locator('#usage-body tr').first().locator('td').allTextContents();
	assertEq(first[1], 'Channel message', 'module');
	assertEq(first[2], 'nowhere', 'target');
	assertEq(first[3], '404', 'status');
	assertEq(first[4], '127.0.0.1', 'client address');
	assertEq(first[5], 'hookgate-browser-test', 'user agent');
	assert(/^\d+(\.\d+)? ms$/.test(first[6]), 'latency ' + first[6]);
	await shot('06-usage-history');
	await dlg.getByRole('button', { name: 'Load more' }).click();
	await page.locator('#usage-body tr').nth(11).waitFor();
	await dlg.getByRole('button', { name: 'Load more' }).waitFor({ state: 'hidden' });
	assertEq(await page.locator('#usage-body tr').count(), 12, 'both pages');
	await page.keyboard.press('Escape');
	await dlg.waitFor({ state: 'hidden' });
});

test('Get Webhook URL for each module; each URL works (204)', async () => {
	await page.getByRole('button', { name: 'Get Webhook URL' }).click();
	const dlg = page.locator('#dlg-url');
	await dlg.waitFor({ state: 'visible' });
	await dlg.getByLabel('Token').selectOption(ids.get('token-4'));
	const out = page.locator('#url-value');
	const kinds = [
		['Channels', null, /\/api\/v2\/channelsbyname\/general\/message\?zapikey=hgt_/],
		['Bots', 'Incoming handler', /\/api\/v2\/bots\/helper\/incoming\?zapikey=hgt_/],
		['Bots', 'Message', /\/api\/v2\/bots\/helper\/message\?zapikey=hgt_/],
		['Extensions', 'Sandbox', /\/api\/v2\/applications\/[^/]+\/incoming\?appkey=.+&zapikey=hgt_/],
		['Extensions', 'Marketplace',
		 /\/api\/v2\/applications\/[^/]+\/incoming\?appkey=.+&zapikey=hgt_/],
	];
	const seen = new Set();
	for (const [module, option, re] of kinds) {
		await dlg.getByLabel(module, { exact: true }).check();
		if (option)
			await dlg.getByLabel(option, { exact: true }).check();
		await page.waitForFunction(([sel, src, old]) => {
			const v = document.querySelector(sel).value;
			return new RegExp(src).test(v) && !old.includes(v);
		}, ['#url-value', re.source, [...seen]]);
		const url = await out.inputValue();
		seen.add(url);
		assert(url.startsWith(WEBHOOK + '/'), 'URL under public_url: ' + url);
		assert(url.endsWith(encodeURIComponent(secrets.get('token-4'))) ||
		       url.endsWith(secrets.get('token-4')), 'the URL holds the chosen token');
		assertEq(await webhook(url), '204', module + (option ? ' ' + option : '') + ' URL');
		if (module === 'Channels') {
			await shot('07-webhook-url');
			await dlg.getByRole('button', { name: 'Copy', exact: true }).click();
			await page.locator('#url-status', { hasText: 'Copied' }).waitFor();
			assertEq(await clipboard(), url, 'clipboard after Copy of the URL');
		}
	}
	assertEq(seen.size, 5, 'five different URLs');
	await dlg.getByRole('button', { name: 'Close' }).click();
	await dlg.waitFor({ state: 'hidden' });
});

test('delete with a confirmation that warns integrations will fail; the token stops working',
     async () => {
	await row('token-5').getByRole('button', { name: /^Delete/ }).click();
	const dlg = page.locator('#dlg-delete');
	await dlg.waitFor({ state: 'visible' });
	assert(/integration.*will fail/.test(await dlg.locator('.warning').textContent()),
	       'the warning says integrations will fail');
	await dlg.getByRole('button', { name: 'Delete', exact: true }).click();
	await row('token-5').waitFor({ state: 'detached' });
	assert(await page.getByRole('button', { name: 'Generate New Token' }).isEnabled(),
	       'Generate New Token is enabled again at four tokens');
	assertEq(await webhook(channelPath(secrets.get('token-5'))), '401 token_invalid',
		 'call with the deleted token');
});

test('API errors appear as readable messages (an over-long token name)', async () => {
	await page.getByRole('button', { name: 'Generate New Token' }).click();
	const dlg = page.locator('#dlg-create');
	await dlg.getByLabel('Name').evaluate((i) => { i.removeAttribute('maxlength'); });
	await dlg.getByLabel('Name').fill('x'.repeat(65));
	await dlg.getByRole('button', { name: 'Generate' }).click();
	const err = page.locator('#create-error');
	await err.waitFor({ state: 'visible' });
	assert(/1 to 64 characters/.test(await err.textContent()), await err.textContent());
	await page.keyboard.press('Escape');
	await dlg.waitFor({ state: 'hidden' });
	// The dialog's "close" event, which gives the focus back to the button, is a task of its
	// own: the next test must not start before it has run.
	await focusReturnsTo('generate');
});

// A closed dialog gives the focus back to the element that opened it: the browser at once, and
// the page again in the dialog's "close" event, a task of its own that runs after the dialog is
// hidden. Until that task has run, a focus set elsewhere would be taken back: let it run (a
// timer queued after it), then check where the focus is.
async function focusReturnsTo(id) {
	await page.evaluate(() => new Promise((resolve) => setTimeout(resolve, 100)));
	const now = await page.evaluate(() => document.activeElement && document.activeElement.id);
	assert(now === id, 'focus returns to #' + id + ' when the dialog closes (it is on #' + now +
	       ')');
}

test('keyboard: Tab reaches Generate New Token, Enter opens its dialog, focus is in the name',
     async () => {
	await page.locator('#logout').focus();
	const visited = [];
	for (let i = 0; i < 6 && visited[visited.length - 1] !== 'generate'; i++) {
		await page.keyboard.press('Tab');
		visited.push(await page.evaluate(() => document.activeElement.id ||
						 document.activeElement.tagName));
	}
	assert(visited[visited.length - 1] === 'generate',
	       'Generate New Token is reachable with Tab from Sign out (Tab went to ' +
	       visited.join(', ') + ')');
	await page.keyboard.press('Enter');
	await page.locator('#dlg-create').waitFor({ state: 'visible' });
	assert(await page.evaluate(() => document.activeElement.id === 'create-name'),
	       'focus is in the name field');
	await page.keyboard.press('Escape');
	await page.locator('#dlg-create').waitFor({ state: 'hidden' });
	await focusReturnsTo('generate');
});

/* At phone width (390 px) the token list fits without horizontal scrolling and a row's part is
 * shown (and what check says); then a screenshot. */
async function phoneListFits(name, part, shotName, check) {
	await page.setViewportSize({ width: 390, height: 844 });
	await row(name).waitFor();
	const width = await page.evaluate(() => document.documentElement.scrollWidth);
	assert(width <= 390, 'page width ' + width);
	assert(await row(name).locator(part).isVisible(), part + ' shown');
	if (check)
		await check();
	await shot(shotName);
	await page.setViewportSize({ width: 1280, height: 800 });
}

test('phone width (390 px): the token list fits without horizontal scrolling', async () => {
	await phoneListFits('token-3', 'button.copy', '08-phone-token-list');
});

test('Get Webhook URL also shows a curl line with the token in a header; it works (204)',
     async () => {
	await page.getByRole('button', { name: 'Get Webhook URL' }).click();
	const dlg = page.locator('#dlg-url');
	await dlg.waitFor({ state: 'visible' });
	await dlg.getByLabel('Token').selectOption(ids.get('token-4'));
	await dlg.getByLabel('Channels', { exact: true }).check();
	const re = /^curl -X POST '([^']+)' -H 'Authorization: Bearer (hgt_[0-9A-Za-z]+)'/;
	await page.waitForFunction((src) => new RegExp(src).test(
		document.querySelector('#url-curl').value), re.source);
	const line = await page.locator('#url-curl').inputValue();
	const [, url, token] = line.match(re);
	assertEq(url, WEBHOOK + '/api/v2/channelsbyname/general/message', 'the URL has no token');
	assertEq(token, secrets.get('token-4'), 'the header holds the chosen token');
	const res = await fetch(url, {
		method: 'POST',
		headers: { 'Content-Type': 'application/json', Authorization: 'Bearer ' + token },
		body: JSON.stringify({ text: 'from the curl line' }),
	});
	assertEq(String(res.status), '204', 'the call of the curl line');
	await dlg.getByRole('button', { name: 'Copy curl line' }).click();
	await page.locator('#url-status', { hasText: 'Copied' }).waitFor();
	assertEq(await clipboard(), line, 'clipboard after Copy of the curl line');
	await dlg.getByRole('button', { name: 'Close' }).click();
	await dlg.waitFor({ state: 'hidden' });
});

test('a token reported leaked shows "Reported exposed" and when in the list; calls get 401; ' +
     'enabling it says to rotate it first',
     async () => {
	const res = await fetch(WEBHOOK + '/api/v2/tokens/revoke', {
		method: 'POST',
		headers: { 'Content-Type': 'application/json' },
		body: JSON.stringify(['not a token', secrets.get('token-2')]),
	});
	assertEq(String(res.status), '202', 'the report is accepted');
	await page.reload();
	const note = row('token-2').locator('.disabled-note');
	await note.waitFor();
	assert(/^Reported exposed \(leaked\) (just now|.*ago)$/.test(await note.textContent()),
	       'the reason and the time: ' + await note.textContent());
	assert(/\d{4}-\d\d-\d\dT/.test(await note.getAttribute('title')), 'exact time in the title');
	assertEq(await row('token-2').getByRole('switch').getAttribute('aria-checked'), 'false',
		 'the switch shows it disabled');
	assertEq(await webhook(channelPath(secrets.get('token-2'))), '401 token_disabled',
		 'a call with the exposed token');
	await row('token-2').getByRole('switch').click();
	const notice = page.locator('#notice', { hasText: 'reported leaked' });
	await notice.waitFor();
	assert(/Rotate it \(Rotate…, without a grace period\) before enabling it/.test(
		       await notice.textContent()), 'enabling it says to rotate first');
	assertEq(await row('token-2').getByRole('switch').getAttribute('aria-checked'), 'false',
		 'still disabled');
	await row('token-2').getByRole('button', { name: 'Rotate the secret of token-2' }).click();
	const dlg = page.locator('#dlg-trotate');
	await dlg.waitFor({ state: 'visible' });
	assert(await dlg.getByLabel('1 hour', { exact: true }).isDisabled(),
	       'Rotate… offers no grace period for it');
	assert(/reported leaked, so the leaked secret stops now/.test(
		await page.locator('#trotate-text').textContent()), 'and says why');
	await shot('31-token-exposed');
	await page.keyboard.press('Escape');
	await dlg.waitFor({ state: 'hidden' });
});

/* ---- destinations: a real receiver ---------------------------------------------------------- */

/* The destinations' handler: a real HTTP server that verifies every request with the Standard
 * Webhooks reference library against the secrets the page showed (never hookgate's own code),
 * and answers by its path's first segment: /gone 410, /fail 500, else 204 (200 and a text to
 * a hookgate.ping, so that the test event has first bytes to show). */
const received = [];
const receiverSecrets = new Map(); /* path -> the secrets it accepts */
let RECEIVER;

function verifiedBy(url, headers, body) {
	const out = [];
	(receiverSecrets.get(url) || []).forEach((secret, i) => {
		try {
			new Webhook(secret).verify(body, headers);
			out.push(i);
		} catch (e) {
			/* not signed with this one */
		}
	});
	return out;
}

function startReceiver() {
	const server = http.createServer((req, res) => {
		const chunks = [];
		req.on('data', (c) => chunks.push(c));
		req.on('end', () => {
			const body = Buffer.concat(chunks).toString('utf8');
			received.push({ path: req.url, headers: req.headers, body,
					verified: verifiedBy(req.url, req.headers, body) });
			const kind = req.url.split('/')[1];
			if (kind === 'gone') {
				res.writeHead(410).end('gone for good');
			} else if (kind === 'fail') {
				res.writeHead(500).end('broken on purpose');
			} else if (/hookgate\.ping/.test(body)) {
				res.writeHead(200, { 'Content-Type': 'text/plain' })
					.end('pong from the test receiver');
			} else {
				res.writeHead(204).end();
			}
		});
	});
	return new Promise((resolve) => server.listen(0, '127.0.0.1', () => {
		RECEIVER = 'http://127.0.0.1:' + server.address().port;
		resolve(server);
	}));
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/* Polls fn until it returns something true (deliveries are asynchronous by design). */
async function eventually(what, fn, ms) {
	const end = Date.now() + (ms || 30000);
	for (;;) {
		const v = await fn();
		if (v)
			return v;
		if (Date.now() > end)
			throw new Error('timed out waiting for ' + what);
		await sleep(200);
	}
}

/* A GET of the admin API with the page's session. */
async function adminGet(p) {
	return page.evaluate(async (p) => {
		const r = await fetch('/admin/api' + p, { headers: { Accept: 'application/json' } });
		return r.json();
	}, p);
}

const card = (key) => page.locator('.dest[data-key="' + key + '"]');
const HELPER = 'bot-helper-incoming';
const botPath = (secret) => '/api/v2/bots/helper/incoming?zapikey=' + encodeURIComponent(secret);
const deliveredTo = (p) => received.filter((r) => r.path === p && !/hookgate\.ping/.test(r.body));

async function endpoint(kind, name, slot) {
	const r = await adminGet('/endpoints');
	return r.endpoints.find((e) => e.kind === kind && e.name === name &&
			       (e.for || e.env) === slot);
}

/* Saves a URL in a slot's card; returns the secret shown once (a new destination). */
async function setUrl(key, url) {
	await card(key).getByLabel('Handler URL').fill(url);
	await card(key).getByRole('button', { name: /^Save the URL/ }).click();
	const dlg = page.locator('#dlg-dsecret');
	await dlg.waitFor({ state: 'visible' });
	const secret = await page.locator('#dsecret-value').inputValue();
	assert(/^whsec_[A-Za-z0-9+/]{43}=$/.test(secret), 'a whsec_ secret is shown: ' + secret);
	return secret;
}

async function closeSecret() {
	await page.locator('#dlg-dsecret').getByRole('button', { name: 'Done' }).click();
	await page.locator('#dlg-dsecret').waitFor({ state: 'hidden' });
	assertEq(await page.locator('#dsecret-value').inputValue(), '', 'the secret field is emptied');
}

test('Destinations: every slot of the bot and extension the user owns; a bad URL is refused ' +
     'with a reason', async () => {
	await page.reload();
	await card(HELPER).waitFor();
	for (const key of [HELPER, 'bot-helper-message', 'extension-ext1-sandbox',
			   'extension-ext1-marketplace'])
		assert(/No URL/.test(await card(key).locator('.dest-status').textContent()),
		       key + ' has no URL yet');
	const err = card(HELPER).locator('.error');
	for (const [url, why] of [['ftp://example.com/x', /http:\/\/ or https:\/\//],
				  ['http://user:pw@example.com/x', /user name or password/],
				  ['not a url', /not a URL/]]) {
		await card(HELPER).getByLabel('Handler URL').fill(url);
		await card(HELPER).getByRole('button', { name: /^Save the URL/ }).click();
		await err.waitFor({ state: 'visible' });
		assert(why.test(await err.textContent()), url + ': ' + await err.textContent());
	}
	assertEq(await card(HELPER).getByLabel('Handler URL').getAttribute('aria-invalid'), 'true',
		 'the field is marked invalid');
	await shot('09-destinations');
});

test('set a URL: the signing secret is shown once with a Copy button, then gone', async () => {
	const secret = await setUrl(HELPER, RECEIVER + '/ok/helper');
	await shot('10-destination-secret');
	await page.locator('#dsecret-copy').click();
	await page.locator('#dsecret-status', { hasText: 'Copied' }).waitFor();
	assertEq(await clipboard(), secret, 'clipboard after Copy of the secret');
	await closeSecret();
	receiverSecrets.set('/ok/helper', [secret]);
	assert(/Healthy/.test(await card(HELPER).locator('.dest-status').textContent()), 'healthy');
	await page.reload();
	await card(HELPER).waitFor();
	assert(!(await page.content()).includes(secret), 'the secret is not on the page any more');
	assertEq(await card(HELPER).getByLabel('Handler URL').inputValue(), RECEIVER + '/ok/helper',
		 'the URL is kept');
});

test('Send test event: a signed hookgate.ping the receiver verifies; status, latency and ' +
     'first bytes shown', async () => {
	await card(HELPER).getByRole('button', { name: /^Send a test event/ }).click();
	await page.locator('#test-result').waitFor({ state: 'visible' });
	assertEq(await page.locator('#test-status').textContent(), '200', 'status');
	assert(/^\d+(\.\d+)? ms$/.test(await page.locator('#test-latency').textContent()), 'latency');
	assert(/pong from the test receiver/.test(await page.locator('#test-body').textContent()),
	       'first bytes of the answer');
	const ping = received.find((r) => r.path === '/ok/helper' && /hookgate\.ping/.test(r.body));
	assert(ping, 'the receiver got the ping');
	assertEq(JSON.stringify(ping.verified), '[0]', 'the ping verifies with the secret');
	assertEq(JSON.parse(ping.body).type, 'hookgate.ping', 'event type');
	await shot('11-test-event');
	await page.keyboard.press('Escape');
	await page.locator('#dlg-test').waitFor({ state: 'hidden' });
});

test('a message to the bot is delivered signed; its usage row says Delivered, and a click ' +
     '(and Enter) opens its attempts', async () => {
	assertEq(await webhook(botPath(secrets.get('token-4')), { text: 'to the bot' }), '204',
		 'bot call');
	const got = await eventually('the delivery', () => deliveredTo('/ok/helper')[0]);
	assertEq(JSON.stringify(got.verified), '[0]', 'the delivery verifies with the secret');
	assertEq(got.headers['hookgate-module'], 'bot_incoming', 'hookgate-module');
	assert(/^msg_/.test(got.headers['webhook-id']), 'webhook-id ' + got.headers['webhook-id']);
	const id = ids.get('token-4');
	await eventually('the delivered state', async () => {
		const u = await adminGet('/tokens/' + id + '/usage?limit=1');
		return u.usage[0].delivery && u.usage[0].delivery.state === 'delivered';
	});
	await row('token-4').locator('button.tid').click();
	const first = page.locator('#usage-body tr').first();
	await first.waitFor();
	const state = first.locator('td.delivery');
	assert(/^Delivered .*\(1 attempt\)$/.test(await state.textContent()), await state.textContent());
	await first.locator('td').first().click();
	const dlg = page.locator('#dlg-attempts');
	await dlg.waitFor({ state: 'visible' });
	const cells = page.locator('#attempts-body tr').first().locator('td');
	await cells.first().waitFor();
	assertEq(await cells.nth(1).textContent(), 'Bot helper — incoming handler', 'destination');
	assertEq(await cells.nth(3).textContent(), '1', 'attempt');
	assertEq(await cells.nth(4).textContent(), 'Delivered', 'outcome');
	assertEq(await cells.nth(5).textContent(), '204', 'HTTP status');
	await shot('12-message-attempts');
	await page.keyboard.press('Escape');
	await dlg.waitFor({ state: 'hidden' });
	await state.locator('button').focus();
	await page.keyboard.press('Enter');
	await page.locator('#attempts-body tr').first().waitFor();
	await page.keyboard.press('Escape');
	await dlg.waitFor({ state: 'hidden' });
	await page.keyboard.press('Escape');
	await page.locator('#dlg-usage').waitFor({ state: 'hidden' });
});

test("a destination's attempts, newest first, ten at a time with Load more", async () => {
	for (let i = 0; i < 10; i++)
		assertEq(await webhook(botPath(secrets.get('token-4')), { n: i }), '204', 'call ' + i);
	await eventually('11 deliveries', () => deliveredTo('/ok/helper').length >= 11);
	assert(deliveredTo('/ok/helper').every((r) => r.verified.length === 1), 'all verified');
	const d = await endpoint('bot', 'helper', 'incoming');
	await eventually('11 recorded attempts', async () => (await adminGet(
		'/bots/helper/endpoints/incoming/attempts?limit=200')).attempts.length >= 11);
	await card(HELPER).getByRole('button', { name: /^Delivery attempts/ }).click();
	const dlg = page.locator('#dlg-attempts');
	await page.locator('#attempts-body tr').nth(9).waitFor();
	assertEq(await page.locator('#attempts-body tr').count(), 10, 'first page');
	await shot('13-destination-attempts');
	await dlg.getByRole('button', { name: 'Load more' }).click();
	await page.locator('#attempts-body tr').nth(10).waitFor();
	assert(d.status === 'healthy', 'the destination is healthy: ' + d.status);
	await page.keyboard.press('Escape');
	await dlg.waitFor({ state: 'hidden' });
});

test('rotate the secret after a confirmation: the new one is shown once; during the overlap ' +
     'requests carry both signatures', async () => {
	const old = receiverSecrets.get('/ok/helper')[0];
	await card(HELPER).getByRole('button', { name: /^Rotate the signing secret/ }).click();
	await page.locator('#dlg-rotate').waitFor({ state: 'visible' });
	await page.locator('#rotate-confirm').click();
	await page.locator('#dlg-dsecret').waitFor({ state: 'visible' });
	const secret = await page.locator('#dsecret-value').inputValue();
	assert(/^whsec_/.test(secret) && secret !== old, 'a new secret');
	assert(/24|until/.test(await page.locator('#dsecret-help').textContent()), 'overlap said');
	await closeSecret();
	assert(/previous secret/.test(await card(HELPER).locator('.dest-facts').textContent()),
	       'the card says until when the previous secret signs');
	receiverSecrets.set('/ok/helper', [old, secret]);
	const before = deliveredTo('/ok/helper').length;
	assertEq(await webhook(botPath(secrets.get('token-4')), { after: 'rotation' }), '204', 'call');
	const got = await eventually('the delivery', () => deliveredTo('/ok/helper')[before]);
	assertEq(JSON.stringify(got.verified), '[0,1]', 'verified with the old and the new secret');
	assertEq(got.headers['webhook-signature'].split(' ').length, 2, 'two signatures');
	receiverSecrets.set('/ok/helper', [secret]);
});

test('disable by hand: the switch, the reason, the banner after signing in; enable again',
     async () => {
	await card(HELPER).getByRole('switch').click();
	await card(HELPER).locator('.switch[aria-checked=false]').waitFor();
	assert(/Disabled: disabled by hand/.test(await card(HELPER).locator('.dest-status')
						   .textContent()), 'reason');
	await page.reload();
	await page.locator('#attention').waitFor({ state: 'visible' });
	assert(/Bot helper — incoming handler: Disabled/.test(
		await page.locator('#attention-list').textContent()), 'the banner names it');
	await card(HELPER).getByRole('switch').click();
	await card(HELPER).locator('.switch[aria-checked=true]').waitFor();
	await page.locator('#attention').waitFor({ state: 'hidden' });
});

test('410 Gone disables a destination, another fails: the banner says why and since when; the ' +
     'usage row says Retrying with the next time', async () => {
	receiverSecrets.set('/gone/ext1', [await setUrl('extension-ext1-sandbox',
							 RECEIVER + '/gone/ext1')]);
	await closeSecret();
	receiverSecrets.set('/fail/ext1', [await setUrl('extension-ext1-marketplace',
							 RECEIVER + '/fail/ext1')]);
	await closeSecret();
	const id = ids.get('token-4');
	for (const env of ['sandbox', 'marketplace']) {
		const u = await adminGet('/tokens/' + id +
					 '/webhook-url?module=extension&extension=ext1&env=' + env);
		assertEq(await webhook(u.url, { env }), '204', env + ' call');
	}
	await eventually('the 410', async () => (await endpoint('extension', 'ext1', 'sandbox'))
		.disabled_reason === 'gone');
	await eventually('the failure', async () => (await endpoint('extension', 'ext1',
								      'marketplace')).status === 'failing');
	await page.reload();
	await page.locator('#attention').waitFor({ state: 'visible' });
	const banner = await page.locator('#attention-list').textContent();
	assert(/sandbox: Disabled: the receiver answered 410 Gone/.test(banner), banner);
	assert(/marketplace: Failing since/.test(banner), banner);
	await shot('14-attention-banner');
	await page.locator('#attention-show').click();
	assert(/^extension-ext1-/.test(await page.evaluate(() => document.activeElement.dataset.key)),
	       'Show destinations moves the focus to the first one that needs attention');
	await eventually('the retrying state', async () => {
		const u = await adminGet('/tokens/' + id + '/usage?limit=1');
		return u.usage[0].delivery && u.usage[0].delivery.state === 'retrying';
	});
	await row('token-4').locator('button.tid').click();
	const state = page.locator('#usage-body tr').first().locator('td.delivery');
	await state.waitFor();
	assert(/^Retrying: next attempt .+ \(1 attempt so far\)$/.test(await state.textContent()),
	       await state.textContent());
	await page.keyboard.press('Escape');
	await page.locator('#dlg-usage').waitFor({ state: 'hidden' });
});

test('replay with a date range: over 14 days or reversed is refused in the page; a valid range ' +
     'delivers the messages again with the same webhook-id', async () => {
	await card(HELPER).getByRole('button', { name: /^Replay messages/ }).click();
	const dlg = page.locator('#dlg-replay');
	await dlg.waitFor({ state: 'visible' });
	const until = await page.locator('#replay-until').inputValue();
	const err = page.locator('#replay-error');
	const local = (ms) => new Date(ms - new Date(ms).getTimezoneOffset() * 60000)
		.toISOString().slice(0, 19);
	await page.locator('#replay-since').fill(local(Date.now() - 20 * 86400000));
	await dlg.getByRole('button', { name: 'Replay' }).click();
	assert(/14 days/.test(await err.textContent()), await err.textContent());
	await page.locator('#replay-since').fill(local(Date.parse(until) + 3600000));
	await dlg.getByRole('button', { name: 'Replay' }).click();
	assert(/before the end/.test(await err.textContent()), await err.textContent());
	await page.locator('#replay-since').fill(local(Date.now() - 3600000));
	const before = deliveredTo('/ok/helper');
	await dlg.getByRole('button', { name: 'Replay' }).click();
	await page.locator('#replay-status', { hasText: 'queued' }).waitFor();
	const n = Number((await page.locator('#replay-status').textContent()).split(' ')[0]);
	/* Every message routed there in the range: also those stored before it had a URL. */
	assert(n >= before.length, n + ' messages queued, ' + before.length + ' delivered before');
	await shot('15-replay');
	await page.keyboard.press('Escape');
	await eventually('the replayed deliveries', () => deliveredTo('/ok/helper').length >=
			 before.length + n, 60000);
	const again = deliveredTo('/ok/helper').slice(before.length);
	const ids = new Set(again.map((r) => r.headers['webhook-id']));
	assert(before.every((r) => ids.has(r.headers['webhook-id'])),
	       'each message delivered before comes again with its webhook-id');
	assert(again.every((r) => JSON.stringify(r.verified) === '[0]'), 'signed with the new secret');
});

test('keyboard only: Tab to Send test event, Enter, the result, Escape gives the focus back',
     async () => {
	await page.locator('#logout').focus();
	const want = 'Send a test event to Bot helper — incoming handler';
	for (let i = 0; i < 60; i++) {
		await page.keyboard.press('Tab');
		if (await page.evaluate((w) => document.activeElement.getAttribute('aria-label') === w,
					want))
			break;
	}
	assert(await page.evaluate((w) => document.activeElement.getAttribute('aria-label') === w,
				   want), 'Send test event is reachable with Tab');
	await page.keyboard.press('Enter');
	await page.locator('#test-result').waitFor({ state: 'visible' });
	assert(await page.evaluate(() => document.activeElement.closest('#dlg-test') !== null),
	       'the focus is in the dialog');
	await page.keyboard.press('Escape');
	await page.locator('#dlg-test').waitFor({ state: 'hidden' });
	await page.evaluate(() => new Promise((resolve) => setTimeout(resolve, 100)));
	assert(await page.evaluate((w) => document.activeElement.getAttribute('aria-label') === w,
				   want), 'the focus is back on Send test event');
});

test('phone width (375 px): destinations and attempts fit without horizontal scrolling',
     async () => {
	await page.setViewportSize({ width: 375, height: 812 });
	await card(HELPER).scrollIntoViewIfNeeded();
	assert(await page.evaluate(() => document.documentElement.scrollWidth) <= 375, 'page width');
	await shot('16-phone-destinations');
	await card(HELPER).getByRole('button', { name: /^Delivery attempts/ }).click();
	await page.locator('#attempts-body tr').first().waitFor();
	const fits = await page.locator('#dlg-attempts').evaluate((d) => d.scrollWidth <= d.clientWidth);
	assert(fits, 'the attempts dialog fits');
	await shot('17-phone-attempts');
	await page.keyboard.press('Escape');
	await page.setViewportSize({ width: 1280, height: 800 });
});

/* ---- a token's lifecycle: expiry, rotation with a grace period, limits (token-life.js) ------ */

const HOUR_MS = 3600 * 1000;

/* The value of a datetime-local input ms from now, in the browser's time zone. */
async function localTime(ms) {
	return page.evaluate((ms) => {
		const d = new Date(Date.now() + ms);
		const p = (n) => String(n).padStart(2, '0');
		return d.getFullYear() + '-' + p(d.getMonth() + 1) + '-' + p(d.getDate()) + 'T' +
			p(d.getHours()) + ':' + p(d.getMinutes()) + ':' + p(d.getSeconds());
	}, ms);
}

async function openLimits(name) {
	await row(name).getByRole('button', { name: 'Expiry and limits of ' + name }).click();
	const dlg = page.locator('#dlg-limits');
	await dlg.waitFor({ state: 'visible' });
	return dlg;
}

async function saveLimits(dlg) {
	await dlg.getByRole('button', { name: 'Save', exact: true }).click();
	await dlg.waitFor({ state: 'hidden' });
}

async function rotate(name, choice) {
	await row(name).getByRole('button', { name: 'Rotate the secret of ' + name }).click();
	const dlg = page.locator('#dlg-trotate');
	await dlg.waitFor({ state: 'visible' });
	if (choice)
		await dlg.getByLabel(choice, { exact: true }).check();
	await dlg.getByRole('button', { name: 'Rotate', exact: true }).click();
	await page.locator('#dlg-secret').waitFor({ state: 'visible' });
	return page.locator('#secret-value').inputValue();
}

test('Generate New Token with an expiry in 3 days: a past one is refused in the page; the list ' +
     'flags it as expiring within 7 days; it works (204)', async () => {
	await page.getByRole('button', { name: 'Generate New Token' }).click();
	const dlg = page.locator('#dlg-create');
	await dlg.getByLabel('Name').fill('life-1');
	await dlg.getByLabel('Expires (optional)').fill(await localTime(-HOUR_MS));
	await dlg.getByRole('button', { name: 'Generate' }).click();
	await page.locator('#create-error', { hasText: 'must be in the future' }).waitFor();
	await dlg.getByLabel('Expires (optional)').fill(await localTime(73 * HOUR_MS));
	await dlg.getByRole('button', { name: 'Generate' }).click();
	await page.locator('#dlg-secret').waitFor({ state: 'visible' });
	secrets.set('life-1', await page.locator('#secret-value').inputValue());
	await page.locator('#dlg-secret').getByRole('button', { name: 'Done' }).click();
	await row('life-1').waitFor();
	ids.set('life-1', await row('life-1').locator('button.tid').textContent());
	const exp = row('life-1').locator('.life-expiry');
	assertEq(await exp.textContent(), 'Expires in 3 days (within 7 days)', 'the expiry');
	assert(await exp.evaluate((e) => e.classList.contains('soon')), 'flagged as expiring soon');
	assert(/\d{4}-\d\d-\d\dT/.test(await exp.getAttribute('title')), 'exact time in the title');
	assertEq(await row('life-1').locator('.life-gen').textContent(), 'Secret generation 1',
		 'generation');
	assertEq(await row('ci-pipeline').locator('.life-expiry').textContent(), 'No expiry',
		 'a token without expiry');
	assertEq(await webhook(channelPath(secrets.get('life-1'))), '204', 'a call');
	const wrap = await page.locator('#tokens-table').evaluate((t) => [
		t.parentElement.scrollWidth, t.parentElement.clientWidth]);
	assert(wrap[0] <= wrap[1], 'the list fits at 1280 px without scrolling: ' + wrap);
	await shot('18-token-expiring-soon');
});

test('Rotate… with a 1 hour grace after a confirmation: the new secret shown once with Copy; ' +
     'both secrets work during the grace; without grace the previous one is refused (401)',
     async () => {
	const old = secrets.get('life-1');
	await row('life-1').getByRole('button', { name: 'Rotate the secret of life-1' }).click();
	const dlg = page.locator('#dlg-trotate');
	await dlg.waitFor({ state: 'visible' });
	await dlg.getByLabel('Other duration').fill('8d');
	await dlg.getByRole('button', { name: 'Rotate', exact: true }).click();
	await page.locator('#trotate-error', { hasText: 'at most 7 days' }).waitFor();
	await dlg.getByLabel('1 hour', { exact: true }).check();
	await shot('19-token-rotate');
	await dlg.getByRole('button', { name: 'Rotate', exact: true }).click();
	const sdlg = page.locator('#dlg-secret');
	await sdlg.waitFor({ state: 'visible' });
	assertEq(await sdlg.locator('h2').textContent(), 'New secret of “life-1” (generation 2)',
		 'the title');
	const fresh = await page.locator('#secret-value').inputValue();
	assert(/^hgt_[0-9A-Za-z]+$/.test(fresh) && fresh !== old, 'a new secret: ' + fresh);
	assert(/keeps working until/.test(await page.locator('#secret-help').textContent()),
	       'the dialog says until when the previous secret works');
	await page.locator('#secret-copy').click();
	await page.locator('#secret-status', { hasText: 'Copied' }).waitFor();
	assertEq(await clipboard(), fresh, 'clipboard after Copy of the new secret');
	await shot('20-token-rotated-secret');
	await sdlg.getByRole('button', { name: 'Done' }).click();
	await sdlg.waitFor({ state: 'hidden' });
	assertEq(await page.locator('#secret-value').inputValue(), '', 'the secret left the page');
	assertEq(await webhook(channelPath(old)), '204', 'the previous secret during the grace');
	assertEq(await webhook(channelPath(fresh)), '204', 'the new secret');
	assertEq(await row('life-1').locator('button.tid').textContent(), ids.get('life-1'),
		 'the id stays');
	assertEq(await row('life-1').locator('.life-gen').textContent(), 'Secret generation 2',
		 'generation');
	assert(/^Previous secret valid until ./.test(
		await row('life-1').locator('.life-grace').textContent()), 'the grace is shown');
	const third = await rotate('life-1', null); /* the dialog's default: no grace */
	assert(/no longer works/.test(await page.locator('#secret-help').textContent()),
	       'the dialog says the previous secret no longer works');
	await page.keyboard.press('Escape');
	await page.locator('#dlg-secret').waitFor({ state: 'hidden' });
	assertEq(await webhook(channelPath(fresh)), '401 token_invalid', 'the previous secret');
	assertEq(await webhook(channelPath(third)), '204', 'the newest secret');
	assertEq(await row('life-1').locator('.life-gen').textContent(), 'Secret generation 3',
		 'generation');
	assertEq(await row('life-1').locator('.life-grace').count(), 0, 'no grace shown');
	secrets.set('life-1', third);
});

test('Limits…: values the API refuses are explained next to their field; a network elsewhere ' +
     'refuses calls (403 forbidden_source), a target elsewhere too (403 forbidden); shown after ' +
     'a reload; removed, calls work again', async () => {
	const secret = secrets.get('life-1');
	let dlg = await openLimits('life-1');
	await dlg.getByLabel(/^Networks/).fill('10.0.0.1/8');
	await dlg.getByRole('button', { name: 'Save', exact: true }).click();
	const nerr = page.locator('#limits-networks-error');
	await nerr.waitFor({ state: 'visible' });
	assert(/^Invalid cidr value.*host bits zero/.test(await nerr.textContent()),
	       'the API says why, the page how: ' + await nerr.textContent());
	assert(await page.locator('#limits-targets-error').isHidden(), 'no error at Targets');
	await shot('21-token-limits-error');
	await dlg.getByLabel(/^Networks/).fill('10.0.0.0/8\n192.0.2.0/24');
	await saveLimits(dlg);
	await row('life-1').locator('.life-networks', { hasText: '10.0.0.0/8, 192.0.2.0/24' }).waitFor();
	assertEq(await webhook(channelPath(secret)), '403 forbidden_source', 'a call from 127.0.0.1');

	dlg = await openLimits('life-1');
	await dlg.getByLabel(/^Networks/).fill('127.0.0.0/8');
	await dlg.getByLabel(/^Targets/).fill('room:general');
	await dlg.getByRole('button', { name: 'Save', exact: true }).click();
	const terr = page.locator('#limits-targets-error');
	await terr.waitFor({ state: 'visible' });
	assert(/channel:NAME/.test(await terr.textContent()), 'the API says why: ' +
	       await terr.textContent());
	await dlg.getByLabel(/^Targets/).fill('channel:elsewhere\nbot:helper');
	await saveLimits(dlg);
	/* A wider network reaches the webhook workers' caches by NOTIFY: milliseconds. */
	await eventually('the wider network', async () =>
		await webhook(channelPath(secret)) === '403 forbidden');
	await page.reload();
	await row('life-1').locator('.life-networks', { hasText: 'Networks: 127.0.0.0/8' }).waitFor();
	assertEq(await row('life-1').locator('.life-targets').textContent(),
		 'Targets: channel:elsewhere, bot:helper', 'the targets after a reload');
	await shot('22-token-limits');
	dlg = await openLimits('life-1');
	assertEq(await dlg.getByLabel(/^Targets/).inputValue(), 'channel:elsewhere\nbot:helper',
		 'the form shows the targets');
	await dlg.getByLabel(/^Networks/).fill('');
	await dlg.getByLabel(/^Targets/).fill('');
	await saveLimits(dlg);
	await eventually('no limits', async () => await webhook(channelPath(secret)) === '204');
	await row('life-1').locator('.life-networks').waitFor({ state: 'detached' });
	assertEq(await row('life-1').locator('.life-targets').count(), 0, 'no targets shown');
});

test('Limits…: an expiry a few seconds ahead; once past, the list marks the token Expired and ' +
     'calls get 401 token_expired; No expiry makes it work again', async () => {
	const secret = secrets.get('life-1');
	let dlg = await openLimits('life-1');
	await dlg.getByLabel('Expires', { exact: true }).fill(await localTime(-60000));
	await dlg.getByRole('button', { name: 'Save', exact: true }).click();
	await page.locator('#limits-expires-error', { hasText: 'must be in the future' }).waitFor();
	await dlg.getByLabel('Expires', { exact: true }).fill(await localTime(4000));
	await saveLimits(dlg);
	await eventually('the expiry', async () =>
		await webhook(channelPath(secret)) === '401 token_expired', 15000);
	await page.reload();
	const exp = row('life-1').locator('.life-expiry.expired');
	await exp.waitFor();
	assert(/^Expired /.test(await exp.textContent()), 'marked: ' + await exp.textContent());
	await shot('23-token-expired');
	dlg = await openLimits('life-1');
	await dlg.getByRole('button', { name: 'No expiry' }).click();
	await saveLimits(dlg);
	await eventually('no expiry', async () => await webhook(channelPath(secret)) === '204');
	await row('life-1').locator('.life-expiry', { hasText: 'No expiry' }).waitFor();
});

test('keyboard and phone width: Enter on Limits… puts the focus in Expires, Escape gives it ' +
     'back; at 390 px the list with its new column fits', async () => {
	const limits = row('life-1').getByRole('button', { name: 'Expiry and limits of life-1' });
	await limits.focus();
	await page.keyboard.press('Enter');
	await page.locator('#dlg-limits').waitFor({ state: 'visible' });
	assertEq(await page.evaluate(() => document.activeElement.id), 'limits-expires', 'focus');
	await page.keyboard.press('Escape');
	await page.locator('#dlg-limits').waitFor({ state: 'hidden' });
	await page.evaluate(() => new Promise((resolve) => setTimeout(resolve, 100)));
	assert(await limits.evaluate((b) => b === document.activeElement), 'focus back on Limits…');
	await phoneListFits('life-1', '.life-expiry', '24-phone-token-life', async () => {
		const box = await row('life-1').getByRole('button', { name: /^Delete/ }).boundingBox();
		assert(box && box.x + box.width <= 390, 'Delete within the screen: ' +
		       JSON.stringify(box));
	});
});

/* ---- oversight: last use, disabled users, the Organisation and Audit views (web/org.js) ----- */

const ADMIN_USER = env('HG_ADMIN_USER'), ADMIN_PASSWORD = env('HG_ADMIN_PASSWORD');
/* How many tokens USER holds when the oversight cases start (the cases above make and delete
 * some): what the administrator's Organisation view must list for that owner. */
let ownTokens = 0;
const DISABLED_USER = env('HG_DISABLED_USER'), DISABLED_PASSWORD = env('HG_DISABLED_PASSWORD');

/* The time of each audit row, from the exact time in its title: "… (2026-01-02T…Z)". */
async function auditTimes() {
	const titles = await page.locator('#audit-body td[data-label="Time"] span')
		.evaluateAll((spans) => spans.map((s) => s.title));
	return titles.map((t) => Date.parse(/\(([^)]+)\)$/.exec(t)[1]));
}

/* The first page of the audit log, then "Older events": more rows, still newest first. */
async function pageAudit() {
	await page.getByRole('button', { name: 'Audit', exact: true }).click();
	const rows = page.locator('#audit-body tr');
	await rows.first().waitFor();
	assertEq(await rows.count(), 20, 'rows of the first page');
	await page.getByRole('button', { name: 'Older events' }).click();
	await page.waitForFunction(() => document.querySelectorAll('#audit-body tr').length > 20);
	const times = await auditTimes();
	for (let i = 1; i < times.length; i++)
		assert(times[i] <= times[i - 1], 'newest first, row ' + i);
}

test('the token list shows where each token was last used from: address, user agent and when',
     async () => {
	await page.goto(ADMIN + '/admin/');
	await row('token-4').waitFor();
	const res = await fetch(WEBHOOK + channelPath(secrets.get('token-4')), {
		method: 'POST',
		headers: { 'Content-Type': 'application/json', 'User-Agent': 'org-test-agent/1.0' },
		body: JSON.stringify({ text: 'where from' }),
	});
	assertEq(res.status, 204, 'the call');
	/* An expiry in 3 days, for the Organisation view's "expiring" filter below. */
	const put = await page.evaluate(async ([id, at]) => (await fetch(
		'/admin/api/tokens/' + id + '/limits', {
			method: 'PUT',
			headers: { 'Content-Type': 'application/json',
				   'X-CSRF-Token': sessionStorage.getItem('hookgate.csrf') },
			body: JSON.stringify({ expires_at: at }),
		})).status, [ids.get('token-4'), new Date(Date.now() + 3 * 86400000).toISOString()]);
	assertEq(put, 200, 'token-4 expires in 3 days');
	await page.reload();
	const last = row('token-4').locator('td.last-use');
	await last.waitFor();
	assertEq(await page.locator('#th-last-from').textContent(), 'Last used from', 'the column');
	assertEq(await last.locator('.addr').textContent(), '127.0.0.1', 'client address');
	assertEq(await last.locator('.ua').textContent(), 'org-test-agent/1.0', 'user agent');
	assert(/just now|minute/.test(await last.locator('.when').textContent()), 'when');
	assert(/\d{4}-\d\d-\d\dT/.test(await last.locator('.when').getAttribute('title')),
	       'the exact time on hover');
	assert(await page.locator('#views [data-view="screen-org"]').isHidden(),
	       'no Organisation view for a user who is not an administrator');
	ownTokens = await page.locator('#tokens-body tr').count();
	await shot('25-last-used-from');
});

test("Audit (a user): only their own events, newest first, paged with Older events", async () => {
	await pageAudit();
	const users = await page.locator('#audit-body td[data-label="User"]').allTextContents();
	assert(users.every((u) => u === USER), 'only ' + USER + "'s events: " + users.join(', '));
	await shot('26-audit');
	await page.getByRole('button', { name: 'My tokens' }).click();
	await page.locator('#screen-tokens').waitFor({ state: 'visible' });
});

test('a disabled user signs in with the right password: a clear message, no session', async () => {
	await page.getByRole('button', { name: 'Sign out' }).click();
	await page.locator('#screen-signin').waitFor({ state: 'visible' });
	await page.getByLabel('Login').fill(DISABLED_USER);
	await page.getByLabel('Password').fill(DISABLED_PASSWORD);
	await page.getByRole('button', { name: 'Sign in' }).click();
	const notice = page.locator('#notice', { hasText: 'disabled' });
	await notice.waitFor();
	assert(/^This account is disabled: it cannot sign in\. Ask an administrator/.test(
		       await notice.textContent()),
	       'the message: ' + await notice.textContent());
	assert(await page.locator('#screen-signin').isVisible(), 'still the sign-in form');
	assert(await page.locator('#views').isHidden(), 'no views offered');
	await shot('27-disabled-user');
});

const orgRow = (name) => page.locator('#org-body tr').filter({
	has: page.locator('.org-name', { hasText: new RegExp('^' + name + '$') }),
});

/* Fills the Organisation filters, searches and waits for the list to hold `rows` rows. */
async function orgSearch(filters, rows) {
	const f = Object.assign({ q: '', owner: '', status: '', unused: '', expiring: '' }, filters);
	await page.getByLabel('Search').fill(f.q);
	await page.getByLabel('Owner').fill(f.owner);
	await page.locator('#org-status').selectOption(f.status);
	await page.getByLabel('Unused for (days)').fill(f.unused);
	await page.locator('#org-expiring').selectOption(f.expiring);
	await page.locator('#form-org').getByRole('button', { name: 'Search' }).click();
	await page.waitForFunction((n) => {
		const c = document.getElementById('org-count').textContent;
		return n === 0 ? /^No token/.test(c) : new RegExp('^' + n + ' tokens?\\.').test(c);
	}, rows);
	return page.locator('#org-body tr').count();
}

async function orgConfirm(label) {
	const dlg = page.locator('#dlg-org-confirm');
	await dlg.waitFor({ state: 'visible' });
	assert(new RegExp(USER).test(await dlg.locator('#org-confirm-text').textContent()),
	       'the confirmation names the owner');
	await dlg.getByRole('button', { name: label, exact: true }).click();
	await dlg.waitFor({ state: 'hidden' });
}

test("an administrator's Organisation view: every user's tokens, no secrets; search and " +
     'filters; disable (the next call gets 401), enable, usage history, delete', async () => {
	await firstSignIn(ADMIN_USER, ADMIN_PASSWORD);
	await page.getByRole('button', { name: 'Organisation' }).click();
	await page.locator('#org-body tr').first().waitFor();
	assertEq(await orgRow('token-3').count(), 1, "alice's token-3 is listed");
	assert(!/hgt_/.test(await page.locator('#screen-org').innerHTML()), 'no secret in the view');
	assertEq(await page.locator('#org-body').getByRole('button', { name: /copy|url/i }).count(),
		 0, "no Copy and no webhook URL for others' tokens");
	assertEq(await orgSearch({ q: 'TOKEN-3' }, 1), 1, 'search (ignoring case)');
	assertEq(await orgSearch({ owner: USER, status: 'disabled' }, 1), 1, 'owner and status');
	assertEq(await orgRow('token-2').count(), 1, 'the disabled one is token-2');
	assertEq(await orgSearch({ expiring: 'soon' }, 1), 1, 'expiring within 7 days');
	assertEq(await orgRow('token-4').count(), 1, 'the expiring one is token-4');
	assertEq(await orgSearch({ unused: '1' }, 0), 0, 'none unused for a day');
	await orgSearch({ owner: USER }, ownTokens);
	await shot('28-organisation');

	await orgRow('token-3').getByRole('button', { name: /^Disable token/ }).click();
	await orgConfirm('Disable');
	await orgRow('token-3').getByRole('button', { name: /^Enable token/ }).waitFor();
	assertEq(await webhook(channelPath(secrets.get('token-3'))), '401 token_disabled',
		 'a call with the token an administrator disabled');
	await orgRow('token-3').getByRole('button', { name: /^Usage history/ }).click();
	const first = page.locator('#usage-body tr').first();
	await first.waitFor();
	assertEq(await first.locator('td[data-label="Status"]').textContent(), '401',
		 'the usage history shows the refused call');
	await page.keyboard.press('Escape');
	await page.locator('#dlg-usage').waitFor({ state: 'hidden' });
	await orgRow('token-3').getByRole('button', { name: /^Enable token/ }).click();
	await orgConfirm('Enable');
	await orgRow('token-3').getByRole('button', { name: /^Disable token/ }).waitFor();
	assertEq(await webhook(channelPath(secrets.get('token-3'))), '204', 'enabled again');

	await orgRow('token-2').getByRole('button', { name: /^Delete token/ }).click();
	await orgConfirm('Delete');
	await orgRow('token-2').waitFor({ state: 'detached' });
	assert(/^401 /.test(await webhook(channelPath(secrets.get('token-2')))),
	       'a call with the deleted token is refused');

	await page.setViewportSize({ width: 390, height: 800 });
	assert(await page.evaluate(() => document.documentElement.scrollWidth) <= 390, 'page width');
	await shot('29-phone-organisation');
	await page.setViewportSize({ width: 1280, height: 800 });
});

test("Audit (an administrator): everyone's events, an administrator's change named, paged",
     async () => {
	await pageAudit();
	const users = await page.locator('#audit-body td[data-label="User"]').allTextContents();
	assert(users.includes(ADMIN_USER) && users.includes(USER), 'several users: ' + users);
	const change = page.locator('#audit-body tr', { hasText: 'token.disable' }).first();
	assertEq(await change.locator('td[data-label="User"]').textContent(), USER, 'the owner');
	assertEq(await change.locator('td[data-label="By"]').textContent(),
		 ADMIN_USER + ' (administrator)', 'the administrator who did it');
	await shot('30-audit-admin');
});

test('2FA session expiry (ttl 10 s): the next action leads back to sign-in and the code step',
     async () => {
	await page.goto(ADMIN_SHORT + '/admin/');
	const secret = await firstSignIn(USER2, PASSWORD2);
	await page.locator('#countdown', { hasText: 'Session expired' }).waitFor({ timeout: 20000 });
	await page.getByRole('button', { name: 'Generate New Token' }).click();
	await page.locator('#dlg-create').getByLabel('Name').fill('late');
	await page.locator('#dlg-create').getByRole('button', { name: 'Generate' }).click();
	await page.locator('#screen-signin').waitFor({ state: 'visible' });
	assert(/expired/.test(await page.locator('#signin-message').textContent()),
	       'the sign-in screen says the session expired');
	assertEq(await page.getByLabel('Login').inputValue(), USER2, 'the login is kept');
	await page.getByLabel('Password').fill(PASSWORD2);
	await page.getByRole('button', { name: 'Sign in' }).click();
	await page.locator('#screen-code').waitFor({ state: 'visible' });
	await page.locator('#screen-code').getByLabel('Code').fill(await nextCode(secret));
	await page.getByRole('button', { name: 'Verify' }).click();
	await page.locator('#screen-tokens').waitFor({ state: 'visible' });
	await page.locator('#tokens-empty').waitFor({ state: 'visible' });
});

test('no Content-Security-Policy violation was reported by the browser', async () => {
	assert(cspViolations.length === 0, cspViolations.join('\n'));
});

/* ---- main ----------------------------------------------------------------------------------- */

async function main() {
	fs.mkdirSync(SHOTS, { recursive: true });
	for (const f of fs.readdirSync(SHOTS).filter((f) => /^failed-\d+\.png$/.test(f)))
		fs.unlinkSync(path.join(SHOTS, f));
	const receiver = await startReceiver();
	console.log('1..' + cases.length);
	context = await chromium.launchPersistentContext(PROFILE, {
		executablePath: CHROMIUM,
		headless: true,
		args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
		       '--disable-background-networking', '--disable-component-update',
		       '--disable-sync'],
		viewport: { width: 1280, height: 800 },
	});
	for (const origin of [ADMIN, ADMIN_SHORT])
		await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin });
	page = context.pages()[0] || await context.newPage();
	page.setDefaultTimeout(10000);
	page.on('console', (msg) => {
		if (/Content Security Policy|Refused to/.test(msg.text()))
			cspViolations.push(msg.text());
	});
	page.on('pageerror', (err) => cspViolations.push('page error: ' + err.message));
	let failed = 0, n = 0;
	for (const c of cases) {
		n++;
		try {
			await c.fn();
			console.log('ok ' + n + ' - ' + c.name);
		} catch (err) {
			failed++;
			console.log('not ok ' + n + ' - ' + c.name);
			diag(err.stack || String(err));
			await shot('failed-' + n).catch(() => {});
			/* A dialog left open would block the cases that follow. */
			await page.evaluate(() => {
				for (const d of document.querySelectorAll('dialog[open]'))
					d.close();
			}).catch(() => {});
		}
	}
	await context.close();
	receiver.close();
	return failed;
}

main().then((failed) => process.exit(failed ? 1 : 0), (err) => {
	console.log('Bail out! ' + String(err && err.message || err).split('\n')[0]);
	diag(err.stack || String(err));
	process.exit(1);
});
