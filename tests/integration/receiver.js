/* SPDX-License-Identifier: Apache-2.0 */
// receiver.js: the delivery tests' webhook receiver. It verifies every request with the
// Standard Webhooks reference library (npm standardwebhooks, pinned by package-lock.json), not
// with hookgate's own code, and appends one JSON line per request to a log:
//   {"seq","t" (ms since the epoch, on arrival of the whole body),"method","path","headers",
//    "body","verified","verified_by" (indexes of the path's secrets that verify it),
//    "error","answer" (the status it answers, or "hang")}
//
//   node receiver.js --port P --log FILE [--host ADDR] [--secrets FILE] [--control FILE]
//                    [--stats FILE] [--mode http|blackhole] [--tls CERT,KEY]
//
// --host: the address to listen on (default 127.0.0.1).
//
// --secrets: lines "PATH SECRET", re-read on every request (destinations are set after the
// receiver starts); several lines for one path during a rotation. --control: lines "PREFIX
// BEHAVIOUR", re-read on every request; the first PREFIX the path starts with decides,
// otherwise the path's first segment does. Behaviours (one segment, argument after "-"):
//   ok             204
//   fail-N         500 for the first N requests of each webhook-id, then 204
//   gone           410
//   ratelimit-S    429 with Retry-After: S for the first request of each webhook-id, then 204
//   redirect       301 to /ok/redirected (a client that follows it would be seen there)
//   status-C       C
//   hang           never answers (the request stays open until the client gives up)
//   slow-MS        204 after MS milliseconds
//   big-BYTES      200 with a body of BYTES bytes
// --stats: a JSON file rewritten on every change of the counters: connections and requests
// open now and at most, per behaviour prefix (the first path segment) and in all.
// --mode blackhole: accepts TCP connections and never reads or answers (counted in --stats).
// --tls CERT,KEY: serve HTTPS with that PEM certificate (chain) and key.
'use strict';

const fs = require('fs');
const http = require('http');
const https = require('https');
const net = require('net');
const { Webhook } = require('standardwebhooks');

function parseArgs(argv) {
	const opts = { mode: 'http', host: '127.0.0.1' };
	for (let i = 2; i < argv.length; i += 2) {
		const key = argv[i].replace(/^--/, '');
		if (!['port', 'host', 'log', 'secrets', 'control', 'stats', 'mode', 'tls'].includes(key) || i + 1 >= argv.length)
			throw new Error(`usage: receiver.js --port P --log FILE [--host A] [--secrets F] [--control F] [--stats F] [--mode http|blackhole] [--tls CERT,KEY] (bad: ${argv[i]})`);
		opts[key] = argv[i + 1];
	}
	if (!opts.port || (!opts.log && opts.mode === 'http')) throw new Error('receiver.js: --port and --log are required');
	return opts;
}

const opts = parseArgs(process.argv);

// Lines "KEY VALUE" of a file that may not exist yet.
function readPairs(file) {
	if (!file) return [];
	let text;
	try {
		text = fs.readFileSync(file, 'utf8');
	} catch (e) {
		return [];
	}
	return text.split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'))
		.map((l) => { const i = l.search(/\s/); return i < 0 ? [l, ''] : [l.slice(0, i), l.slice(i).trim()]; });
}

// ---- counters -------------------------------------------------------------------------------

const stats = { connections: 0, max_connections: 0, requests: 0, open: {}, max_open: {} };

function writeStats() {
	if (!opts.stats) return;
	fs.writeFileSync(opts.stats + '.tmp', JSON.stringify(stats));
	fs.renameSync(opts.stats + '.tmp', opts.stats);
}

function countConnection(socket) {
	stats.connections++;
	stats.max_connections = Math.max(stats.max_connections, stats.connections);
	writeStats();
	socket.on('close', () => { stats.connections--; writeStats(); });
}

// A request open until its answer is sent or its connection closes, counted per key.
function countOpen(key, res) {
	let open = true;
	stats.requests++;
	stats.open[key] = (stats.open[key] || 0) + 1;
	stats.max_open[key] = Math.max(stats.max_open[key] || 0, stats.open[key]);
	writeStats();
	const done = () => {
		if (!open) return;
		open = false;
		stats.open[key]--;
		writeStats();
	};
	res.on('finish', done);
	res.on('close', done); // also when the client gives up and closes the connection
}

// ---- verification ---------------------------------------------------------------------------

// Which of the path's secrets verify the request (the reference library's verify throws when
// no signature in webhook-signature matches, or the timestamp is off by more than 5 minutes).
function verify(path, headers, body) {
	const secrets = readPairs(opts.secrets).filter(([p]) => p === path).map(([, s]) => s);
	const by = [];
	let error = secrets.length ? null : 'no secret for this path';
	secrets.forEach((secret, i) => {
		try {
			new Webhook(secret).verify(body, headers, { jsonParse: false });
			by.push(i);
		} catch (e) {
			error = error || e.message;
		}
	});
	return { verified: by.length > 0, verified_by: by, error: by.length ? null : error };
}

// ---- behaviours -----------------------------------------------------------------------------

const attemptsById = new Map(); // webhook-id -> requests seen, for fail-N and ratelimit-S

function behaviourOf(path) {
	for (const [prefix, behaviour] of readPairs(opts.control)) if (path.startsWith(prefix)) return behaviour;
	return path.split('/')[1] || 'ok';
}

function answer(behaviour, n, res) {
	const dash = behaviour.indexOf('-');
	const name = dash < 0 ? behaviour : behaviour.slice(0, dash);
	const arg = dash < 0 ? 0 : Number(behaviour.slice(dash + 1));
	const send = (status, headers, body) => { res.writeHead(status, headers); res.end(body); return status; };
	switch (name) {
	case 'fail': return n <= arg ? send(500, {}, 'failing on purpose') : send(204, {});
	case 'gone': return send(410, {}, 'gone');
	case 'ratelimit': return n <= 1 ? send(429, { 'Retry-After': String(arg) }, 'slow down') : send(204, {});
	case 'redirect': return send(301, { Location: '/ok/redirected' }, '');
	case 'status': return send(arg, {}, `status ${arg}`);
	case 'hang': return 'hang';
	case 'slow': setTimeout(() => { if (!res.destroyed) send(204, {}); }, arg); return 204;
	case 'big': return send(200, { 'Content-Type': 'text/plain' }, 'x'.repeat(arg));
	default: return send(204, {});
	}
}

let seq = 0;

function handle(req, res, body) {
	const path = req.url.split('?')[0];
	if (req.method === 'GET' && path === '/_stats') {
		res.writeHead(200, { 'Content-Type': 'application/json' });
		return res.end(JSON.stringify(stats));
	}
	const behaviour = behaviourOf(path);
	countOpen(behaviour.split('-')[0], res);
	const id = req.headers['webhook-id'] || '';
	const n = (attemptsById.get(path + ' ' + id) || 0) + 1;
	attemptsById.set(path + ' ' + id, n);
	const v = verify(path, req.headers, body);
	const line = { seq: ++seq, t: Date.now(), method: req.method, path, headers: req.headers,
		body: body.toString('utf8'), verified: v.verified, verified_by: v.verified_by, error: v.error };
	line.answer = answer(behaviour, n, res);
	fs.appendFileSync(opts.log, JSON.stringify(line) + '\n');
}

function startHttp() {
	const handler = (req, res) => {
		const chunks = [];
		req.on('data', (c) => chunks.push(c));
		req.on('end', () => handle(req, res, Buffer.concat(chunks)));
	};
	let server;
	if (opts.tls) {
		const [cert, key] = opts.tls.split(',');
		server = https.createServer({ cert: fs.readFileSync(cert), key: fs.readFileSync(key) }, handler);
		server.on('secureConnection', countConnection);
	} else {
		server = http.createServer(handler);
		server.on('connection', countConnection);
	}
	server.keepAliveTimeout = 30000;
	server.headersTimeout = 0;
	server.requestTimeout = 0;
	return server;
}

// Accepts and holds every connection without reading it: a destination that never answers
// at the TCP level (the kernel completes the handshake, nobody speaks).
function startBlackhole() {
	stats.intervals = []; // [accepted ms, closed ms or null] of every connection
	return net.createServer((socket) => {
		countConnection(socket);
		const span = [Date.now(), null];
		stats.intervals.push(span);
		// Read and drop what the client sends, so that its close is seen at once.
		socket.on('data', () => {});
		socket.on('close', () => { span[1] = Date.now(); writeStats(); });
		socket.on('error', () => {});
	});
}

const server = opts.mode === 'blackhole' ? startBlackhole() : startHttp();
server.listen(Number(opts.port), opts.host, () => {
	writeStats();
	process.stdout.write(`listening on ${opts.host}:${opts.port}\n`);
});
process.on('SIGTERM', () => process.exit(0));
