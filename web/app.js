/* SPDX-License-Identifier: Apache-2.0 */
/* hookgate dashboard: talks only to the admin API of this origin (docs/api-admin.md). No framework, no
 * build step, no inline script: the page runs under script-src 'self'. Text from the server
 * is always set with textContent, never parsed as HTML. */
'use strict';

(function () {
	const API = '/admin/api';
	const USAGE_PAGE = 10;
	const $ = (id) => document.getElementById(id);
	const state = {
		csrf: sessionStorage.getItem('hookgate.csrf'),
		expiresAt: null,
		login: '',
		recoveryMode: false,
		tokens: [],
		limit: 5,
		modules: null,
		usageToken: null,
		usageNext: null,
		deleteToken: null,
		urlSeq: 0,
		timer: null,
		endpoints: [],
		rotateDest: null,
		replayDest: null,
		attempts: null,
	};

	/* ---- API ------------------------------------------------------------------------------ */

	class ApiError extends Error {
		constructor(status, code, message) {
			super(message);
			this.status = status;
			this.code = code;
		}
	}

	const MESSAGES = {
		invalid_credentials: 'Wrong login or password.',
		account_locked: 'Too many failed attempts: this account is locked for a while.',
		invalid_code: 'Wrong code. Check the time on your phone and try again.',
		code_reused: 'This code was already used. Wait for the next one.',
		token_limit: 'You already have five tokens, the limit. Delete one first.',
		invalid_name: 'A name has 1 to 64 characters and no control characters.',
		csrf_failed: 'The request was refused as a possible cross-site request. Sign in again.',
		rate_limited: 'Too many sign-in attempts from this address. Wait a moment and try again.',
		/* 503 has several causes (the database, a server busy checking passwords): its
		 * message says which. */
		unavailable: (err) => sentence(err.message) +
			(/try again/.test(err.message) ? '' : ' Try again shortly.'),
		not_found: 'Not found: it may have been deleted meanwhile.',
		invalid_url: 'A handler URL starts with http:// or https://, has a host, no user name ' +
			'or password, and at most 2048 characters.',
		busy: 'A test event to this destination is still under way. Try again in a moment.',
		user_disabled: 'This account is disabled: it cannot sign in. Ask an administrator ' +
			'to enable it.',
		admin_required: 'Only an administrator may do this.',
		token_exposed: 'This token was reported leaked: its secret is public. Rotate it ' +
			'(Rotate…, without a grace period) before enabling it.',
	};

	/* "the database is not available" → "The database is not available." */
	function sentence(text) {
		text = String(text || 'the server cannot answer right now');
		return text.charAt(0).toUpperCase() + text.slice(1) + (/[.!?]$/.test(text) ? '' : '.');
	}

	function errorText(err) {
		if (!(err instanceof ApiError))
			return 'Cannot reach the server: ' + err.message;
		const text = MESSAGES[err.code];
		if (typeof text === 'function')
			return text(err);
		return text || err.message || ('Error ' + err.status);
	}

	async function api(method, path, body) {
		const headers = { Accept: 'application/json' };
		const init = { method, headers, credentials: 'same-origin', cache: 'no-store' };
		if (body !== undefined) {
			headers['Content-Type'] = 'application/json';
			init.body = JSON.stringify(body);
		}
		if (method !== 'GET' && state.csrf)
			headers['X-CSRF-Token'] = state.csrf;
		const res = await fetch(API + path, init);
		if (res.status === 204)
			return null;
		let data = null;
		try {
			data = await res.json();
		} catch (e) {
			data = null;
		}
		if (!res.ok) {
			/* Errors are {"code","message"}, possibly wrapped in {"error":…}. */
			const e = data && data.error && typeof data.error === 'object' ? data.error : data;
			const code = e && e.code ? e.code : 'http_' + res.status;
			const msg = e && e.message ? e.message : res.statusText;
			throw new ApiError(res.status, code, msg);
		}
		return data;
	}

	/* An action of the signed-in dashboard: a lost session leads back to the sign-in steps,
	 * anything else becomes a readable message. Returns undefined on failure. */
	async function act(fn, onError) {
		try {
			return await fn();
		} catch (err) {
			if (sessionLost(err))
				return undefined;
			if (onError)
				onError(errorText(err), err);
			else
				notify(errorText(err));
			return undefined;
		}
	}

	function sessionLost(err) {
		if (!(err instanceof ApiError) || err.status !== 401 && err.code !== 'csrf_failed')
			return false;
		closeDialogs();
		/* The cookie lives as long as the session: once it is over the browser no longer
		 * sends it, and the server can only answer "unauthenticated". */
		const over = err.code === 'session_expired' ||
			(state.expiresAt !== null && Date.now() >= state.expiresAt);
		if (err.code === '2fa_required') {
			showCode('Enter the code of your authenticator to continue.');
		} else {
			const why = over ?
				'Your session has expired. Sign in again, then enter a new code.' :
				err.code === 'csrf_failed' ? MESSAGES.csrf_failed :
				'You are signed out. Sign in to continue.';
			showSignIn(why);
		}
		return true;
	}

	/* ---- screens and messages ------------------------------------------------------------- */

	function show(id) {
		for (const s of document.querySelectorAll('.screen'))
			s.hidden = s.id !== id;
		const screen = $(id);
		const first = screen.querySelector('input:not([type=hidden]), button');
		if (first && id !== 'screen-tokens')
			first.focus();
	}

	function notify(text, good) {
		const n = $('notice');
		n.textContent = text;
		n.classList.toggle('good', !!good);
		n.hidden = !text;
	}

	function setCsrf(token) {
		state.csrf = token;
		if (token)
			sessionStorage.setItem('hookgate.csrf', token);
		else
			sessionStorage.removeItem('hookgate.csrf');
	}

	function signedOut() {
		setCsrf(null);
		state.expiresAt = null;
		clearInterval(state.timer);
		state.timer = null;
		$('session-info').hidden = true;
		$('attention').hidden = true;
		document.dispatchEvent(new CustomEvent('hookgate:signedout'));
	}

	function showSignIn(message) {
		signedOut();
		notify('');
		const m = $('signin-message');
		m.textContent = message || '';
		m.hidden = !message;
		$('password').value = '';
		if (state.login)
			$('login').value = state.login;
		show('screen-signin');
		if (state.login)
			$('password').focus();
	}

	function showCode(message) {
		signedOut();
		state.recoveryMode = false;
		codeMode();
		notify(message || '');
		$('code').value = '';
		show('screen-code');
	}

	function codeMode() {
		const r = state.recoveryMode;
		$('code-label').textContent = r ? 'Recovery code' : 'Code';
		$('code-help').textContent = r ?
			'Enter one of your recovery codes (xxxxx-xxxxx). Each works once.' :
			'Enter the 6-digit code shown by your authenticator app.';
		$('code').inputMode = r ? 'text' : 'numeric';
		$('toggle-recovery').textContent = r ? 'Use the authenticator code instead' :
			'Use a recovery code instead';
	}

	function closeDialogs() {
		for (const d of document.querySelectorAll('dialog[open]'))
			d.close();
	}

	/* Opens a dialog; focus returns to what opened it when it closes. */
	function openDialog(dlg, focus) {
		const opener = document.activeElement;
		dlg.addEventListener('close', () => {
			if (opener && document.contains(opener))
				opener.focus();
		}, { once: true });
		dlg.showModal();
		if (focus)
			focus.focus();
	}

	/* ---- the 2FA session countdown -------------------------------------------------------- */

	function startSession(user, expiresAt) {
		/* expires_at has whole seconds, cut down from the real end: count to the next
		 * second, so that "expired" is never shown while the session still works. */
		state.expiresAt = Date.parse(expiresAt) + 1000;
		$('user-name').textContent = user && (user.display_name || user.login) || '';
		$('session-info').hidden = false;
		document.dispatchEvent(new CustomEvent('hookgate:session', { detail: user || {} }));
		clearInterval(state.timer);
		tick();
		state.timer = setInterval(tick, 1000);
	}

	function tick() {
		const ms = state.expiresAt - Date.now();
		const left = Math.max(0, Math.floor(ms / 1000));
		const c = $('countdown');
		if (ms <= 0) {
			c.textContent = 'Session expired';
			c.title = 'Your next action asks you to sign in again';
		} else {
			const m = Math.floor(left / 60), s = left % 60;
			c.textContent = 'Session: ' + m + ':' + String(s).padStart(2, '0') + ' left';
			c.title = 'The two-factor session ends at ' +
				new Date(state.expiresAt).toLocaleString();
		}
		c.classList.toggle('low', left < 60);
	}

	/* ---- sign in ---------------------------------------------------------------------------- */

	async function onSignIn(ev) {
		ev.preventDefault();
		const login = $('login').value.trim(), password = $('password').value;
		if (!login || !password) {
			notify('Enter your login and password.');
			return;
		}
		state.login = login;
		try {
			const r = await api('POST', '/login', { login, password });
			$('password').value = '';
			$('signin-message').hidden = true;
			if (r.next === 'enroll')
				showEnroll(r);
			else
				showCode('');
		} catch (err) {
			notify(errorText(err));
		}
	}

	function showEnroll(r) {
		notify('');
		const img = $('enroll-qr');
		if (r.otpauth_qr_svg) {
			const bytes = new TextEncoder().encode(r.otpauth_qr_svg);
			let bin = '';
			for (const b of bytes)
				bin += String.fromCharCode(b);
			img.src = 'data:image/svg+xml;base64,' + btoa(bin);
			img.hidden = false;
		} else {
			img.hidden = true;
		}
		img.title = r.otpauth_uri || '';
		$('enroll-secret').textContent = (r.secret || '').replace(/(.{4})(?=.)/g, '$1 ');
		$('enroll-code').value = '';
		show('screen-enroll');
		$('enroll-code').focus();
	}

	async function secondStep(path, code) {
		try {
			const r = await api('POST', path, { code });
			setCsrf(r.csrf_token);
			notify('');
			startSession(r.user, r.expires_at);
			return r;
		} catch (err) {
			if (err instanceof ApiError && (err.code === 'unauthenticated' ||
							err.code === 'session_expired'))
				showSignIn('The sign-in took too long. Start again.');
			else
				notify(errorText(err));
			return null;
		}
	}

	async function onCode(ev) {
		ev.preventDefault();
		const code = $('code').value.replace(/\s+/g, '');
		if (!code) {
			notify('Enter the code.');
			return;
		}
		const r = await secondStep(state.recoveryMode ? '/login/recovery' : '/login/totp', code);
		if (r)
			showTokens();
	}

	async function onEnroll(ev) {
		ev.preventDefault();
		const code = $('enroll-code').value.replace(/\s+/g, '');
		if (!code) {
			notify('Enter the code your authenticator app shows.');
			return;
		}
		const r = await secondStep('/login/totp', code);
		if (!r)
			return;
		const list = $('recovery-codes');
		list.replaceChildren();
		for (const c of r.recovery_codes || []) {
			const li = document.createElement('li');
			li.textContent = c;
			list.appendChild(li);
		}
		if ((r.recovery_codes || []).length === 0)
			showTokens();
		else
			show('screen-recovery');
	}

	async function onLogout() {
		try {
			await api('POST', '/logout');
		} catch (err) {
			/* Signed out either way: the session is gone or unusable. */
		}
		showSignIn('You are signed out.');
	}

	/* ---- the token list --------------------------------------------------------------------- */

	async function showTokens() {
		show('screen-tokens');
		await loadTokens();
		$('generate').focus();
		await loadDestinations();
	}

	async function loadTokens() {
		const r = await act(() => api('GET', '/tokens'));
		if (!r)
			return;
		state.tokens = r.tokens;
		state.limit = r.limit;
		renderTokens();
	}

	function relativeTime(iso) {
		if (!iso)
			return 'never';
		const s = Math.round((Date.now() - Date.parse(iso)) / 1000);
		const abs = Math.abs(s);
		const fmt = new Intl.RelativeTimeFormat('en', { numeric: 'auto' });
		if (abs < 45)
			return 'just now';
		if (abs < 3600)
			return fmt.format(-Math.round(s / 60), 'minute');
		if (abs < 86400)
			return fmt.format(-Math.round(s / 3600), 'hour');
		if (abs < 30 * 86400)
			return fmt.format(-Math.round(s / 86400), 'day');
		return new Date(iso).toLocaleDateString();
	}

	function exactTime(iso) {
		return iso ? new Date(iso).toLocaleString() + ' (' + iso + ')' : '';
	}

	function el(tag, props, text) {
		const e = document.createElement(tag);
		Object.assign(e, props || {});
		if (text !== undefined)
			e.textContent = text;
		return e;
	}

	function cell(label, child, cls) {
		const td = el('td', { className: cls || '' });
		td.dataset.label = label;
		if (child instanceof Node)
			td.appendChild(child);
		else
			td.textContent = child;
		return td;
	}

	function tokenRow(t) {
		const tr = el('tr');
		tr.dataset.id = t.id;
		const name = el('button', { type: 'button', className: 'name',
					    title: 'Click to rename' }, t.name);
		name.addEventListener('click', () => startRename(tr, t));
		tr.appendChild(cell('Name', name));
		const id = el('button', { type: 'button', className: 'tid',
					  title: 'Show the usage history' }, t.id);
		id.addEventListener('click', () => openUsage(t));
		tr.appendChild(cell('Token unique id', id));
		tr.appendChild(cell('Invocations', String(t.invocations), 'num'));
		const last = el('span', { className: 'last', title: exactTime(t.last_invoked_at) },
				relativeTime(t.last_invoked_at));
		tr.appendChild(cell('Last invoked', last));
		const active = t.status === 'active';
		const sw = el('button', { type: 'button', className: 'switch',
					  title: active ? 'Click to disable' : 'Click to enable' },
			      active ? 'Active' : 'Disabled');
		sw.setAttribute('role', 'switch');
		sw.setAttribute('aria-checked', String(active));
		sw.setAttribute('aria-label', 'Status of ' + t.name + ': ' + (active ? 'active' : 'disabled'));
		sw.addEventListener('click', () => toggleStatus(t));
		const status = el('div', { className: 'status-cell' });
		status.append(sw);
		if (!active)
			status.append(disabledNote(t));
		tr.appendChild(cell('Status', status));
		tr.appendChild(cell('Actions', rowActions(t), 'actions-cell'));
		tr.addEventListener('click', (ev) => {
			if (ev.target === tr || ev.target.tagName === 'TD')
				openUsage(t);
		});
		for (const f of hooks.tokenRow)
			f(tr, t);
		return tr;
	}

	/* Why and since when a token is disabled; a leaked one says so, so that its owner
	 * replaces it rather than enables it again. */
	function disabledNote(t) {
		const why = t.disabled_reason === 'exposed' ? 'Reported exposed (leaked)' :
			t.disabled_reason === 'owner' ? 'Disabled by its owner' : 'Disabled';
		const cls = 'disabled-note' + (t.disabled_reason === 'exposed' ? ' bad' : '');
		return el('span', { className: cls, title: exactTime(t.disabled_at) },
			  why + (t.disabled_at ? ' ' + relativeTime(t.disabled_at) : ''));
	}

	function rowActions(t) {
		const box = el('div', { className: 'row-actions' });
		const copy = el('button', { type: 'button', className: 'copy' }, 'Copy');
		copy.setAttribute('aria-label', 'Copy token ' + t.name + ' to the clipboard');
		copy.addEventListener('click', () => copySecret(t, copy));
		const hist = el('button', { type: 'button', className: 'history' }, 'History');
		hist.setAttribute('aria-label', 'Usage history of ' + t.name);
		hist.addEventListener('click', () => openUsage(t));
		const del = el('button', { type: 'button', className: 'delete danger' }, 'Delete');
		del.setAttribute('aria-label', 'Delete token ' + t.name);
		del.addEventListener('click', () => askDelete(t));
		box.append(copy, hist, del);
		return box;
	}

	function renderTokens() {
		const body = $('tokens-body');
		body.replaceChildren(...state.tokens.map(tokenRow));
		$('tokens-empty').hidden = state.tokens.length > 0;
		$('tokens-table').hidden = state.tokens.length === 0;
		const full = state.tokens.length >= state.limit;
		$('generate').disabled = full;
		const reason = $('limit-reason');
		reason.textContent = full ? 'You have ' + state.tokens.length + ' tokens, the limit of ' +
			state.limit + '. Delete a token to generate a new one.' : '';
		reason.hidden = !full;
		$('get-url').disabled = state.tokens.length === 0;
		$('get-url').title = state.tokens.length === 0 ? 'Generate a token first' : '';
		document.dispatchEvent(new CustomEvent('hookgate:tokens', { detail: state.tokens }));
	}

	function startRename(tr, t) {
		const td = tr.querySelector('td');
		const input = el('input', { className: 'rename', value: t.name, maxLength: 64 });
		input.setAttribute('aria-label', 'New name for ' + t.name);
		td.replaceChildren(input);
		input.focus();
		input.select();
		let done = false;
		const finish = async (save) => {
			if (done)
				return;
			done = true;
			const name = input.value.trim();
			if (save && name && name !== t.name) {
				const r = await act(() => api('PATCH', '/tokens/' + t.id, { name }));
				if (r) {
					notify('Renamed to “' + r.token.name + '”.', true);
					Object.assign(t, r.token);
				}
			}
			renderTokens();
			const again = document.querySelector('tr[data-id="' + t.id + '"] .name');
			if (again)
				again.focus();
		};
		input.addEventListener('keydown', (ev) => {
			if (ev.key === 'Enter')
				finish(true);
			else if (ev.key === 'Escape')
				finish(false);
		});
		input.addEventListener('blur', () => finish(true));
	}

	async function toggleStatus(t) {
		const status = t.status === 'active' ? 'disabled' : 'active';
		const r = await act(() => api('PATCH', '/tokens/' + t.id, { status }));
		if (!r)
			return;
		Object.assign(t, r.token);
		notify('Token “' + t.name + '” is now ' + t.status + '.', true);
		renderTokens();
		const sw = document.querySelector('tr[data-id="' + t.id + '"] .switch');
		if (sw)
			sw.focus();
	}

	/* ---- clipboard -------------------------------------------------------------------------- */

	async function writeClipboard(text, input) {
		try {
			await navigator.clipboard.writeText(text);
			return true;
		} catch (e) {
			if (!input)
				return false;
			input.select();
			return document.execCommand('copy');
		}
	}

	async function copySecret(t, button) {
		const r = await act(() => api('GET', '/tokens/' + t.id + '/secret'));
		if (!r)
			return;
		if (await writeClipboard(r.secret))
			notify('Token “' + t.name + '” copied to the clipboard.', true);
		else
			notify('The browser refused access to the clipboard.');
		button.focus();
	}

	async function copyField(inputId, statusId) {
		const input = $(inputId);
		const ok = await writeClipboard(input.value, input);
		$(statusId).textContent = ok ? 'Copied to the clipboard.' :
			'Copy refused by the browser: select the text and copy it by hand.';
	}

	/* ---- create and delete ------------------------------------------------------------------ */

	function askCreate() {
		$('create-name').value = '';
		$('create-error').hidden = true;
		openDialog($('dlg-create'), $('create-name'));
	}

	async function onCreate(ev) {
		ev.preventDefault();
		const name = $('create-name').value.trim();
		const err = $('create-error');
		if (!name) {
			err.textContent = 'Give the token a name, e.g. the integration that will use it.';
			err.hidden = false;
			return;
		}
		const body = { name };
		for (const f of hooks.createBody)
			if (!f(body))
				return;
		const r = await act(() => api('POST', '/tokens', body), (text) => {
			err.textContent = text;
			err.hidden = false;
		});
		if (!r)
			return;
		$('dlg-create').close();
		$('secret-value').value = r.token.secret;
		$('secret-status').textContent = '';
		await loadTokens();
		openDialog($('dlg-secret'), $('secret-copy'));
	}

	function askDelete(t) {
		state.deleteToken = t;
		$('delete-warning').textContent = 'Deleting “' + t.name + '” (' + t.id + ') cannot be ' +
			'undone. Every integration that uses this token will fail from now on.';
		openDialog($('dlg-delete'), $('dlg-delete').querySelector('.close'));
	}

	async function onDelete() {
		const t = state.deleteToken;
		const ok = await act(() => api('DELETE', '/tokens/' + t.id).then(() => true));
		$('dlg-delete').close();
		if (!ok)
			return;
		notify('Token “' + t.name + '” deleted.', true);
		await loadTokens();
		$('generate').focus();
	}

	/* ---- usage history ---------------------------------------------------------------------- */

	const MODULE_NAMES = {
		channel: 'Channel message',
		bot_incoming: 'Bot incoming',
		bot_message: 'Bot message',
		extension_sandbox: 'Extension (sandbox)',
		extension_marketplace: 'Extension (marketplace)',
	};

	function usageRow(u) {
		const tr = el('tr');
		const time = el('span', { title: exactTime(u.at) }, new Date(u.at).toLocaleString());
		tr.appendChild(cell('Time', time));
		tr.appendChild(cell('Module', MODULE_NAMES[u.module] || u.module || '—'));
		tr.appendChild(cell('Target', u.target || '—'));
		tr.appendChild(cell('Status', String(u.status), u.status >= 300 ? 'bad' : ''));
		tr.appendChild(cell('Client address', u.client_addr || '—'));
		const ua = cell('User agent', u.user_agent || '—', 'ua');
		ua.title = u.user_agent || '';
		tr.appendChild(ua);
		tr.appendChild(cell('Latency', u.latency_ms === null ? '—' : u.latency_ms + ' ms', 'num'));
		tr.appendChild(cell('Delivery', deliveryCell(u), 'delivery'));
		/* The whole row opens the message's attempts; its button does it for the keyboard. */
		const open = tr.querySelector('td.delivery button');
		if (open)
			tr.addEventListener('click', (ev) => {
				if (ev.target !== open)
					open.click();
			});
		return tr;
	}

	async function openUsage(t) {
		state.usageToken = t;
		state.usageNext = null;
		$('dlg-usage-title').textContent = 'Usage history of “' + t.name + '” (' + t.id + ')';
		$('usage-body').replaceChildren();
		$('usage-error').hidden = true;
		$('usage-empty').hidden = true;
		$('usage-more').hidden = true;
		openDialog($('dlg-usage'), $('dlg-usage').querySelector('.close'));
		await loadUsage();
	}

	async function loadUsage() {
		const t = state.usageToken;
		let path = '/tokens/' + t.id + '/usage?limit=' + USAGE_PAGE;
		if (state.usageNext)
			path += '&before=' + encodeURIComponent(state.usageNext);
		const r = await act(() => api('GET', path), (text) => {
			$('usage-error').textContent = text;
			$('usage-error').hidden = false;
		});
		if (!r)
			return;
		for (const u of r.usage)
			$('usage-body').appendChild(usageRow(u));
		state.usageNext = r.next;
		$('usage-more').hidden = !r.next;
		$('usage-empty').hidden = $('usage-body').children.length > 0;
	}

	/* ---- delivery state of a usage row ------------------------------------------------------ */

	function plural(n, word) {
		return n + ' ' + word + (n === 1 ? '' : 's');
	}

	function when(iso) {
		return iso ? new Date(iso).toLocaleString() : '—';
	}

	function deliveryText(d) {
		switch (d.state) {
		case 'delivered':
			return 'Delivered ' + when(d.at) + ' (' + plural(d.attempts, 'attempt') + ')';
		case 'retrying':
			return 'Retrying: next attempt ' + when(d.next_attempt_at) + ' (' +
				plural(d.attempts, 'attempt') + ' so far)';
		case 'failed':
			return 'Failed after ' + plural(d.attempts, 'attempt');
		case 'pending':
			return 'Pending';
		default:
			return 'No destination (stored only)';
		}
	}

	/* A stored message with a destination gets a button to its attempts; a refused call or a
	 * message without destination has none to show. */
	function deliveryCell(u) {
		const d = u.delivery;
		if (!u.message_id || !d)
			return '—';
		const text = deliveryText(d);
		if (d.state === 'no_destination')
			return text;
		const b = el('button', { type: 'button', className: 'link state-' + d.state }, text);
		b.setAttribute('aria-label', text + ': show the delivery attempts');
		b.addEventListener('click', () => openAttempts(
			'Delivery attempts of message ' + u.message_id,
			'/tokens/' + state.usageToken.id + '/messages/' +
				encodeURIComponent(u.message_id) + '/attempts', false));
		return b;
	}

	/* ---- destinations ----------------------------------------------------------------------- */

	const ATTEMPTS_PAGE = 10;
	const REPLAY_MAX_MS = 14 * 86400 * 1000;

	/* A slot is a bot's incoming or message handler, or an extension's environment. */
	const slotOf = (d) => (d.kind === 'bot' ? d.for : d.env);
	const slotKey = (d) => d.kind + '-' + d.name + '-' + slotOf(d);

	function slotPath(d) {
		const kind = d.kind === 'bot' ? '/bots/' : '/extensions/';
		return kind + encodeURIComponent(d.name) + '/endpoints/' + slotOf(d);
	}

	function slotTitle(d) {
		if (d.kind === 'bot')
			return 'Bot ' + d.name + ' — ' + (d.for === 'message' ? 'bot messages' :
							 'incoming handler');
		return 'Extension ' + d.name + ' — ' + d.env;
	}

	const DISABLED_REASONS = {
		gone: 'the receiver answered 410 Gone',
		failing: 'it kept failing for the whole disable period (5 days unless configured otherwise)',
		manual: 'disabled by hand',
	};

	function statusText(d) {
		switch (d.status) {
		case 'healthy':
			return 'Healthy';
		case 'failing':
			return 'Failing since ' + when(d.failing_since);
		case 'disabled':
			return 'Disabled: ' + (DISABLED_REASONS[d.disabled_reason] || 'disabled') +
				(d.disabled_at ? ' (' + when(d.disabled_at) + ')' : '');
		default:
			return 'No URL: messages are stored only';
		}
	}

	function urlProblem(text) {
		if (!text)
			return 'Enter the URL of your handler.';
		if (text.length > 2048)
			return 'A URL has at most 2048 characters.';
		let u;
		try {
			u = new URL(text);
		} catch (e) {
			return 'This is not a URL (e.g. https://example.com/hook).';
		}
		if (u.protocol !== 'http:' && u.protocol !== 'https:')
			return 'The URL must start with http:// or https://.';
		if (!u.hostname)
			return 'The URL needs a host.';
		if (u.username || u.password)
			return 'The URL must not hold a user name or password.';
		return '';
	}

	function showError(p, text) {
		p.textContent = text || '';
		p.hidden = !text;
	}

	async function loadDestinations(focusKey, focusRole) {
		const r = await act(() => api('GET', '/endpoints'));
		if (!r)
			return;
		state.endpoints = r.endpoints;
		$('dest-list').replaceChildren(...r.endpoints.map(destCard));
		$('dest-empty').hidden = r.endpoints.length > 0;
		renderAttention(r.attention || []);
		if (focusKey) {
			const again = document.querySelector('.dest[data-key="' + focusKey + '"] ' +
							      '[data-role="' + focusRole + '"]');
			if (again)
				again.focus();
		}
	}

	function renderAttention(items) {
		$('attention').hidden = items.length === 0;
		$('attention-text').textContent = items.length === 1 ?
			'One of your destinations needs attention:' :
			items.length + ' of your destinations need attention:';
		$('attention-list').replaceChildren(...items.map((d) =>
			el('li', {}, slotTitle(d) + ': ' + statusText(d))));
	}

	function showAttention() {
		const first = document.querySelector('.dest.status-failing, .dest.status-disabled');
		const target = first || $('destinations');
		target.scrollIntoView({ block: 'start' });
		target.focus();
	}

	function destCard(d) {
		const card = el('article', { className: 'dest status-' + d.status, tabIndex: -1 });
		card.dataset.key = slotKey(d);
		const title = el('h3', { id: 'dest-' + slotKey(d) }, slotTitle(d));
		card.setAttribute('aria-labelledby', title.id);
		card.append(title, el('p', { className: 'dest-status' }, statusText(d)));
		card.appendChild(destFacts(d));
		card.appendChild(urlForm(d));
		if (d.status !== 'none')
			card.appendChild(destActions(d));
		return card;
	}

	function destFacts(d) {
		const facts = [];
		if (d.status !== 'none')
			facts.push(plural(d.queued || 0, 'message') + ' waiting');
		const a = d.last_attempt;
		if (a)
			facts.push('last attempt ' + when(a.at) + ': ' + outcomeText(a));
		if (d.previous_secret_until)
			facts.push('the previous secret signs too until ' + when(d.previous_secret_until));
		return el('p', { className: 'info dest-facts' }, facts.join(' · '));
	}

	function urlForm(d) {
		const id = 'url-' + slotKey(d);
		const form = el('form', { className: 'dest-url', noValidate: true });
		const input = el('input', { id, type: 'url', value: d.url || '', maxLength: 2048,
					    placeholder: 'https://example.com/hook', autocomplete: 'off' });
		input.dataset.role = 'url';
		const err = el('p', { className: 'error', id: id + '-error', hidden: true });
		err.setAttribute('role', 'alert');
		input.setAttribute('aria-describedby', err.id);
		const save = el('button', { type: 'submit', className: 'primary' }, 'Save URL');
		save.dataset.role = 'save';
		save.setAttribute('aria-label', 'Save the URL of ' + slotTitle(d));
		const line = el('div', { className: 'copyline' });
		line.append(input, save);
		form.append(el('label', { htmlFor: id }, 'Handler URL'), line, err);
		form.addEventListener('submit', (ev) => {
			ev.preventDefault();
			saveUrl(d, input, err);
		});
		return form;
	}

	function destButton(d, role, text, label, fn) {
		const b = el('button', { type: 'button' }, text);
		b.dataset.role = role;
		b.setAttribute('aria-label', label + ' ' + slotTitle(d));
		b.addEventListener('click', () => fn(d));
		return b;
	}

	function destActions(d) {
		const box = el('div', { className: 'actions dest-actions' });
		const sw = destButton(d, 'toggle', d.enabled ? 'Enabled' : 'Disabled',
				      d.enabled ? 'Disable' : 'Enable', toggleDest);
		sw.className = 'switch';
		sw.setAttribute('role', 'switch');
		sw.setAttribute('aria-checked', String(d.enabled));
		box.append(sw,
			   destButton(d, 'test', 'Send test event', 'Send a test event to', sendTest),
			   destButton(d, 'attempts', 'Attempts', 'Delivery attempts of', destAttempts),
			   destButton(d, 'replay', 'Replay…', 'Replay messages to', askReplay),
			   destButton(d, 'rotate', 'Rotate secret…', 'Rotate the signing secret of',
				      askRotate));
		return box;
	}

	/* PUT of one slot: bots take both slots in one object, extensions one environment. */
	async function putSlot(d, body) {
		if (d.kind !== 'bot')
			return api('PUT', slotPath(d), body);
		const r = await api('PUT', '/bots/' + encodeURIComponent(d.name) + '/endpoints',
				    { [d.for]: body });
		return r[d.for];
	}

	async function saveUrl(d, input, err) {
		const url = input.value.trim();
		const problem = urlProblem(url);
		showError(err, problem);
		input.setAttribute('aria-invalid', String(!!problem));
		if (problem) {
			input.focus();
			return;
		}
		const r = await act(() => putSlot(d, { url }), (text) => showError(err, text));
		if (!r)
			return;
		notify(slotTitle(d) + ': URL saved.', true);
		await loadDestinations(slotKey(d), 'save');
		if (r.secret)
			showDestSecret(r.secret, slotTitle(d) + ' signs its requests with this secret.');
	}

	function showDestSecret(secret, why) {
		$('dsecret-help').textContent = why + ' Copy it now into your handler: it is shown ' +
			'only this once.';
		$('dsecret-value').value = secret;
		$('dsecret-status').textContent = '';
		openDialog($('dlg-dsecret'), $('dsecret-copy'));
	}

	async function toggleDest(d) {
		const r = await act(() => putSlot(d, { enabled: !d.enabled }));
		if (!r)
			return;
		notify(slotTitle(d) + (r.enabled ? ' is enabled: what waits is delivered now.' :
				       ' is disabled: messages wait until you enable it.'), true);
		await loadDestinations(slotKey(d), 'toggle');
	}

	function askRotate(d) {
		state.rotateDest = d;
		$('rotate-text').textContent = 'A new signing secret for ' + slotTitle(d) + '.';
		openDialog($('dlg-rotate'), $('dlg-rotate').querySelector('.close'));
	}

	async function onRotate() {
		const d = state.rotateDest;
		const r = await act(() => api('POST', slotPath(d) + '/rotate-secret'));
		$('dlg-rotate').close();
		if (!r)
			return;
		await loadDestinations(slotKey(d), 'rotate');
		showDestSecret(r.secret, 'The new secret of ' + slotTitle(d) + '. The old one ' +
			       'signs too until ' + when(r.previous_secret_until) + '.');
	}

	async function sendTest(d) {
		$('dlg-test-title').textContent = 'Test event to ' + slotTitle(d);
		const wait = $('test-wait');
		wait.textContent = 'Sending a signed hookgate.ping…';
		wait.hidden = false;
		$('test-result').hidden = true;
		openDialog($('dlg-test'), $('dlg-test').querySelector('.close'));
		const r = await act(() => api('POST', slotPath(d) + '/test'), (text, err) => {
			wait.textContent = err.code === 'rate_limited' ?
				'Too many test events: wait a moment and try again.' : text;
		});
		if (!r)
			return;
		wait.hidden = true;
		$('test-status').textContent = r.status === null ? 'no answer (' + r.error + ')' :
			String(r.status) + (r.error ? ' (' + r.error + ')' : '');
		$('test-latency').textContent = r.latency_ms + ' ms';
		$('test-body').textContent = r.body || '(empty)';
		$('test-result').hidden = false;
	}

	/* ---- attempts --------------------------------------------------------------------------- */

	const OUTCOMES = {
		delivered: 'Delivered',
		retry: 'Failed, will retry',
		failed: 'Failed, no more retries',
		gone: '410 Gone: destination disabled',
		refused: 'Refused: address not allowed',
		disabled: 'Not sent: destination disabled',
	};

	function outcomeText(a) {
		const what = a.http_status ? 'HTTP ' + a.http_status : a.error || '';
		return (OUTCOMES[a.outcome] || a.outcome) + (what ? ' (' + what + ')' : '');
	}

	function attemptRow(a) {
		const tr = el('tr');
		tr.appendChild(cell('Time', el('span', { title: exactTime(a.at) }, when(a.at))));
		tr.appendChild(cell('Destination', a.destination ? slotTitle(a.destination) : '—',
				    'col-dest'));
		tr.appendChild(cell('Message', a.message_id || '—', 'col-msg'));
		tr.appendChild(cell('Attempt', String(a.attempt), 'num'));
		tr.appendChild(cell('Outcome', OUTCOMES[a.outcome] || a.outcome,
				    a.outcome === 'delivered' ? '' : 'bad'));
		tr.appendChild(cell('HTTP status', a.http_status ? String(a.http_status) :
				    a.error || '—', 'num'));
		tr.appendChild(cell('Latency', a.latency_ms === null || a.latency_ms === undefined ?
				    '—' : a.latency_ms + ' ms', 'num'));
		const answer = cell('Answer', a.response || '—', 'answer');
		answer.title = a.response || '';
		tr.appendChild(answer);
		return tr;
	}

	/* paged: a destination's attempts come in pages; a message's are few and come at once. */
	async function openAttempts(title, path, paged) {
		state.attempts = { path, paged, next: null };
		$('dlg-attempts-title').textContent = title;
		document.querySelector('#dlg-attempts table').classList.toggle('per-message', !paged);
		$('attempts-body').replaceChildren();
		$('attempts-error').hidden = true;
		$('attempts-empty').hidden = true;
		$('attempts-more').hidden = true;
		openDialog($('dlg-attempts'), $('dlg-attempts').querySelector('.close'));
		await loadAttempts();
	}

	function destAttempts(d) {
		return openAttempts('Delivery attempts of ' + slotTitle(d), slotPath(d) + '/attempts',
				    true);
	}

	async function loadAttempts() {
		const a = state.attempts;
		let path = a.path;
		if (a.paged)
			path += '?limit=' + ATTEMPTS_PAGE +
				(a.next ? '&before=' + encodeURIComponent(a.next) : '');
		const r = await act(() => api('GET', path),
				    (text) => showError($('attempts-error'), text));
		if (!r || state.attempts !== a)
			return;
		for (const at of r.attempts)
			$('attempts-body').appendChild(attemptRow(at));
		a.next = a.paged ? r.next : null;
		$('attempts-more').hidden = !a.next;
		$('attempts-empty').hidden = $('attempts-body').children.length > 0;
	}

	/* ---- replay ----------------------------------------------------------------------------- */

	/* A Date as the value of a datetime-local input, in this browser's time zone. */
	function localInput(date) {
		const p = (n) => String(n).padStart(2, '0');
		return date.getFullYear() + '-' + p(date.getMonth() + 1) + '-' + p(date.getDate()) +
			'T' + p(date.getHours()) + ':' + p(date.getMinutes()) + ':' + p(date.getSeconds());
	}

	function askReplay(d) {
		state.replayDest = d;
		const now = new Date();
		$('replay-text').textContent = 'Deliver again, signed with the current secret, every ' +
			'message to ' + slotTitle(d) + ' stored in this time range.';
		$('replay-since').value = localInput(new Date(now.getTime() - 86400 * 1000));
		$('replay-until').value = localInput(new Date(now.getTime() + 60 * 1000));
		showError($('replay-error'), '');
		$('replay-status').textContent = '';
		openDialog($('dlg-replay'), $('replay-since'));
	}

	function replayProblem(since, until) {
		if (isNaN(since) || isNaN(until))
			return 'Enter both the start and the end of the range.';
		if (since >= until)
			return 'The start must be before the end.';
		if (until - since > REPLAY_MAX_MS)
			return 'The range is at most 14 days.';
		return '';
	}

	async function onReplay(ev) {
		ev.preventDefault();
		const since = new Date($('replay-since').value);
		const until = new Date($('replay-until').value);
		const problem = replayProblem(since.getTime(), until.getTime());
		showError($('replay-error'), problem);
		$('replay-status').textContent = '';
		if (problem)
			return;
		const d = state.replayDest;
		const r = await act(() => api('POST', slotPath(d) + '/replay', {
			since: since.toISOString(), until: until.toISOString() }),
		(text) => showError($('replay-error'), text));
		if (!r)
			return;
		$('replay-status').textContent = plural(r.queued, 'message') + ' queued for delivery.';
		await loadDestinations();
	}

	/* ---- Get Webhook URL -------------------------------------------------------------------- */

	function fillSelect(sel, items, label, value) {
		const val = value || ((it) => it.name);
		sel.replaceChildren(...items.map((it) => el('option', { value: val(it) }, label(it))));
	}

	function radio(name) {
		const r = document.querySelector('#form-url input[name=' + name + ']:checked');
		return r ? r.value : '';
	}

	async function openUrl() {
		const m = await act(() => api('GET', '/modules'));
		if (!m)
			return;
		state.modules = m;
		fillSelect($('url-token'), state.tokens, (t) => t.name + ' (' + t.id + ')' +
			(t.status === 'active' ? '' : ' — disabled'), (t) => t.id);
		fillSelect($('url-channel'), m.channels, (c) => c.title ? c.name + ' — ' + c.title : c.name);
		fillSelect($('url-bot'), m.bots, (b) => b.name + (b.owned ? ' (yours)' : ' (subscribed)'));
		fillSelect($('url-extension'), m.extensions, (x) => x.name);
		$('url-status').textContent = '';
		openDialog($('dlg-url'), $('url-token'));
		await updateUrl();
	}

	async function updateUrl() {
		/* Only the answer to the latest choice may fill the field. */
		const seq = ++state.urlSeq;
		const module = radio('module');
		for (const k of ['channel', 'bot', 'extension'])
			$('opt-' + k).hidden = k !== module;
		const lists = { channel: 'channels', bot: 'bots', extension: 'extensions' };
		const none = $('url-none');
		const out = $('url-value');
		out.value = '';
		$('url-curl').value = '';
		$('url-status').textContent = '';
		if (!state.modules[lists[module]].length) {
			none.textContent = 'You have no ' + lists[module] + ' to post to.';
			none.hidden = false;
			return;
		}
		none.hidden = true;
		const q = new URLSearchParams({ module });
		if (module === 'channel') {
			q.set('channel', $('url-channel').value);
		} else if (module === 'bot') {
			q.set('bot', $('url-bot').value);
			q.set('endpoint', radio('endpoint'));
		} else {
			q.set('extension', $('url-extension').value);
			q.set('env', radio('env'));
		}
		const token = $('url-token').value;
		const r = await act(() => api('GET', '/tokens/' + token + '/webhook-url?' + q), (text) => {
			if (seq !== state.urlSeq)
				return;
			none.textContent = text;
			none.hidden = false;
		});
		if (r && seq === state.urlSeq) {
			out.value = r.url;
			$('url-curl').value = r.curl || '';
		}
	}

	/* ---- start ------------------------------------------------------------------------------ */

	async function start() {
		try {
			const r = await api('GET', '/session');
			if (!state.csrf) {
				/* A session without its CSRF token (another tab, a restored browser)
				 * can only read: sign in again for a fresh one. */
				state.login = r.user && r.user.login || '';
				showSignIn('Sign in again to continue in this tab.');
				return;
			}
			startSession(r.user, r.expires_at);
			await showTokens();
		} catch (err) {
			if (err instanceof ApiError && err.code === '2fa_required')
				showCode('');
			else if (err instanceof ApiError && err.status === 401)
				showSignIn(err.code === 'session_expired' ?
					'Your session has expired. Sign in again.' : '');
			else
				showSignIn(errorText(err));
		}
	}

	function wire() {
		$('form-signin').addEventListener('submit', onSignIn);
		$('form-code').addEventListener('submit', onCode);
		$('form-enroll').addEventListener('submit', onEnroll);
		$('toggle-recovery').addEventListener('click', () => {
			state.recoveryMode = !state.recoveryMode;
			codeMode();
			$('code').value = '';
			$('code').focus();
		});
		$('recovery-done').addEventListener('click', showTokens);
		$('copy-recovery').addEventListener('click', async () => {
			const codes = [...$('recovery-codes').children].map((li) => li.textContent);
			notify(await writeClipboard(codes.join('\n')) ? 'Recovery codes copied.' :
				'The browser refused access to the clipboard.', true);
		});
		$('logout').addEventListener('click', onLogout);
		$('generate').addEventListener('click', askCreate);
		$('form-create').addEventListener('submit', onCreate);
		$('secret-copy').addEventListener('click', () => copyField('secret-value', 'secret-status'));
		$('dlg-secret').addEventListener('close', () => {
			$('secret-value').value = '';
		});
		$('delete-confirm').addEventListener('click', onDelete);
		$('usage-more').addEventListener('click', loadUsage);
		$('get-url').addEventListener('click', openUrl);
		$('form-url').addEventListener('change', updateUrl);
		$('form-url').addEventListener('submit', (ev) => ev.preventDefault());
		$('url-copy').addEventListener('click', () => copyField('url-value', 'url-status'));
		$('url-curl-copy').addEventListener('click', () => copyField('url-curl', 'url-status'));
		$('attention-show').addEventListener('click', showAttention);
		$('dsecret-copy').addEventListener('click', () => copyField('dsecret-value', 'dsecret-status'));
		$('dlg-dsecret').addEventListener('close', () => {
			$('dsecret-value').value = '';
		});
		$('rotate-confirm').addEventListener('click', onRotate);
		$('attempts-more').addEventListener('click', loadAttempts);
		$('form-replay').addEventListener('submit', onReplay);
		// A shown secret is wiped before the dialog closes: the 'close' event (which also
		// covers Escape) comes a task later, after the dialog is already hidden.
		for (const b of document.querySelectorAll('dialog .close'))
			b.addEventListener('click', () => {
				const d = b.closest('dialog');
				for (const f of d.querySelectorAll('#secret-value, #dsecret-value'))
					f.value = '';
				d.close();
			});
	}

	/* ---- for the modules loaded after this file ------------------------------------------- */

	/* token-life.js uses the hooks: tokenRow(tr, t), a token's row once built; createBody(body),
	 * adds members to a token's creation, or shows why not in the dialog and returns false.
	 * org.js (last use, the Organisation and Audit views) hears of sign-in, sign-out and each
	 * rendering of the token list through the events above. */
	const hooks = { tokenRow: [], createBody: [] };
	window.hookgate = Object.freeze({
		hooks, api, act, el, cell, show, showTokens, notify, showError, openDialog, openUsage,
		exactTime, relativeTime, when, copyField, disabledNote, loadTokens,
		tokens: () => state.tokens,
	});

	wire();
	start();
})();
