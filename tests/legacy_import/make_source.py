"""Create the TS-era test deployment (dataset.py) as a database to try `zka import-legacy` on:

    .venv/bin/python -m tests.legacy_import.make_source postgresql://postgres@127.0.0.1:5432/postgres

creates a new database on that server (the URL's own database is only used to connect) and prints its URL
and the original's launch measurement. README: "Moving from the TypeScript original".
"""

from __future__ import annotations

import sys

from tests.legacy_import.dataset import MEASUREMENT, fill, private_source
from tests.legacy_import.dataset import build as build_dataset


def main(argv: list[str]) -> int:
    if len(argv) != 1 or not argv[0].startswith("postgresql://"):
        sys.stderr.write("usage: python -m tests.legacy_import.make_source postgresql://user@host:5432/any_db\n")
        return 2
    _name, url = private_source(argv[0])
    fill(url, build_dataset())
    print(f"TS_DB={url}")
    print(f"TS_MEASUREMENT={MEASUREMENT}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
