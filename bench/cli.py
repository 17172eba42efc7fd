"""``python -m bench [--quick]``: start the stack, measure, print the table, stop everything."""

from __future__ import annotations

import argparse
import json
import logging
import shutil
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime
from http import HTTPStatus
from pathlib import Path
from types import FrameType
from typing import Any

from bench import report, workers
from bench.seed import BENCH_ARTICLE
from bench.stack import REPO, BenchStack, running_bench_stack
from bench.web import WRK, Load, Measured, Operation, baseline_summary, interleaved_rounds, probe
from tests.support.processes import CommandError

logger = logging.getLogger("bench")
OUT_DIR = REPO / "var" / "bench"
COMMENTS_PATH = f"/api/v1/articles/{BENCH_ARTICLE}/comments/"
SUBSCRIBE_PATH = "/api/v1/subscriptions/"
# Sized so that unsubscribe rounds rarely reuse a token (about 800 req/s at most here).
UNSUBSCRIBE_RATE_GUESS = 800

BARE = Operation(
    key="bare", label="GET /bench/bare (baseline)", script="get.lua", path="/bench/bare", target=""
)


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="fewer, shorter rounds (< 2 min)")
    parser.add_argument("--rounds", type=int, help="rounds per operation (5; quick 3)")
    parser.add_argument("--duration", type=float, help="seconds per wrk run (5; quick 2)")
    parser.add_argument("--connections", type=int, default=16, help="wrk connections (16)")
    args = parser.parse_args(argv)
    args.rounds = args.rounds or (3 if args.quick else 5)
    args.duration = args.duration or (2 if args.quick else 5)
    return args


def _web_operations(*, unsubscribe_file: Path | None) -> list[Operation]:
    operations = [
        Operation(
            key="comment_post",
            label="POST comment (API)",
            script="post_comment.lua",
            path=COMMENTS_PATH,
            method="POST",
            probe_body=json.dumps(
                {"author_name": "Probe", "author_email": "probe@bench.example.org", "body": "Hi."}
            ).encode(),
            expect=(HTTPStatus.ACCEPTED,),
            target=">= 0.25x, p99 <= 25 ms",
        ),
        Operation(
            key="comment_list",
            label="GET 50 approved comments (API)",
            script="get.lua",
            path=COMMENTS_PATH,
            target=">= 0.5x cached, >= 0.3x uncached",
        ),
        Operation(
            key="subscribe",
            label="POST subscription sign-up (API)",
            script="post_subscribe.lua",
            path=SUBSCRIBE_PATH,
            method="POST",
            probe_body=b'{"email": "probe@bench.example.org", "consent": true}',
            expect=(HTTPStatus.ACCEPTED,),
            target=">= 0.25x",
        ),
    ]
    if unsubscribe_file is not None:
        first = unsubscribe_file.read_text().split("\n", 1)[0]
        operations.append(
            Operation(
                key="unsubscribe",
                label="POST one-click unsubscribe",
                script="post_unsubscribe.lua",
                path=first,
                method="POST",
                probe_body=b"List-Unsubscribe=One-Click",
                content_type="application/x-www-form-urlencoded",
                expect=(HTTPStatus.OK, HTTPStatus.ACCEPTED, HTTPStatus.NO_CONTENT),
                env={"BENCH_PATHS_FILE": str(unsubscribe_file)},
                target=">= 0.35x",
            )
        )
    return operations


def _seed(stack: BenchStack, *, tokens: int) -> tuple[Path | None, str]:
    """Create the bench article and unsubscribe paths; return the paths file or why not."""
    try:
        stack.manage("shell", "-c", "import bench.seed as s; s.article_with_comments()")
    except CommandError as error:
        logger.warning("could not create the bench article: %s", error.stderr[-500:])
    out = OUT_DIR / "unsubscribe-paths.txt"
    code = f"import bench.seed as s; s.unsubscribe_paths(count={tokens}, out={str(out)!r})"
    try:
        stack.manage("shell", "-c", code)
    except CommandError as error:
        logger.warning("no unsubscribe tokens: %s", error.stderr[-500:])
        return None, "n/a (not built yet: no subscribers or unsubscribe tokens)"
    return out, ""


def _web(stack: BenchStack, args: argparse.Namespace) -> list[dict[str, Any]]:
    tokens = int(UNSUBSCRIBE_RATE_GUESS * args.duration * (args.rounds + 1))
    unsubscribe_file, unsubscribe_missing = _seed(stack, tokens=tokens)
    rows: list[dict[str, Any]] = []
    available = []
    for operation in _web_operations(unsubscribe_file=unsubscribe_file):
        reason = probe(stack.base_url, operation)
        if reason is None:
            available.append(operation)
        rows.append({"operation": operation.label, "key": operation.key, "status": reason})
    if unsubscribe_missing:
        rows.append(
            {
                "operation": "POST one-click unsubscribe",
                "key": "unsubscribe",
                "status": unsubscribe_missing,
            }
        )
    load = Load(duration=args.duration, connections=args.connections)
    assert stack.web is not None
    # Workers would compete with gunicorn for the two cores: their queues wait meanwhile.
    stack.pause_queue("moderation")
    stack.pause_queue("email")
    measured = interleaved_rounds(
        stack.base_url,
        baseline=BARE,
        operations=available or [BARE],
        load=load,
        rounds=args.rounds,
        master_pid=stack.web.pid,
    )
    stack.purge_queues()
    return _merge(rows, measured)


def _merge(rows: list[dict[str, Any]], measured: list[Measured]) -> list[dict[str, Any]]:
    by_key = {m.operation.key: m.summary() for m in measured if m.operation.key != BARE.key}
    merged = [by_key.get(row["key"], row) for row in rows]
    return [baseline_summary(BARE, measured), *merged]


def _workers(
    stack: BenchStack, args: argparse.Namespace, web: list[dict[str, Any]]
) -> dict[str, dict[str, Any]]:
    status = {row["key"]: row["status"] for row in web}
    scale = 1 if args.quick else 3
    figures: dict[str, dict[str, Any]] = {}
    if status.get("comment_post") == "ok":
        figures["moderation"] = workers.moderation_throughput(
            stack, path=COMMENTS_PATH, count=600 * scale
        )
        figures["latency"] = workers.moderation_latency(
            stack, path=COMMENTS_PATH, rate=50, seconds=5 * scale
        )
    else:
        figures["moderation"] = figures["latency"] = {"status": status.get("comment_post")}
    if status.get("subscribe") == "ok":
        figures["emails"] = workers.email_throughput(stack, path=SUBSCRIBE_PATH, count=300 * scale)
    else:
        figures["emails"] = {"status": status.get("subscribe")}
    return figures


def _commit() -> str:
    result = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"],  # noqa: S607
        cwd=REPO, capture_output=True, text=True, check=False,
    )  # fmt: skip
    return result.stdout.strip() or "unknown"


def _stop_on_sigterm(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt  # unwinds through the stack's cleanup like Ctrl-C


def main(argv: list[str] | None = None) -> int:
    args = _arguments(argv)
    # Only the benchmark's own progress; the SMTP sink would log every connection.
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s bench: %(message)s")
    logger.setLevel(logging.INFO)
    if shutil.which(WRK) is None:
        logger.error("wrk is missing: install it with `apt-get install wrk`")
        return 2
    signal.signal(signal.SIGTERM, _stop_on_sigterm)
    started, clock = datetime.now(UTC), time.monotonic()
    work_dir = OUT_DIR / "run"
    shutil.rmtree(work_dir, ignore_errors=True)
    with running_bench_stack(work_dir=work_dir) as stack:
        web = _web(stack, args)
        figures = _workers(stack, args, web)
        stack.check_running()
    result = {
        "meta": {
            "started": started.strftime("%Y-%m-%d %H:%M UTC"),
            "commit": _commit(),
            "quick": args.quick,
            "rounds": args.rounds,
            "duration": args.duration,
            "connections": args.connections,
            "elapsed": time.monotonic() - clock,
        },
        "web": web,
        "workers": figures,
    }
    report.write_json(result, OUT_DIR / "last.json")
    sys.stdout.write(report.render(result))
    return 0
