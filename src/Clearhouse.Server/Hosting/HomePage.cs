namespace Clearhouse.Server.Hosting;

/// <summary>The tiny page at <c>GET /</c>: what this is and where the endpoints are.</summary>
public static class HomePage
{
    public const string Html =
        """
        <!doctype html>
        <html lang="en">
        <head><meta charset="utf-8"><title>Clearhouse</title>
        <style>body{font-family:system-ui,sans-serif;max-width:46rem;margin:2rem auto;line-height:1.5}code{background:#f3f3f3;padding:0 .25em}</style>
        </head>
        <body>
        <h1>Clearhouse</h1>
        <p>A deterministic derivatives venue. This is its native JSON API, the operator's console, bound
        to loopback: reads are open, and every endpoint that changes state needs the operator token
        (<code>Authorization: Bearer</code>, from <code>operator-token</code> in the data directory).
        Traders use the Deribit-compatible API at <code>/api/v2/{public|private}/{method}</code> and
        <code>/ws/api/v2</code> (<code>docs/api.md</code>). Decimals are strings in answers and may be
        strings or JSON numbers in requests. Full reference: <code>docs/native-api.md</code>.</p>
        <ul>
        <li><a href="/health"><code>GET /health</code></a> &mdash; is the engine thread answering</li>
        <li><a href="/api/status"><code>GET /api/status</code></a> &mdash; last sequence, counters</li>
        <li><a href="/api/instruments"><code>GET /api/instruments</code></a> &mdash; listed instruments, marks, best bid/ask</li>
        <li><a href="/api/oracles"><code>GET /api/oracles</code></a> &mdash; index prices, their reporters and staleness; <a href="/api/funding/BTC_USDC-PERPETUAL"><code>GET /api/funding/{instrument}?limit=N</code></a> &mdash; a perpetual's funding rate and history</li>
        <li><a href="/api/book/BTC_USDC-PERPETUAL?depth=10"><code>GET /api/book/{instrument}?depth=N</code></a> &mdash; order book levels</li>
        <li><code>POST /api/accounts</code> &mdash; open an account</li>
        <li><code>POST /api/accounts/{id}/deposit</code>, <code>POST /api/accounts/{id}/withdraw</code> &mdash; <code>{"amount":"1000"}</code></li>
        <li><code>GET /api/accounts/{id}</code> &mdash; balances, margin, positions, open orders</li>
        <li><code>GET /api/accounts/{id}/margin</code> &mdash; margin report: cross figures, each position's part, portfolio binding scenarios, isolated positions (<code>docs/margin.md</code>)</li>
        <li><code>POST /api/accounts/{id}/margin-mode</code> &mdash; <code>{"mode":"portfolio"}</code> or <code>standard</code>; <code>POST /api/accounts/{id}/isolated</code> &mdash; <code>{"instrument":"BTC_USDC-PERPETUAL","isolated":true}</code>; <code>POST /api/accounts/{id}/isolated/transfer</code> &mdash; <code>{"instrument":"BTC_USDC-PERPETUAL","amount":"500"}</code> (negative: out)</li>
        <li><a href="/api/margin/scenarios"><code>GET /api/margin/scenarios</code></a> &mdash; the portfolio-margin stress scenarios</li>
        <li><code>POST /api/orders</code> &mdash; place; <code>POST /api/orders/{id}/amend</code>; <code>DELETE /api/orders/{id}?accountId=</code>; <code>DELETE /api/orders?accountId=&amp;instrument=</code></li>
        <li><a href="/api/blocks/latest"><code>GET /api/blocks/latest</code></a>, <code>GET /api/blocks/{height}</code>, <a href="/api/blocks?from=1&amp;limit=10"><code>GET /api/blocks?from=H&amp;limit=N</code></a> &mdash; sealed block headers</li>
        <li><code>GET /api/accounts/{id}/proof</code> &mdash; the account's Merkle proof against the latest block, checkable offline (<code>docs/proofs.md</code>)</li>
        <li><a href="/api/liquidations"><code>GET /api/liquidations?account=&amp;limit=N</code></a> &mdash; recent liquidation steps, newest first; <code>GET /api/liquidations/{sequence}/{index}</code> &mdash; a step's proof, checkable offline with <code>clearhouse verify-liquidation</code> (<code>docs/liquidation.md</code>)</li>
        <li><code>GET /api/accounts/{id}/adl?instrument=</code> &mdash; the account's place in the auto-deleveraging queue</li>
        <li><a href="/api/insurance"><code>GET /api/insurance</code></a> &mdash; the insurance fund: cash, takeover positions, equity, floor; <code>POST /api/insurance/deposit</code> &mdash; <code>{"amount":"100000"}</code> (governance)</li>
        <li><code>POST /api/accounts/{id}/api-keys</code>, <code>GET /api/accounts/{id}/api-keys</code>, <code>DELETE /api/api-keys/{clientId}</code> &mdash; the Deribit API's keys</li>
        </ul>
        </body>
        </html>
        """;
}
