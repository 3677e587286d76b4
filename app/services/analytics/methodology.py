"""The return methodology, stated once: carried (versioned) in every signed payload and in
/metrics/performance, drawn on the report page, and written out in the README's "Methodology".
Bump the version whenever a rule changes, so a reader knows which rules a signed figure followed."""

from __future__ import annotations

from typing import Any, Final

METHODOLOGY_VERSION = "zka-methodology-2"  # 1: the rules before issue 17 (never written into a payload)


# What each published figure means (kept beside app/connectors/ccxt/activity.py, holdings.py and
# pricing.py in spirit: a change of valuation rule changes this text in the same commit).
DEFINITIONS: Final[dict[str, str]] = {
    "equity": (
        "Every asset in every wallet the venue reports (spot, funding, margin net of loans, futures margin "
        "balances, earn/staking), valued in USD at the snapshot's prices. Futures and unified-account "
        "balances include their positions' unrealized PnL. An asset with no price route is listed as "
        "unpriced and left out, never guessed."
    ),
    "prices": (
        "From the venue's own tickers at the snapshot: USD is 1; stablecoins are valued at their own "
        "market, or taken as 1 only on venues with no USD market at all (USDT, then USDC). Any other asset "
        "is priced along the shortest chain of the venue's markets from USD (fewest conversions; on a tie "
        "the last hop goes through USD, USDT, USDC, BTC, ETH in that order). Staking and earn variants "
        "(e.g. DOT.S, ETH2.S) are valued as their coin."
    ),
    "cash": (
        "The USD value of cash-like assets (USD, EUR and USD stablecoins) in every wallet. Futures margin "
        "balances are cash-like coins and include the futures' unrealized PnL, so cash does too."
    ),
    "unrealized_pnl": (
        "Sum of the open positions' unrealized PnL in USD, each position once; PnL stated in a coin "
        "(inverse contracts) is valued at the snapshot's price. Informational: it is already "
        "part of equity (added to it only where the venue's balances leave it out: kraken margin)."
    ),
    "flows": (
        "Deposits and withdrawals that cross the account's boundary, crypto and fiat (bank, card, "
        "purchases with a card), including transfers from or to another account at the same venue. "
        "Transfers between the account's own wallets are not flows. Only completed flows count: pending, "
        "cancelled, failed and refunded ones are excluded. Each counts once, in the first snapshot whose "
        "balance shows it: a flow completed after the snapshot of its own date (up to the venue's look-back "
        "later: 30 days on binance, okx, kraken and bybit, 6 elsewhere) counts in the next one. A flow "
        "completing later than that is not seen; the days on which one was still pending at that bound are "
        "listed in coverage.late_flows."
    ),
    "flow_value": (
        "A flow is valued at the snapshot's price of its asset (not at the price of the moment it "
        "happened). A withdrawal counts its amount plus the venue's fee in the same asset (everything that "
        "left the account); a deposit counts what was credited."
    ),
    "returns": (
        "Daily returns are time-weighted (Modified Dietz per day), so deposits and withdrawals never count "
        "as performance."
    ),
}


def methodology(*, annualisation: float, stale_after_days: int | None, min_annualised_days: int,
                currency: str = "USD") -> dict[str, Any]:
    stale = ("an account is carried forward through any gap" if stale_after_days is None else
             f"an account with no snapshot for more than {stale_after_days} days stops being carried forward: "
             "it leaves at the close of its last snapshot (rejoining at the close of its next one) and is "
             "reported as stale")
    return {
        "version": METHODOLOGY_VERSION,
        "return": "time-weighted: daily Modified Dietz returns, geometrically linked",
        "valuation_time": "00:00 UTC (the close of the previous UTC day)",
        "currency": currency,
        "external_flows": "deposits and withdrawals are non-negative amounts with a direction, weighted 1/2 "
                          "on their day (mid-day); they are never returns; totals are gross",
        "accounts_joining_leaving": "an account enters the aggregate at the close of its first day (weight 0: "
                                    "no return of its own that day) and leaves at the close of its last day "
                                    "(not a flow of the next day)",
        "wipe_out": "a daily return of -100 % or worse is a wipe-out: the NAV is 0 from then on; negative "
                    "equity is kept as the venue reports it",
        "days_without_capital": "a day whose capital at risk is 0 or less has no return and is left out of "
                                "volatility and every ratio; CAGR starts at the first close with capital",
        "annualisation": f"{annualisation:g} calendar days per year for daily data; benchmark statistics use "
                         "the observed number of common dates per year",
        "short_periods": f"no figure is annualised for a period shorter than {min_annualised_days} days (GIPS)",
        "annual_returns": "per calendar year; a year not covered from 31 December to 31 December is "
                          "labelled partial",
        "undefined": "a figure that is not defined is null with its reason (in `undefined`), never NaN or "
                     "infinite",
        "gaps": "a day with no snapshot at all is not invented: the next return spans it; " + stale,
        "unknown_flows": "when a venue in the period cannot report deposits/withdrawals, their totals and "
                         "profit and loss are null, and every return-based figure is marked as depending "
                         "on them",
        "fees": "figures are net of the trading fees and funding venues charge to the account, and gross "
                "of any fee a venue does not report",
        "definitions": dict(DEFINITIONS),
    }
