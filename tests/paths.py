"""Where the suite's data lives: inside the repository, so a fresh clone runs on its own."""

from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
DATA = REPO_ROOT / "tests" / "data"
FIXTURES = DATA / "fixtures"
VECTORS = DATA / "vectors"
SEVSNP = FIXTURES / "sevsnp"
