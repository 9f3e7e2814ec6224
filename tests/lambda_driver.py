"""Runs a Lambda handler the way the python3.11 runtime does, for tests/test_lambda_zip.py.

``python -I lambda_driver.py TASK_ROOT HANDLER`` with the clean runtime Python: the working
directory and the first import path are the unpacked zip (Lambda's /var/task), the handler is
resolved like the runtime's bootstrap (``module.path.function``, imported once: the cold start),
then every stdin line is one event (JSON) and every stdout line one answer (JSON). Only the
standard library here: this file runs next to the function, not inside the project's venv.

Lambda's filesystem is read-only outside /tmp and holds only the zip and the runtime, so an
audit hook records every file the function opens outside those places, and every write outside
/tmp; the last stdout line reports them.
"""

from __future__ import annotations

import importlib
import json
import os
import sys
import time
import traceback
import uuid
from typing import Any

WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_TRUNC


class Context:
    """The attributes of the runtime's LambdaContext that handlers read."""

    def __init__(self, timeout_s: float) -> None:
        env = os.environ
        self.function_name = env.get("AWS_LAMBDA_FUNCTION_NAME", "")
        self.function_version = env.get("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        self.memory_limit_in_mb = env.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
        self.log_group_name = env.get("AWS_LAMBDA_LOG_GROUP_NAME", "")
        self.log_stream_name = env.get("AWS_LAMBDA_LOG_STREAM_NAME", "")
        region = env.get("AWS_REGION", "")
        self.invoked_function_arn = (
            f"arn:aws:lambda:{region}:000000000000:function:{self.function_name}"
        )
        self.aws_request_id = str(uuid.uuid4())
        self.identity = None
        self.client_context = None
        self._deadline = time.monotonic() + timeout_s

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


def main() -> int:
    task_root, handler_name = sys.argv[1], sys.argv[2]
    timeout_s = float(sys.argv[3]) if len(sys.argv) > 3 else 30.0
    allowed = tuple(
        os.path.realpath(p) + os.sep
        for p in (task_root, sys.prefix, sys.base_prefix, "/tmp", "/dev", "/proc", "/sys")
    )
    task, tmp = os.path.realpath(task_root) + os.sep, os.path.realpath("/tmp") + os.sep
    outside: set[str] = set()
    writes: set[str] = set()

    def audit(event: str, args: tuple[Any, ...]) -> None:
        if event != "open" or not isinstance(args[0], str | bytes):
            return
        path = os.path.realpath(os.fsdecode(args[0]))
        mode, flags = args[1], args[2]
        writing = (isinstance(mode, str) and any(c in mode for c in "wax+")) or bool(
            isinstance(flags, int) and flags & WRITE_FLAGS
        )
        # Writable on Lambda: /tmp only, never the task root (here it may lie under /tmp).
        if writing and (path.startswith(task) or not path.startswith(tmp)):
            writes.add(path)
        if not (path + os.sep).startswith(allowed):
            outside.add(path)

    # The app's own stdout (print, logging) must not mix with the answers.
    answers = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)
    sys.stdout = sys.stderr

    def answer(obj: dict[str, Any]) -> None:
        answers.write(json.dumps(obj) + "\n")
        answers.flush()

    sys.dont_write_bytecode = True  # /var/task is read-only: no __pycache__ there either
    sys.addaudithook(audit)
    os.chdir(task_root)
    sys.path.insert(0, task_root)
    started = time.monotonic()
    try:
        module_name, function_name = handler_name.rsplit(".", 1)
        module = importlib.import_module(module_name.replace("/", "."))
        handler = getattr(module, function_name)
    except Exception as exc:  # reported like Runtime.ImportModuleError
        answer(
            {
                "init_error": f"Unable to import module '{handler_name}': {exc!r}",
                "errorType": type(exc).__name__,
                "trace": traceback.format_exc(),
                "opened_outside": sorted(outside),
                "writes": sorted(writes),
            }
        )
        return 1
    init_ms = (time.monotonic() - started) * 1000
    answer({"ready": True, "init_ms": round(init_ms, 1), "sys_path": sys.path})

    for line in sys.stdin:
        if not line.strip():
            continue
        event = json.loads(line)
        os.environ["_X_AMZN_TRACE_ID"] = f"Root=1-{int(time.time()):08x}-{uuid.uuid4().hex[:24]}"
        began = time.monotonic()
        try:
            # The runtime serialises what the handler returns as JSON: so must this.
            result = json.loads(json.dumps(handler(event, Context(timeout_s))))
        except Exception as exc:  # reported like the runtime's error payload
            answer({"errorType": type(exc).__name__, "errorMessage": str(exc)})
            continue
        answer({"result": result, "ms": round((time.monotonic() - began) * 1000, 1)})

    answer({"done": True, "opened_outside": sorted(outside), "writes": sorted(writes)})
    return 0


if __name__ == "__main__":
    sys.exit(main())
