"""The built-in `demo` venue: a paper account with a generated history, for development only."""

from app.connectors.demo.connector import DemoConnector, create

__all__ = ["DemoConnector", "create"]
