// WebSocket check of kalshi-sim with npm clients no one here wrote: the `ws` package connects,
// and the handshake is signed by the official client's own signing code (KalshiAuth from
// kalshi-typescript). It subscribes N markets, applies snapshots and deltas in order with exact
// integer arithmetic, checks seq per sid and the heartbeat pings, pauses the flow, and compares
// every book with the sim's ground truth. Prints CHECK lines like kalshi_ws_check.py.
//
// usage: node kalshi_ws_node.js PORT KEY_ID PRIVATE_PEM MARKETS SECONDS
'use strict';
const fs = require('fs');
const http = require('http');
const WebSocket = require('ws');
const kalshi = require('kalshi-typescript');
const { KalshiAuth } = require('kalshi-typescript/dist/auth');

const [port, keyId, keyPath, nMarkets, seconds] = process.argv.slice(2);
const base = `http://127.0.0.1:${port}`;

function check(name, exp, act) {
	console.log(['CHECK', name, JSON.stringify(exp), JSON.stringify(act)].join('\t'));
}

// "0.9600" -> 960000 micro-dollars, "-54.00" -> -5400 hundredths: exact, no floating point.
function fixed(s, decimals) {
	const neg = s.startsWith('-');
	const [i, f = ''] = (neg ? s.slice(1) : s).split('.');
	const v = Number(i) * 10 ** decimals + Number((f + '0'.repeat(decimals)).slice(0, decimals));
	return neg ? -v : v;
}

function ctl(method, path) {
	return new Promise((resolve, reject) => {
		const req = http.request(base + path, { method }, (res) => {
			let body = '';
			res.on('data', (d) => { body += d; });
			res.on('end', () => resolve(JSON.parse(body)));
		});
		req.on('error', reject);
		req.end();
	});
}

function bookOf(levels) {
	const m = new Map();
	for (const [p, q] of levels || [])
		m.set(fixed(p, 6), fixed(q, 2));
	return m;
}

function sameBook(a, b) {
	for (const s of ['yes', 'no']) {
		if (a[s].size !== b[s].size)
			return false;
		for (const [p, q] of a[s])
			if (b[s].get(p) !== q)
				return false;
	}
	return true;
}

async function main() {
	const markets = new kalshi.MarketApi(new kalshi.Configuration({ basePath: base + '/trade-api/v2' }));
	const r = await markets.getMarkets(1000, undefined, undefined, undefined, undefined, undefined,
		undefined, undefined, undefined, undefined, undefined, 'open');
	const tickers = r.data.markets.slice(0, Number(nMarkets)).map((m) => m.ticker);

	const auth = new KalshiAuth(keyId, fs.readFileSync(keyPath, 'utf8'));
	const ws = new WebSocket(`ws://127.0.0.1:${port}/trade-api/ws/v2`,
		{ headers: auth.generateAuthHeaders('GET', '/trade-api/ws/v2') });
	const books = new Map(), lastSeq = new Map();
	let gaps = 0, negative = 0, deltas = 0, pings = 0, heartbeat = true;

	ws.on('ping', (data) => {
		pings++;
		if (data.toString() !== 'heartbeat')
			heartbeat = false;
	});
	ws.on('message', (raw) => {
		const m = JSON.parse(raw);
		if (m.seq !== undefined) {
			if (m.seq !== (lastSeq.get(m.sid) || 0) + 1)
				gaps++;
			lastSeq.set(m.sid, m.seq);
		}
		if (m.type === 'orderbook_snapshot') {
			books.set(m.msg.market_ticker,
				{ yes: bookOf(m.msg.yes_dollars_fp), no: bookOf(m.msg.no_dollars_fp) });
		} else if (m.type === 'orderbook_delta') {
			const b = books.get(m.msg.market_ticker)[m.msg.side];
			const p = fixed(m.msg.price_dollars, 6);
			const v = (b.get(p) || 0) + fixed(m.msg.delta_fp, 2);
			deltas++;
			if (v < 0)
				negative++;
			else if (v === 0)
				b.delete(p);
			else
				b.set(p, v);
		}
	});
	await new Promise((resolve, reject) => {
		ws.on('open', resolve);
		ws.on('error', reject);
	});
	check('ws connects with KalshiAuth headers', true, true);
	ws.send(JSON.stringify({ id: 1, cmd: 'subscribe',
		params: { channels: ['orderbook_delta'], market_tickers: tickers } }));
	await new Promise((resolve) => setTimeout(resolve, Number(seconds) * 1000));
	await ctl('POST', '/_sim/flow?rate=0');
	await new Promise((resolve) => setTimeout(resolve, 500));
	check('a snapshot for every market', tickers.length, books.size);
	check('deltas received', true, deltas > 100);
	check('no seq gap', 0, gaps);
	check('no level driven negative', 0, negative);
	const bad = [];
	for (const t of tickers) {
		const truth = await ctl('GET', `/_sim/book?ticker=${t}`);
		if (!sameBook(books.get(t), { yes: bookOf(truth.yes_dollars_fp), no: bookOf(truth.no_dollars_fp) }))
			bad.push(t);
	}
	check('every book equals the ground truth', [], bad);
	check('heartbeat pings arrive', true, pings >= 2);
	check('pings carry "heartbeat"', true, heartbeat);
	ws.close();
}

main().catch((err) => {
	check('script ran to the end', 'no exception', String(err));
	process.exit(1);
});
