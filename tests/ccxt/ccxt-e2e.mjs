// ccxt (unmodified, from npm) against a running Clearhouse server's Deribit-compatible API.
//
//   CLEARHOUSE_URL=http://127.0.0.1:5080 CLIENT_ID=... CLIENT_SECRET=... node tests/ccxt/ccxt-e2e.mjs
//
// Every check prints one line, "ok <name>" or "FAIL <name>: <why>"; the last line is
// "ccxt: N passed, N failed" and the exit code is non-zero if any check failed. The server must run
// the demo (market makers quote the BTC perpetual, so market orders fill).
import ccxt from 'ccxt';

const url = process.env.CLEARHOUSE_URL ?? 'http://127.0.0.1:5080';
const apiKey = process.env.CLIENT_ID;
const secret = process.env.CLIENT_SECRET;
if (!apiKey || !secret) {
  console.error('Set CLIENT_ID and CLIENT_SECRET (the server prints them at startup).');
  process.exit(2);
}

const wsUrl = url.replace(/^http/, 'ws') + '/ws/api/v2';
const options = { urls: { api: { rest: url, ws: wsUrl } }, enableRateLimit: false, timeout: 20000 };
const exchange = new ccxt.pro.deribit({ apiKey, secret, ...options });
const symbol = 'BTC/USDC:USDC';

let passed = 0;
let failed = 0;

async function check(name, fn) {
  try {
    await fn();
    passed++;
    console.log(`ok ${name}`);
  } catch (e) {
    failed++;
    console.log(`FAIL ${name}: ${e?.constructor?.name ?? 'Error'}: ${e?.message ?? e}`);
  }
}

function assert(condition, message) {
  if (!condition) {
    throw new Error(message);
  }
}

async function expectError(type, fn) {
  try {
    await fn();
  } catch (e) {
    assert(e instanceof type, `expected ${type.name}, got ${e?.constructor?.name}: ${e?.message}`);
    return e;
  }
  throw new Error(`expected ${type.name}, but the call succeeded`);
}

const withTimeout = (promise, ms, what) =>
  Promise.race([promise, new Promise((_, reject) => setTimeout(() => reject(new Error(`${what}: nothing within ${ms} ms`)), ms))]);

let market;
let book;

await check('loadMarkets: linear USDC perpetual, futures and options', async () => {
  const markets = await exchange.loadMarkets();
  market = markets[symbol];
  assert(market, `no ${symbol} among ${Object.keys(markets).length} markets`);
  assert(market.swap && market.linear && !market.inverse, `${symbol} is not a linear swap: ${JSON.stringify({ swap: market.swap, linear: market.linear })}`);
  assert(market.settle === 'USDC' && market.quote === 'USDC' && market.base === 'BTC', `${symbol}: base ${market.base} quote ${market.quote} settle ${market.settle}`);
  const futures = Object.values(markets).filter((m) => m.future && m.base === 'BTC');
  const options = Object.values(markets).filter((m) => m.option && m.base === 'BTC');
  assert(futures.length > 0, 'no BTC futures');
  assert(options.length > 0, 'no BTC options');
  assert(options.every((m) => m.linear && m.settle === 'USDC' && m.strike > 0 && (m.optionType === 'call' || m.optionType === 'put')), 'an option is not a linear USDC call/put with a strike');
  assert(market.precision.price > 0 && market.limits.amount.min > 0, 'tick size and minimum amount missing');
});

await check('fetchOrderBook', async () => {
  // The demo market makers need a moment after start to quote.
  for (let attempt = 0; attempt < 40; attempt++) {
    book = await exchange.fetchOrderBook(symbol, 10);
    if (book.bids.length > 0 && book.asks.length > 0) break;
    await new Promise((r) => setTimeout(r, 250));
  }
  assert(book.bids.length > 0 && book.asks.length > 0, 'the book is empty');
  assert(book.bids[0][0] < book.asks[0][0], `crossed book: bid ${book.bids[0][0]} ask ${book.asks[0][0]}`);
  for (let i = 1; i < book.bids.length; i++) assert(book.bids[i][0] < book.bids[i - 1][0], 'bids not best first');
  for (let i = 1; i < book.asks.length; i++) assert(book.asks[i][0] > book.asks[i - 1][0], 'asks not best first');
});

await check('fetchTicker: perpetual (mark, index, funding, open interest)', async () => {
  const ticker = await exchange.fetchTicker(symbol);
  assert(ticker.symbol === symbol, `symbol ${ticker.symbol}`);
  assert(ticker.bid > 0 && ticker.ask > 0 && ticker.bid < ticker.ask, `bid ${ticker.bid} ask ${ticker.ask}`);
  assert(ticker.markPrice > 0 && ticker.indexPrice > 0, `mark ${ticker.markPrice} index ${ticker.indexPrice}`);
  assert(ticker.info.current_funding !== undefined && ticker.info.open_interest !== undefined, 'funding or open interest missing');
});

await check('fetchTicker: option (Greeks and IV)', async () => {
  const call = Object.values(exchange.markets).find((m) => m.option && m.base === 'BTC' && m.optionType === 'call' && m.active);
  const ticker = await exchange.fetchTicker(call.symbol);
  const greeks = ticker.info.greeks;
  assert(greeks, 'no greeks');
  assert(greeks.delta > 0 && greeks.delta < 1, `call delta ${greeks.delta}`);
  assert(greeks.gamma > 0 && greeks.vega > 0, `gamma ${greeks.gamma} vega ${greeks.vega}`);
  assert(ticker.info.mark_iv > 0, `mark_iv ${ticker.info.mark_iv}`);
});

const amount = () => market.limits.amount.min;
const farBelow = () => exchange.priceToPrecision(symbol, book.bids[0][0] * 0.9);
let restingId;

await check('createOrder: limit (rests, open)', async () => {
  const order = await exchange.createOrder(symbol, 'limit', 'buy', amount(), farBelow(), { label: 'ccxt-e2e' });
  restingId = order.id;
  assert(order.id && order.status === 'open', `status ${order.status}`);
  assert(order.amount === amount() && order.filled === 0, `amount ${order.amount} filled ${order.filled}`);
  assert(order.side === 'buy' && order.type === 'limit' && order.symbol === symbol, `${order.side} ${order.type} ${order.symbol}`);
});

await check('fetchOpenOrders (by instrument and by currency)', async () => {
  const byInstrument = await exchange.fetchOpenOrders(symbol);
  assert(byInstrument.some((o) => o.id === restingId), 'the resting order is missing (by instrument)');
  const all = await exchange.fetchOpenOrders();
  assert(all.some((o) => o.id === restingId), 'the resting order is missing (by currency)');
});

await check('fetchOrder', async () => {
  const order = await exchange.fetchOrder(restingId, symbol);
  assert(order.id === restingId && order.status === 'open', `status ${order.status}`);
});

await check('editOrder', async () => {
  const newPrice = exchange.priceToPrecision(symbol, book.bids[0][0] * 0.89);
  const order = await exchange.editOrder(restingId, symbol, 'limit', 'buy', amount() * 2, newPrice);
  assert(order.id === restingId, `edited order id ${order.id}`);
  assert(order.amount === amount() * 2, `amount ${order.amount}`);
  assert(order.price === Number(newPrice), `price ${order.price} (wanted ${newPrice})`);
});

await check('cancelOrder', async () => {
  const order = await exchange.cancelOrder(restingId, symbol);
  assert(order.status === 'canceled', `status ${order.status}`);
  const again = await exchange.fetchOrder(restingId, symbol);
  assert(again.status === 'canceled', `fetchOrder after cancel: ${again.status}`);
});

let marketOrder;
await check('createOrder: market (fills)', async () => {
  marketOrder = await exchange.createOrder(symbol, 'market', 'buy', amount());
  assert(marketOrder.status === 'closed', `status ${marketOrder.status}`);
  assert(marketOrder.filled === amount(), `filled ${marketOrder.filled}`);
  assert(marketOrder.average > 0, `average ${marketOrder.average}`);
});

await check('fetchMyTrades', async () => {
  const trades = await exchange.fetchMyTrades(symbol);
  const mine = trades.filter((t) => t.order === marketOrder.id);
  assert(mine.length > 0, `no trade of order ${marketOrder.id} among ${trades.length}`);
  assert(mine.every((t) => t.side === 'buy' && t.takerOrMaker === 'taker' && t.price > 0 && t.fee?.currency === 'USDC'), JSON.stringify(mine[0]));
});

await check('fetchPositions', async () => {
  const positions = await exchange.fetchPositions([symbol]);
  const position = positions.find((p) => p.symbol === symbol);
  assert(position, 'no BTC perpetual position');
  assert(position.side === 'long' && position.contracts > 0, `side ${position.side} contracts ${position.contracts}`);
});

await check('createOrder: reduce-only (closes part of the position)', async () => {
  const order = await exchange.createOrder(symbol, 'market', 'sell', amount(), undefined, { reduceOnly: true });
  assert(order.status === 'closed' && order.filled === amount(), `status ${order.status} filled ${order.filled}`);
  // ccxt's deribit parseOrder leaves reduceOnly undefined; the venue's own field says it.
  assert(order.info.reduce_only === true, `reduce_only ${order.info.reduce_only}`);
});

await check('createOrder: post-only (rests; crossing is refused as InvalidOrder)', async () => {
  const order = await exchange.createOrder(symbol, 'limit', 'sell', amount(), exchange.priceToPrecision(symbol, book.asks[0][0] * 1.1), { postOnly: true });
  assert(order.status === 'open' && order.postOnly === true, `status ${order.status} postOnly ${order.postOnly}`);
  await exchange.cancelOrder(order.id, symbol);
  // The demo's makers requote every 200 ms: when the ask moves up between reading it and the order
  // arriving, the order no longer crosses and rests. Take it back and try again at the new ask.
  let refusal;
  for (let attempt = 1; attempt <= 5 && !refusal; attempt++) {
    const current = await exchange.fetchOrderBook(symbol, 1);
    let rested;
    try {
      rested = await exchange.createOrder(symbol, 'limit', 'buy', amount(), current.asks[0][0], { postOnly: true });
    } catch (e) {
      assert(e instanceof ccxt.InvalidOrder, `expected InvalidOrder, got ${e?.constructor?.name}: ${e?.message}`);
      refusal = e;
      continue;
    }
    // It rested, now the best bid: the demo's taker may fill it before the cancel arrives
    // (OrderNotFound, which ccxt also counts as an InvalidOrder, so it is kept apart from the refusal).
    try {
      await exchange.cancelOrder(rested.id, symbol);
    } catch (e) {
      assert(e instanceof ccxt.OrderNotFound, `cancelling the rested post-only order: ${e?.constructor?.name}: ${e?.message}`);
    }
  }
  assert(refusal, 'a post-only buy at the best ask was accepted in 5 of 5 tries');
  assert(/post.?only/i.test(refusal.message), `refused for another reason: ${refusal.message}`);
});

await check('fetchBalance', async () => {
  const balance = await exchange.fetchBalance();
  assert(balance.USDC && balance.USDC.total > 0, `USDC ${JSON.stringify(balance.USDC)}`);
  assert(balance.USDC.free <= balance.USDC.total, `free ${balance.USDC.free} total ${balance.USDC.total}`);
});

await check('errors: InsufficientFunds', async () => {
  await expectError(ccxt.InsufficientFunds, () => exchange.createOrder(symbol, 'limit', 'buy', 100000, farBelow()));
});

await check('errors: OrderNotFound', async () => {
  await expectError(ccxt.OrderNotFound, () => exchange.cancelOrder('987654321', symbol));
});

await check('errors: InvalidOrder (price off the tick)', async () => {
  const offTick = (Number(farBelow()) + market.precision.price / 2).toString();
  await expectError(ccxt.InvalidOrder, () => exchange.createOrder(symbol, 'limit', 'buy', amount(), farBelow(), { price: offTick }));
});

await check('errors: AuthenticationError (wrong secret)', async () => {
  const wrong = new ccxt.deribit({ apiKey, secret: secret + 'x', ...options });
  wrong.markets = exchange.markets;
  wrong.markets_by_id = exchange.markets_by_id;
  await expectError(ccxt.AuthenticationError, () => wrong.fetchBalance());
});

await check('watchOrderBook', async () => {
  await exchange.loadHttpProxyAgent();
  const first = await withTimeout(exchange.watchOrderBook(symbol), 10000, 'watchOrderBook');
  assert(first.bids.length > 0 && first.asks.length > 0, 'empty book from the stream');
  assert(first.bids[0][0] < first.asks[0][0], 'crossed book from the stream');
  // The demo quotes move: a second update arrives and the book stays consistent.
  const second = await withTimeout(exchange.watchOrderBook(symbol), 10000, 'watchOrderBook (update)');
  assert(second.bids.length > 0 && second.bids[0][0] < second.asks[0][0], 'inconsistent book after an update');
});

await check('watchOrders', async () => {
  // The first call sends the subscription; on a loaded machine it can land after the order it was
  // meant to see. Wait longer each time and place another order, until one arrives on the stream.
  const placedIds = [];
  let last;
  for (let attempt = 1; attempt <= 5; attempt++) {
    const watching = withTimeout(exchange.watchOrders(symbol), 10000, 'watchOrders').catch((e) => e);
    await new Promise((r) => setTimeout(r, 300 * attempt));
    placedIds.push((await exchange.createOrder(symbol, 'limit', 'buy', amount(), farBelow())).id);
    last = await watching;
    if (Array.isArray(last) && last.some((o) => placedIds.includes(o.id))) break;
  }
  for (const id of placedIds) await exchange.cancelOrder(id, symbol);
  assert(Array.isArray(last) && last.some((o) => placedIds.includes(o.id)),
    `none of the new orders ${placedIds.join(',')} arrived: ${Array.isArray(last) ? 'got ' + last.map((o) => o.id).join(',') : last}`);
});

await exchange.close();
console.log(`ccxt: ${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
