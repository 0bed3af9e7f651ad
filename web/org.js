/* SPDX-License-Identifier: Apache-2.0 */
/* hookgate dashboard, oversight: where each token was last used from (a column of the token
 * list), the Organisation view (every user's tokens, for administrators) and the Audit view.
 * Loaded after app.js, whose helpers it uses through window.hookgate and whose events
 * (hookgate:session, hookgate:signedout, hookgate:tokens) tell it when to act. Nothing here
 * fetches or shows another user's secret: the organisation list is metadata only. */
'use strict';

(function () {
	const hg = window.hookgate;
	if (!hg)
		return;
	const $ = (id) => document.getElementById(id);
	const el = hg.el;
	const AUDIT_PAGE = 20;
	const UNUSED_DAYS_MAX = 36500;
	const state = { user: null, orgSeq: 0, auditSeq: 0, auditNext: null, confirm: null };

	/* ---- last use, in the token list -------------------------------------------------------- */

	/* Address, user agent and time of the newest usage row (a refused call included). */
	function lastUse(t) {
		if (!t.last_used_at)
			return el('span', { className: 'last-from' }, 'never');
		const box = el('span', { className: 'last-from' });
		box.append(el('span', { className: 'addr' }, t.last_client_addr || 'unknown address'),
			   el('span', { className: 'ua', title: t.last_user_agent || '' },
			      t.last_user_agent || 'no user agent'),
			   el('span', { className: 'when', title: hg.exactTime(t.last_used_at) },
			      hg.relativeTime(t.last_used_at)));
		return box;
	}

	/* The column goes right after "Last invoked", whatever other columns the list has. */
	function addLastUse(ev) {
		const head = document.querySelector('#tokens-table thead tr');
		if (head && !$('th-last-from')) {
			const th = el('th', { id: 'th-last-from', scope: 'col' }, 'Last used from');
			const invoked = [...head.children].find((c) => c.textContent === 'Last invoked');
			head.insertBefore(th, invoked ? invoked.nextSibling : head.lastElementChild);
		}
		for (const t of ev.detail) {
			const tr = document.querySelector('#tokens-body tr[data-id="' + t.id + '"]');
			if (!tr || tr.querySelector('td.last-use'))
				continue;
			const td = hg.cell('Last used from', lastUse(t), 'last-use');
			const invoked = tr.querySelector('td[data-label="Last invoked"]');
			tr.insertBefore(td, invoked ? invoked.nextSibling : tr.lastElementChild);
		}
	}

	/* ---- views ------------------------------------------------------------------------------ */

	function navButtons() {
		return [...document.querySelectorAll('#views button[data-view]')];
	}

	function markView(id) {
		for (const b of navButtons()) {
			if (b.dataset.view === id)
				b.setAttribute('aria-current', 'page');
			else
				b.removeAttribute('aria-current');
		}
	}

	async function openView(button) {
		const id = button.dataset.view;
		markView(id);
		if (id === 'screen-tokens') {
			await hg.showTokens();
			return;
		}
		hg.notify('');
		hg.show(id);
		button.focus();
		if (id === 'screen-org')
			await loadOrg();
		else
			await loadAudit(true);
	}

	function onSession(ev) {
		state.user = ev.detail;
		$('views').hidden = false;
		document.querySelector('#views [data-view="screen-org"]').hidden = !state.user.is_admin;
		$('audit-help').textContent = state.user.is_admin ?
			'What happened to every account and token, newest first (you are an administrator).' :
			'What happened to your account and your tokens, newest first.';
		markView('screen-tokens');
	}

	/* ---- the Organisation view -------------------------------------------------------------- */

	const EXPIRY_FILTERS = {
		soon: (t) => t.expiring_soon === true,
		expired: (t) => t.expired === true,
	};

	function orgQuery() {
		const q = new URLSearchParams();
		const fields = [['q', 'org-q'], ['owner', 'org-owner'], ['status', 'org-status'],
				['unused_days', 'org-unused']];
		for (const [name, id] of fields) {
			const v = $(id).value.trim();
			if (v)
				q.set(name, v);
		}
		return q;
	}

	function unusedProblem() {
		const v = $('org-unused').value.trim();
		if (v && !(/^\d+$/.test(v) && Number(v) >= 1 && Number(v) <= UNUSED_DAYS_MAX))
			return 'Unused for: a whole number of days, from 1 to ' + UNUSED_DAYS_MAX + '.';
		return '';
	}

	/* The expiry filter applies to the list the server returned (at most 500 tokens). */
	async function loadOrg() {
		const problem = unusedProblem();
		hg.showError($('org-error'), problem);
		if (problem)
			return;
		const seq = ++state.orgSeq;
		$('org-count').textContent = 'Searching…';
		const r = await hg.act(() => hg.api('GET', '/org/tokens?' + orgQuery()),
				       (text) => hg.showError($('org-error'), text));
		if (!r || seq !== state.orgSeq)
			return;
		const keep = EXPIRY_FILTERS[$('org-expiring').value] || (() => true);
		const tokens = r.tokens.filter(keep);
		$('org-body').replaceChildren(...tokens.map(orgRow));
		$('org-table').hidden = tokens.length === 0;
		$('org-count').textContent = (tokens.length === 0 ? 'No token matches.' :
			tokens.length + (tokens.length === 1 ? ' token.' : ' tokens.')) +
			(r.truncated ? ' Only the first 500 were returned: narrow the filters.' : '');
	}

	function ownerText(o) {
		const name = o.display_name && o.display_name !== o.login ?
			o.login + ' (' + o.display_name + ')' : o.login;
		return name + (o.status === 'disabled' ? ' — user disabled' : '');
	}

	function expiryCell(t) {
		if (!t.expires_at)
			return 'never';
		const text = (t.expired ? 'Expired ' : t.expiring_soon ? 'Soon: ' : '') +
			hg.when(t.expires_at);
		const cls = 'expiry' + (t.expired || t.expiring_soon ? ' bad' : '');
		return el('span', { className: cls, title: hg.exactTime(t.expires_at) }, text);
	}

	function statusCell(t) {
		const box = el('div', { className: 'status-cell' });
		box.append(el('span', { className: 'org-status' }, t.status === 'active' ? 'Active' :
			      'Disabled'));
		if (t.status !== 'active')
			box.append(' ', hg.disabledNote(t));
		return box;
	}

	function orgRow(t) {
		const tr = el('tr');
		tr.dataset.id = t.id;
		tr.appendChild(hg.cell('Owner', ownerText(t.owner)));
		tr.appendChild(hg.cell('Name', el('span', { className: 'org-name' }, t.name)));
		const id = el('button', { type: 'button', className: 'tid',
					  title: 'Show the usage history' }, t.id);
		id.addEventListener('click', () => hg.openUsage(t));
		tr.appendChild(hg.cell('Token unique id', id));
		tr.appendChild(hg.cell('Invocations', String(t.invocations), 'num'));
		tr.appendChild(hg.cell('Last used from', lastUse(t), 'last-use'));
		tr.appendChild(hg.cell('Expires', expiryCell(t)));
		tr.appendChild(hg.cell('Status', statusCell(t)));
		tr.appendChild(hg.cell('Actions', orgActions(t), 'actions-cell'));
		return tr;
	}

	function orgButton(t, role, text, label, fn, cls) {
		const b = el('button', { type: 'button', className: cls || '' }, text);
		b.dataset.role = role;
		b.setAttribute('aria-label', label + ' ' + t.name + ' of ' + t.owner.login);
		b.addEventListener('click', () => fn(t));
		return b;
	}

	/* No Copy and no webhook URL: those are the owner's alone. */
	function orgActions(t) {
		const box = el('div', { className: 'row-actions' });
		const active = t.status === 'active';
		box.append(orgButton(t, 'toggle', active ? 'Disable' : 'Enable',
				     active ? 'Disable token' : 'Enable token', askStatus),
			   orgButton(t, 'history', 'History', 'Usage history of', hg.openUsage),
			   orgButton(t, 'delete', 'Delete', 'Delete token', askDelete, 'danger'));
		return box;
	}

	function focusRow(id, role) {
		const b = document.querySelector('#org-body tr[data-id="' + id + '"] [data-role="' +
						 role + '"]');
		(b || $('org-q')).focus();
	}

	function askConfirm(text, label, fn) {
		state.confirm = fn;
		$('dlg-org-confirm-title').textContent = label + ' token?';
		$('org-confirm-text').textContent = text;
		$('org-confirm').textContent = label;
		hg.openDialog($('dlg-org-confirm'), $('dlg-org-confirm').querySelector('.close'));
	}

	async function onConfirm() {
		const fn = state.confirm;
		state.confirm = null;
		$('dlg-org-confirm').close();
		if (fn)
			await fn();
	}

	const tokenTitle = (t) => '“' + t.name + '” (' + t.id + ') of ' + t.owner.login;

	function askStatus(t) {
		const disable = t.status === 'active';
		const why = disable ? 'Every call with it is refused (401) until it is enabled again.' :
			t.disabled_reason === 'exposed' ? 'It was reported leaked: it cannot be enabled ' +
			'until its owner rotates its secret (without a grace period).' :
			'Calls with it work again at once.';
		askConfirm((disable ? 'Disable ' : 'Enable ') + tokenTitle(t) + '? ' + why +
			   ' The change is audited with your login.', disable ? 'Disable' : 'Enable',
			   async () => {
				   const status = disable ? 'disabled' : 'active';
				   const r = await hg.act(() => hg.api('PATCH', '/tokens/' + t.id,
								       { status }));
				   if (!r)
					   return;
				   hg.notify('Token ' + tokenTitle(t) + ' is now ' + status + '.', true);
				   await loadOrg();
				   focusRow(t.id, 'toggle');
			   });
	}

	function askDelete(t) {
		askConfirm('Delete ' + tokenTitle(t) + '? This cannot be undone: every integration ' +
			   'that uses it fails from now on. Its usage history stays.', 'Delete',
			   async () => {
				   const ok = await hg.act(() => hg.api('DELETE', '/tokens/' + t.id)
							   .then(() => true));
				   if (!ok)
					   return;
				   hg.notify('Token ' + tokenTitle(t) + ' deleted.', true);
				   await loadOrg();
				   focusRow(t.id, 'delete');
			   });
	}

	/* ---- the Audit view ---------------------------------------------------------------------- */

	function detailsText(d) {
		if (d === null || d === undefined)
			return '—';
		return typeof d === 'string' ? d : JSON.stringify(d);
	}

	function auditRow(e) {
		const tr = el('tr');
		const d = e.details && typeof e.details === 'object' ? e.details : {};
		tr.appendChild(hg.cell('Time', el('span', { title: hg.exactTime(e.at) }, hg.when(e.at))));
		tr.appendChild(hg.cell('User', e.login || '—'));
		tr.appendChild(hg.cell('Action', e.action, 'action'));
		tr.appendChild(hg.cell('By', d.by ? d.by + ' (administrator)' : e.actor));
		tr.appendChild(hg.cell('Client address', e.client_addr || '—'));
		const details = hg.cell('Details', detailsText(e.details), 'ua');
		details.title = detailsText(e.details);
		tr.appendChild(details);
		return tr;
	}

	/* fresh: from the newest event; else the page older than the last one shown. */
	async function loadAudit(fresh) {
		if (fresh) {
			state.auditNext = null;
			$('audit-body').replaceChildren();
			$('audit-older').hidden = true;
		}
		const seq = ++state.auditSeq;
		let path = '/audit?limit=' + AUDIT_PAGE;
		if (state.auditNext)
			path += '&before=' + encodeURIComponent(state.auditNext);
		const r = await hg.act(() => hg.api('GET', path),
				       (text) => hg.showError($('audit-error'), text));
		if (!r || seq !== state.auditSeq)
			return;
		hg.showError($('audit-error'), '');
		for (const e of r.events)
			$('audit-body').appendChild(auditRow(e));
		state.auditNext = r.next;
		$('audit-older').hidden = !r.next;
		$('audit-empty').hidden = $('audit-body').children.length > 0;
	}

	/* ---- wiring ----------------------------------------------------------------------------- */

	document.addEventListener('hookgate:tokens', addLastUse);
	document.addEventListener('hookgate:session', onSession);
	document.addEventListener('hookgate:signedout', () => {
		$('views').hidden = true;
	});
	for (const b of navButtons())
		b.addEventListener('click', () => openView(b));
	$('form-org').addEventListener('submit', (ev) => {
		ev.preventDefault();
		loadOrg();
	});
	$('org-confirm').addEventListener('click', onConfirm);
	$('dlg-org-confirm').addEventListener('close', () => {
		state.confirm = null;
	});
	$('audit-older').addEventListener('click', () => loadAudit(false));
})();
