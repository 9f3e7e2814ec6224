"""``python -m contract {export,docs}``: write the generated artifacts other components read."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from contract.fields import SCHEMA_VERSION
from contract.rules import docs_markdown
from contract.tables import TABLES

ROOT = Path(__file__).resolve().parent.parent
TABLES_JSON = Path(__file__).resolve().parent / "tables.json"
DOCS_MD = ROOT / "docs" / "validation.md"


def tables_json() -> str:
    """The Glue tables' columns, read by Terraform with jsondecode(file(...))."""
    doc = {
        "schema_version": SCHEMA_VERSION,
        "tables": {
            t.name: {
                "description": t.doc,
                "columns": t.glue_columns(),
                "partition_keys": t.glue_partition_keys(),
            }
            for t in TABLES
        },
    }
    return json.dumps(doc, indent=2) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m contract", description=__doc__)
    parser.add_argument("what", choices=["export", "docs", "all"], help="artifact to regenerate")
    args = parser.parse_args()
    if args.what in ("export", "all"):
        TABLES_JSON.write_text(tables_json())
        print(f"wrote {TABLES_JSON.relative_to(ROOT)}")
    if args.what in ("docs", "all"):
        DOCS_MD.parent.mkdir(exist_ok=True)
        DOCS_MD.write_text(docs_markdown())
        print(f"wrote {DOCS_MD.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
