/* SPDX-License-Identifier: Apache-2.0 */
/* hookgate dashboard, a token's lifecycle (docs/dashboard.md; the API in docs/api-admin.md,
 * "Token lifecycle"): the "Expiry and limits" column of the token list, the Rotate… action with
 * its grace period and the new secret shown once, the optional expiry at creation, and the
 * Limits… dialog (expiry, networks, targets). Loaded after app.js, whose window.hookgate gives
 * the API helpers and calls this module's hooks; like app.js, it sets server text with
 * textContent only. */
'use strict';

(function () {
	const hg = window.hookgate;
	const $ = (id) => document.getElementById(id);
	const el = hg.el;
	const DAY_MS = 86400 * 1000;
	const GRACE_MAX_MS = 7 * DAY_MS;
	const LIST_MAX = 16;
	const state = { rotate: null, limits: null };

	/* ---- the list ----------------------------------------------------------------------------- */

	/* "in 3 days", "in 5 hours": the time left until a future instant. */
	function timeLeft(iso) {
		const s = (Date.parse(iso) - Date.now()) / 1000;
		const fmt = new Intl.RelativeTimeFormat('en', { numeric: 'auto' });
		if (s < 3600)
			return fmt.format(Math.max(1, Math.round(s / 60)), 'minute');
		if (s < 2 * 86400)
			return fmt.format(Math.round(s / 3600), 'hour');
		return fmt.format(Math.round(s / 86400), 'day');
	}

	/* Expired (marked), expiring within 7 days (flagged, as the API's expiring_soon says),
	 * later, or never. */
	function expiryLine(t) {
		if (!t.expires_at)
			return el('span', { className: 'life-expiry' }, 'No expiry');
		const cls = 'life-expiry' + (t.expired ? ' expired' : t.expiring_soon ? ' soon' : '');
		const text = t.expired ? 'Expired ' + hg.relativeTime(t.expires_at) :
			'Expires ' + timeLeft(t.expires_at) +
			(t.expiring_soon ? ' (within 7 days)' : '');
		return el('span', { className: cls, title: hg.exactTime(t.expires_at) }, text);
	}

	function lifeCell(t) {
		const box = el('div', { className: 'life' });
		box.append(expiryLine(t));
		box.append(el('span', { className: 'life-gen' }, 'Secret generation ' + t.generation));
		if (t.previous_until && Date.parse(t.previous_until) > Date.now())
			box.append(el('span', { className: 'life-grace', title: hg.exactTime(t.previous_until) },
				      'Previous secret valid until ' + hg.when(t.previous_until)));
		if (t.networks)
			box.append(el('span', { className: 'life-networks' },
				      'Networks: ' + t.networks.join(', ')));
		if (t.targets)
			box.append(el('span', { className: 'life-targets' },
				      'Targets: ' + t.targets.join(', ')));
		return hg.cell('Expiry and limits', box, 'life-cell');
	}

	function rowButton(text, label, fn) {
		const b = el('button', { type: 'button' }, text);
		b.setAttribute('aria-label', label);
		b.addEventListener('click', fn);
		return b;
	}

	function onTokenRow(tr, t) {
		const actions = tr.querySelector('td.actions-cell');
		tr.insertBefore(lifeCell(t), actions);
		const box = actions.querySelector('.row-actions');
		const rotate = rowButton('Rotate…', 'Rotate the secret of ' + t.name,
					 () => askRotate(t));
		rotate.classList.add('rotate');
		const limits = rowButton('Limits…', 'Expiry and limits of ' + t.name,
					 () => askLimits(t));
		limits.classList.add('limits');
		box.insertBefore(limits, box.querySelector('.delete'));
		box.insertBefore(rotate, limits);
	}

	/* ---- times -------------------------------------------------------------------------------- */

	/* An ISO time as the value of a datetime-local input, in this browser's time zone. */
	function localInput(iso) {
		if (!iso)
			return '';
		const d = new Date(iso);
		const p = (n) => String(n).padStart(2, '0');
		return d.getFullYear() + '-' + p(d.getMonth() + 1) + '-' + p(d.getDate()) + 'T' +
			p(d.getHours()) + ':' + p(d.getMinutes()) + ':' + p(d.getSeconds());
	}

	/* A datetime-local value as an ISO time: { iso } (null when empty) or { problem }. */
	function expiryValue(input) {
		if (!input.value)
			return { iso: null };
		const at = new Date(input.value).getTime();
		if (isNaN(at))
			return { problem: 'Enter a date and a time, or leave the field empty.' };
		if (at <= Date.now())
			return { problem: 'The expiry must be in the future.' };
		return { iso: new Date(at).toISOString() };
	}

	/* ---- creation ----------------------------------------------------------------------------- */

	function onCreateBody(body) {
		const v = expiryValue($('create-expires'));
		hg.showError($('create-error'), v.problem);
		if (v.problem) {
			$('create-expires').focus();
			return false;
		}
		if (v.iso)
			body.expires_at = v.iso;
		return true;
	}

	/* ---- rotation ----------------------------------------------------------------------------- */

	const DURATION_MS = { '': 1000, ms: 1, s: 1000, m: 60000, h: 3600000, d: DAY_MS };

	/* The grace chosen, as the API takes it ("24h"): { grace } or { problem }. The units are
	 * those of the configuration file's durations. */
	function graceValue() {
		const choice = document.querySelector('#form-trotate input[name=grace]:checked').value;
		if (choice !== 'other')
			return { grace: choice };
		const text = $('trotate-other').value.trim().replace(/\s+/g, '');
		const m = /^(\d{1,12})(ms|s|m|h|d)?$/.exec(text);
		if (!m)
			return { problem: 'A duration is a number with ms, s, m, h or d, e.g. 90m or 3d.' };
		if (Number(m[1]) * DURATION_MS[m[2] || ''] > GRACE_MAX_MS)
			return { problem: 'The grace period is at most 7 days.' };
		return { grace: text };
	}

	function askRotate(t) {
		state.rotate = t;
		/* A leaked secret must stop at once: the API refuses a grace for an exposed token. */
		const exposed = t.disabled_reason === 'exposed';
		$('trotate-text').textContent = 'A new secret for “' + t.name + '” (' + t.id + '): its ' +
			'id, name, status, counters and history stay. ' + (exposed ?
			'It was reported leaked, so the leaked secret stops now; the token stays ' +
			'disabled until you enable it.' :
			'Integrations must switch to the new secret before the previous one stops ' +
			'working.');
		for (const r of document.querySelectorAll('#form-trotate input[name=grace]'))
			r.disabled = exposed && r.value !== '0';
		$('trotate-other').disabled = exposed;
		document.querySelector('#form-trotate input[name=grace][value="0"]').checked = true;
		$('trotate-other').value = '';
		hg.showError($('trotate-error'), '');
		hg.openDialog($('dlg-trotate'), $('dlg-trotate').querySelector('.close'));
	}

	async function onRotate(ev) {
		ev.preventDefault();
		const v = graceValue();
		const err = $('trotate-error');
		hg.showError(err, v.problem);
		if (v.problem) {
			$('trotate-other').focus();
			return;
		}
		const t = state.rotate;
		const r = await hg.act(() => hg.api('POST', '/tokens/' + t.id + '/rotate',
						    { grace: v.grace }), (text) => hg.showError(err, text));
		if (!r)
			return;
		$('dlg-trotate').close();
		await hg.loadTokens();
		showSecret(t, r.token);
	}

	/* The new secret in the dialog that shows a created token's (app.js clears its value when
	 * it closes), with this dialog's own title and text until then. */
	function showSecret(t, tok) {
		const title = $('dlg-secret-title'), help = $('secret-help');
		const texts = [title.textContent, help.textContent];
		title.textContent = 'New secret of “' + t.name + '” (generation ' + tok.generation + ')';
		help.textContent = (tok.previous_until ? 'The previous secret keeps working until ' +
			hg.when(tok.previous_until) + '.' : 'The previous secret no longer works.') +
			' Copy the new one now into your integrations; you can copy it again later from ' +
			'the list.';
		$('secret-value').value = tok.secret;
		$('secret-status').textContent = '';
		$('dlg-secret').addEventListener('close', () => {
			[title.textContent, help.textContent] = texts;
		}, { once: true });
		hg.openDialog($('dlg-secret'), $('secret-copy'));
	}

	/* ---- limits ------------------------------------------------------------------------------- */

	const listText = (list) => (list || []).join('\n');

	/* A textarea's lines (commas also separate), or null when empty: no limit. */
	function listValue(textarea) {
		const items = textarea.value.split(/[\s,]+/).filter((s) => s !== '');
		return items.length ? items : null;
	}

	function limitErrors(text) {
		for (const f of ['expires', 'networks', 'targets', '']) {
			const msg = text && text[f];
			hg.showError($('limits' + (f ? '-' + f : '') + '-error'), msg);
			if (f)
				$('limits-' + f).setAttribute('aria-invalid', String(!!msg));
		}
	}

	function askLimits(t) {
		state.limits = t;
		$('dlg-limits-title').textContent = 'Expiry and limits of “' + t.name + '”';
		$('limits-expires').value = localInput(t.expires_at);
		$('limits-networks').value = listText(t.networks);
		$('limits-targets').value = listText(t.targets);
		limitErrors(null);
		hg.openDialog($('dlg-limits'), $('limits-expires'));
	}

	/* Only what changed is sent: each change is audited with its old and new values. */
	function limitChanges(t) {
		const body = {}, problems = {};
		/* An expiry left as it was is not sent, even when it is already past. */
		if ($('limits-expires').value !== localInput(t.expires_at)) {
			const exp = expiryValue($('limits-expires'));
			if (exp.problem)
				problems.expires = exp.problem;
			else
				body.expires_at = exp.iso;
		}
		for (const f of ['networks', 'targets']) {
			const list = listValue($('limits-' + f));
			if (list && list.length > LIST_MAX)
				problems[f] = 'At most ' + LIST_MAX + ' ' + f + '.';
			else if (listText(list) !== listText(t[f]))
				body[f] = list;
		}
		return { body, problems };
	}

	/* PostgreSQL's message says what is wrong with a CIDR, not how it should be. */
	const HINTS = { networks: ' A network is an address and a prefix length, with the host ' +
		'bits zero: 10.0.0.0/8, 2001:db8::/32.' };

	const sentence = (t) => t.charAt(0).toUpperCase() + t.slice(1) + (/[.!?]$/.test(t) ? '' : '.');

	/* Which field a 400 of the API is about, from its message (PostgreSQL's, for a CIDR). */
	function errorField(message) {
		if (/cidr|network/i.test(message))
			return 'networks';
		if (/target/i.test(message))
			return 'targets';
		if (/expires|lifetime/i.test(message))
			return 'expires';
		return '';
	}

	async function onLimits(ev) {
		ev.preventDefault();
		const t = state.limits;
		const { body, problems } = limitChanges(t);
		limitErrors(problems);
		const bad = Object.keys(problems)[0];
		if (bad) {
			$('limits-' + bad).focus();
			return;
		}
		if (Object.keys(body).length === 0) {
			$('dlg-limits').close();
			hg.notify('Nothing changed for “' + t.name + '”.', true);
			return;
		}
		const r = await hg.act(() => hg.api('PUT', '/tokens/' + t.id + '/limits', body),
				       (text, err) => {
			const f = err.status === 400 ? errorField(err.message) : '';
			limitErrors({ [f]: f ? sentence(text) + (HINTS[f] || '') : text });
			if (f)
				$('limits-' + f).focus();
		});
		if (!r)
			return;
		$('dlg-limits').close();
		hg.notify('Expiry and limits of “' + t.name + '” saved.', true);
		await hg.loadTokens();
	}

	/* ---- start -------------------------------------------------------------------------------- */

	function wire() {
		hg.hooks.tokenRow.push(onTokenRow);
		hg.hooks.createBody.push(onCreateBody);
		$('generate').addEventListener('click', () => {
			$('create-expires').value = '';
		});
		$('form-trotate').addEventListener('submit', onRotate);
		$('trotate-other').addEventListener('input', () => {
			document.querySelector('#form-trotate input[name=grace][value=other]').checked = true;
		});
		$('form-limits').addEventListener('submit', onLimits);
		$('limits-no-expiry').addEventListener('click', () => {
			$('limits-expires').value = '';
			$('limits-expires').focus();
		});
		/* Rows app.js rendered before this file ran get their cell and buttons now. */
		for (const tr of document.querySelectorAll('#tokens-body tr')) {
			const t = hg.tokens().find((x) => x.id === tr.dataset.id);
			if (t && !tr.querySelector('td.life-cell'))
				onTokenRow(tr, t);
		}
	}

	wire();
})();
