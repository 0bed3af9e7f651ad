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
			const code = data && data.code ? data.code : 'http_' + res.status;
			const msg = data && data.message ? data.message : res.statusText;
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
				onError(errorText(err));
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
		tr.appendChild(cell('Status', sw));
		tr.appendChild(cell('Actions', rowActions(t), 'actions-cell'));
		tr.addEventListener('click', (ev) => {
			if (ev.target === tr || ev.target.tagName === 'TD')
				openUsage(t);
		});
		return tr;
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
		const r = await act(() => api('POST', '/tokens', { name }), (text) => {
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
		if (r && seq === state.urlSeq)
			out.value = r.url;
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
		for (const b of document.querySelectorAll('dialog .close'))
			b.addEventListener('click', () => b.closest('dialog').close());
	}

	wire();
	start();
})();
