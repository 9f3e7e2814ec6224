"""``python -m spark``: the stream job (same entry point on EMR Serverless)."""

import sys

from spark.job import main

sys.exit(main())
