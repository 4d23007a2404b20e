// REST checks of kalshi-sim with Kalshi's official TypeScript client (npm kalshi-typescript),
// run by tests/integration/t_sim_rest.sh with Debian's node. The client signs every request
// itself (its KalshiAuth: RSA-PSS over timestamp + METHOD + path); we only configure it.
// Prints "CHECK<TAB>name<TAB>expected<TAB>actual" lines like kalshi_ws_check.py.
//
// usage: node kalshi_rest.js BASE_URL KEY_ID PRIVATE_PEM OTHER_PRIVATE_PEM EXPECTED_MARKETS
'use strict';
const path = require('path');
const kalshi = require('kalshi-typescript');
const axios = require('axios');

const [base, keyId, keyPath, otherPath, expected] = process.argv.slice(2);

function check(name, exp, act) {
	console.log(['CHECK', name, JSON.stringify(exp), JSON.stringify(act)].join('\t'));
}

// Each client gets its own axios instance: the library installs its signing interceptor on the
// axios instance it is given, so sharing the global one would sign for every client.
function client(Api, withKey, keyFile) {
	const cfg = withKey ?
		new kalshi.Configuration({ apiKey: keyId, privateKeyPath: keyFile, basePath: base }) :
		new kalshi.Configuration({ basePath: base });
	return new Api(cfg, base, axios.create());
}

async function main() {
	const pkg = require('kalshi-typescript/package.json');
	check('the official client is kalshi-typescript', 'kalshi-typescript', pkg.name);
	check('it is loaded from tests/node_modules', true,
		require.resolve('kalshi-typescript').startsWith(path.join(__dirname, '..', 'node_modules')));

	const markets = client(kalshi.MarketApi, true, keyPath);
	const seen = new Set();
	let cursor, pages = 0, total = 0;
	do {
		const r = await markets.getMarkets(137, cursor);
		pages++;
		total += r.data.markets.length;
		for (const m of r.data.markets)
			seen.add(m.ticker);
		cursor = r.data.cursor;
	} while (cursor);
	check('cursor paging lists every market once', [Number(expected), Number(expected)], [total, seen.size]);
	check('paging took several pages', true, pages >= Math.ceil(Number(expected) / 137));

	const open = await markets.getMarkets(1000, undefined, undefined, undefined, undefined,
		undefined, undefined, undefined, undefined, undefined, undefined, 'open');
	check('status=open returns only active markets', true,
		open.data.markets.length > 0 && open.data.markets.every((m) => m.status === 'active'));
	const one = open.data.markets[0];
	const single = await markets.getMarket(one.ticker);
	check('getMarket returns the market', one.ticker, single.data.market.ticker);
	check('market fields are fixed-point strings', true,
		/^\d+\.\d{4,6}$/.test(single.data.market.yes_bid_dollars) &&
		/^\d+\.\d{2}$/.test(single.data.market.volume_fp) &&
		Array.isArray(single.data.market.price_ranges));
	const ob = await markets.getMarketOrderbook(one.ticker, 3);
	check('getMarketOrderbook depth 3', true,
		ob.data.orderbook_fp.yes_dollars.length <= 3 && ob.data.orderbook_fp.no_dollars.length <= 3);

	const events = client(kalshi.EventsApi, true, keyPath);
	const ev = await events.getEvents(5);
	check('getEvents pages events', 5, ev.data.events.length);
	check('getEvents gives a cursor', true, ev.data.cursor.length > 0);
	const e1 = await events.getEvent(ev.data.events[0].event_ticker);
	check('getEvent lists its markets', true, e1.data.markets.length > 0);

	const bal = await client(kalshi.PortfolioApi, true, keyPath).getBalance();
	check('a signed getBalance is accepted', 200, bal.status);

	let status = 0;
	try {
		await client(kalshi.PortfolioApi, false).getBalance();
	} catch (err) {
		status = err.response ? err.response.status : -1;
	}
	check('an unsigned getBalance is refused', 401, status);
	status = 0;
	try {
		await client(kalshi.MarketApi, true, otherPath).getMarkets(1);
	} catch (err) {
		status = err.response ? err.response.status : -1;
	}
	check('a request signed with another key is refused', 401, status);
	status = 0;
	try {
		await markets.getMarket('NO-SUCH-MARKET');
	} catch (err) {
		status = err.response ? err.response.status : -1;
		check('unknown market error body', { code: 'market_not_found', message: 'market not found' },
			err.response.data.error);
	}
	check('unknown market is 404', 404, status);
}

main().catch((err) => {
	check('script ran to the end', 'no exception', String(err));
	process.exit(1);
});
