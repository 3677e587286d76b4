"""ccxt-backed crypto venues (binance, bybit, okx, ...). See connector.py for the valuation rules.

Nothing here imports ccxt at module import time: `client.new_exchange` imports it on first use, so
`import app.*` stays light (SPEC §3, idle RSS budget).
"""
