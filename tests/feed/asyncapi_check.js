// The AsyncAPI document of the live feed (static/asyncapi.json) against the real feed.
//
// usage: node asyncapi_check.js DOC WS_URL KEY KEY_26 KEY_27 TICKER_A TICKER_B
//   KEY     a key with ample credits and rate
//   KEY_26  a key whose account may hold 1 market per connection (error 26)
//   KEY_27  a key whose account has a rate of 2 calls a minute (error 27)
// The document's tickers KXT-A and KXT-B stand for TICKER_A and TICKER_B (recorded markets, one of
// them with a recorded gap). Prints one line per check: NAME<TAB>EXPECTED<TAB>ACTUAL.
//
// 1. @asyncapi/parser (the reference parser) parses it with no error.
// 2. Every command example of the document is sent to the feed, in the document's order;
//    every frame the feed sends back validates against exactly one of the document's receive
//    messages (the schemas are closed: additionalProperties false, so a field the feed sends and
//    the document does not name fails too), and the reply to each command is one of the replies
//    its operation declares.
// 3. Every error code the document lists is provoked and its frame validates (code and message
//    as documented), except 17 (the database down) and 25 (a client reading too slowly, provoked
//    by t_feed_core); an undocumented command gets error 5, an undocumented action 13.
// 4. Every receive message of the document was seen: nothing documented is never sent.
'use strict';
const fs = require('fs');
const path = require('path');
const nm = path.join(__dirname, '..', 'node_modules');
const { Parser } = require(path.join(nm, '@asyncapi/parser'));
const WebSocket = require(path.join(nm, 'ws'));

const [docPath, wsUrl, key, key26, key27, tickerA, tickerB] = process.argv.slice(2);
const out = (name, expected, actual) => {
	const j = (v) => (typeof v === 'string' ? v : JSON.stringify(v));
	console.log(`${name}\t${j(expected)}\t${j(actual)}`.replace(/\n/g, ' '));
};

// JSON Schema (draft 7, the AsyncAPI schema format) for the keywords the document uses; an
// unknown keyword is an error, so the check cannot pass by ignoring part of a schema.
const KNOWN = new Set(['type', 'const', 'enum', 'properties', 'required', 'additionalProperties', 'items',
	'additionalItems', 'minItems', 'maxItems', 'minLength', 'maxLength', 'minimum', 'pattern', 'oneOf',
	'description', 'title', 'x-parser-schema-id']);
function jtype(v) {
	if (v === null)
		return 'null';
	if (Array.isArray(v))
		return 'array';
	if (typeof v === 'number')
		return Number.isInteger(v) ? 'integer' : 'number';
	return typeof v;
}
function validate(s, v, where = '$') {
	if (s === true)
		return [];
	if (s === false)
		return [`${where}: not allowed`];
	const errs = [];
	for (const k of Object.keys(s))
		if (!KNOWN.has(k))
			errs.push(`${where}: schema keyword ${k} unknown to the checker`);
	const t = jtype(v);
	if (s.type !== undefined) {
		const ts = [].concat(s.type);
		if (!ts.includes(t) && !(t === 'integer' && ts.includes('number')))
			return errs.concat(`${where}: ${t}, not ${ts.join('|')}`);
	}
	if ('const' in s && JSON.stringify(s.const) !== JSON.stringify(v))
		errs.push(`${where}: ${JSON.stringify(v)} is not ${JSON.stringify(s.const)}`);
	if (s.enum && !s.enum.some((e) => JSON.stringify(e) === JSON.stringify(v)))
		errs.push(`${where}: ${JSON.stringify(v)} not in ${JSON.stringify(s.enum)}`);
	if (t === 'string') {
		if (s.minLength !== undefined && v.length < s.minLength)
			errs.push(`${where}: shorter than ${s.minLength}`);
		if (s.maxLength !== undefined && v.length > s.maxLength)
			errs.push(`${where}: longer than ${s.maxLength}`);
		if (s.pattern && !new RegExp(s.pattern, 'u').test(v))
			errs.push(`${where}: ${v} does not match ${s.pattern}`);
	}
	if ((t === 'integer' || t === 'number') && s.minimum !== undefined && v < s.minimum)
		errs.push(`${where}: below ${s.minimum}`);
	if (t === 'object') {
		for (const r of s.required || [])
			if (!(r in v))
				errs.push(`${where}: ${r} missing`);
		for (const [k, x] of Object.entries(v)) {
			if (s.properties && k in s.properties)
				errs.push(...validate(s.properties[k], x, `${where}.${k}`));
			else if (s.additionalProperties === false)
				errs.push(`${where}: ${k} is not in the document`);
		}
	}
	if (t === 'array') {
		if (s.minItems !== undefined && v.length < s.minItems)
			errs.push(`${where}: fewer than ${s.minItems} items`);
		if (s.maxItems !== undefined && v.length > s.maxItems)
			errs.push(`${where}: more than ${s.maxItems} items`);
		v.forEach((x, i) => {
			if (Array.isArray(s.items)) {
				const sub = i < s.items.length ? s.items[i] : (s.additionalItems ?? true);
				errs.push(...validate(sub, x, `${where}[${i}]`));
			} else if (s.items !== undefined) {
				errs.push(...validate(s.items, x, `${where}[${i}]`));
			}
		});
	}
	if (s.oneOf) {
		const n = s.oneOf.filter((sub) => validate(sub, v, where).length === 0).length;
		if (n !== 1)
			errs.push(`${where}: matches ${n} of oneOf, not 1`);
	}
	return errs;
}

// The document's example tickers stand for the test's markets.
const subst = (o) => JSON.parse(JSON.stringify(o).replaceAll('KXT-A', tickerA).replaceAll('KXT-B', tickerB));

function connect(k) {
	return new Promise((resolve, reject) => {
		const ws = new WebSocket(wsUrl, { headers: { 'X-API-Key': k } });
		const frames = [];
		ws.on('message', (data) => frames.push(JSON.parse(data.toString())));
		ws.on('open', () => resolve({
			ws,
			// Sends a frame; collects what arrives until its answer (the frame with its id, or an
			// error for a frame without one) is in and `quiet` ms pass with nothing new (5 s at most).
			async ask(frame, isAnswer, quiet = 300) {
				const from = frames.length;
				const id = typeof frame === 'object' ? frame.id : undefined;
				isAnswer = isAnswer || ((f) => (id === undefined ? f.type === 'error' : f.id === id));
				ws.send(typeof frame === 'string' ? frame : JSON.stringify(frame));
				const t0 = Date.now();
				let last = from, changed = t0;
				for (;;) {
					await new Promise((r) => setTimeout(r, 50));
					if (frames.length !== last) {
						last = frames.length;
						changed = Date.now();
					}
					const mine = frames.slice(from);
					const answered = mine.some(isAnswer);
					if ((answered && Date.now() - changed >= quiet) || Date.now() - t0 > 5000)
						return mine;
				}
			},
		}));
		ws.on('error', reject);
	});
}

(async () => {
	const text = fs.readFileSync(docPath, 'utf8');
	const { document, diagnostics } = await new Parser().parse(text);
	const errors = diagnostics.filter((d) => d.severity === 0).map((d) => `${d.code} ${JSON.stringify(d.path)}: ${d.message}`);
	out('@asyncapi/parser: no errors', [], errors);
	if (!document)
		return;
	out('asyncapi version', '3.0.0', document.version());
	const channels = document.channels().all().map((c) => c.address());
	out('one channel, /v1/feed', ['/v1/feed'], channels);

	const receive = new Map(); // name -> payload schema
	const sendOps = [];
	for (const op of document.operations().all()) {
		if (op.action() === 'send') {
			const replies = op.reply() ? op.reply().messages().all().map((m) => m.name()) : [];
			for (const m of op.messages().all()) {
				sendOps.push({ op: op.id(), name: m.name(), schema: m.payload().json(), examples: m.examples().all().map((e) => e.payload()), replies });
				for (const r of op.reply().messages().all())
					receive.set(r.name(), r.payload().json());
			}
		} else {
			for (const m of op.messages().all())
				receive.set(m.name(), m.payload().json());
		}
	}
	out('commands: the four of Kalshi\'s protocol', ['list_subscriptions', 'subscribe', 'unsubscribe', 'update_subscription'],
		sendOps.map((s) => s.name).sort());

	const seen = new Map();
	const bad = [];
	const match = (f) => [...receive].filter(([, s]) => validate(s, f).length === 0).map(([n]) => n);
	// Every frame matches exactly one receive message of the document.
	const classify = (f, ctx) => {
		const names = match(f);
		if (names.length !== 1) {
			const why = [...receive].map(([n, s]) => `${n}: ${validate(s, f).slice(0, 2).join('; ')}`).join(' | ');
			bad.push(`${ctx}: ${JSON.stringify(f).slice(0, 200)} matches ${names.length} (${why})`);
			return null;
		}
		seen.set(names[0], (seen.get(names[0]) || 0) + 1);
		return names[0];
	};
	const errorFrames = [];

	const c = await connect(key);
	// 2. the document's own command examples, subscribe first
	const order = ['subscribe', 'update_subscription', 'list_subscriptions', 'unsubscribe'];
	for (const name of order) {
		for (const s of sendOps.filter((x) => x.name === name)) {
			for (const ex of s.examples) {
				const frame = subst(ex);
				const vs = validate(s.schema, frame);
				out(`example ${JSON.stringify(ex)} validates against its own command`, [], vs);
				// The answer carries the command's id, except get_snapshot's: the snapshot itself.
				const isReply = (f) => f.id === frame.id ||
					(frame.params?.action === 'get_snapshot' && f.id === undefined && s.replies.some((r) => match(f).includes(r)));
				const got = await c.ask(frame, isReply);
				const replies = got.filter(isReply);
				const replyKinds = got.map((f) => [f, classify(f, `answer to ${name}`)]).filter(([f]) => isReply(f)).map(([, k]) => k);
				out(`${name} example id ${frame.id}: answered`, true, replies.length > 0);
				out(`${name} example id ${frame.id}: its replies are among the operation's`, [],
					replyKinds.filter((k) => !s.replies.includes(k)));
				out(`${name} example id ${frame.id}: no error`, [], got.filter((f) => f.type === 'error').map((f) => f.msg));
			}
		}
	}

	// 3. errors
	const trig = [
		[1, 'not JSON', 'hello'],
		[2, 'params missing', { id: 102, cmd: 'subscribe' }],
		[3, 'channels missing', { id: 103, cmd: 'subscribe', params: { market_ticker: tickerA } }],
		[4, 'sids missing', { id: 104, cmd: 'unsubscribe', params: {} }],
		[5, 'a command the document does not list', { id: 105, cmd: 'dance' }],
		[7, 'unknown sid', { id: 107, cmd: 'unsubscribe', params: { sids: [99] } }],
		[8, 'a channel the document does not list', { id: 108, cmd: 'subscribe', params: { channels: ['trade'], market_ticker: tickerA } }],
		[11, 'channels of the wrong type', { id: 111, cmd: 'subscribe', params: { channels: 'x', market_ticker: tickerA } }],
		[12, 'two sids in update_subscription', { id: 112, cmd: 'update_subscription', params: { sids: [1, 2], market_ticker: tickerA, action: 'add_markets' } }],
		[13, 'an action the document does not list', { id: 113, cmd: 'update_subscription', params: { sid: 1, market_ticker: tickerA, action: 'x' } }],
		[14, 'no ticker', { id: 114, cmd: 'subscribe', params: { channels: ['orderbook_delta'] } }],
		[15, 'no action', { id: 115, cmd: 'update_subscription', params: { sid: 1, market_ticker: tickerA } }],
		[16, 'unknown market', { id: 116, cmd: 'subscribe', params: { channels: ['orderbook_delta'], market_ticker: 'NOPE-XYZ' } }],
	];
	for (const [code, what, frame] of trig) {
		const got = await c.ask(frame);
		for (const f of got)
			classify(f, `answer to "${what}"`);
		const e = got.find((f) => f.type === 'error');
		errorFrames.push(e);
		out(`error ${code}: ${what}`, code, e ? e.msg.code : `no error in ${JSON.stringify(got)}`);
	}
	c.ws.close();

	const c26 = await connect(key26);
	let got = await c26.ask({ id: 126, cmd: 'subscribe', params: { channels: ['orderbook_delta'], market_tickers: [tickerA, tickerB] } });
	for (const f of got)
		classify(f, 'answer past the markets limit');
	out('error 26: more markets than the plan allows', 26, got.find((f) => f.type === 'error')?.msg.code ?? JSON.stringify(got));
	errorFrames.push(got.find((f) => f.type === 'error'));
	c26.ws.close();

	const c27 = await connect(key27);
	got = await c27.ask({ id: 127, cmd: 'subscribe', params: { channels: ['orderbook_delta'], market_ticker: tickerA } });
	got = got.concat(await c27.ask({ id: 128, cmd: 'update_subscription', params: { sid: 1, market_ticker: tickerB, action: 'add_markets' } }));
	for (const f of got)
		classify(f, 'answer past the rate');
	out('error 27: past the plan\'s rate', 27, got.find((f) => f.type === 'error')?.msg.code ?? JSON.stringify(got));
	errorFrames.push(got.find((f) => f.type === 'error'));
	c27.ws.close();

	const errSchema = receive.get('error');
	const documented = (errSchema?.properties?.msg?.oneOf || []).map((v) => v.properties.code.const).sort((a, b) => a - b);
	const provoked = [...new Set(errorFrames.filter(Boolean).map((f) => f.msg.code))].sort((a, b) => a - b);
	out('documented error codes = those provoked here + 17 + 25', documented,
		[...new Set(provoked.concat([17, 25]))].sort((a, b) => a - b));

	// 4. every documented receive message was seen
	out('every receive message of the document was sent by the feed', [...receive.keys()].sort(),
		[...receive.keys()].filter((n) => seen.has(n)).sort());
	out('frames that match no documented message or more than one', [], bad);
	process.exit(0);
})().catch((e) => {
	out('the check ran', 'ok', String(e && e.stack || e));
	process.exit(1);
});
