"""What each published figure means: one text, signed into every report and repeated in the README.

Kept beside the code it describes (app/connectors/ccxt/activity.py, holdings.py, pricing.py) so a
change of rule changes this text in the same commit.
"""

from __future__ import annotations

from typing import Final

METHODOLOGY: Final[dict[str, str]] = {
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
        "Sum of the open positions' unrealized PnL in USD, each position once. Informational: it is already "
        "part of equity (added to it only where the venue's balances leave it out: kraken margin)."
    ),
    "flows": (
        "Deposits and withdrawals that cross the account's boundary, crypto and fiat (bank, card, "
        "purchases with a card), including transfers from or to another account at the same venue. "
        "Transfers between the account's own wallets are not flows. Only completed flows count: pending, "
        "cancelled, failed and refunded ones are excluded. Each counts once, in the first snapshot whose "
        "balance shows it: a flow completed after the snapshot of its own date (up to 6 days later) counts "
        "in the next one."
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
