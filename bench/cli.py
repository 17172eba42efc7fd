"""``python -m bench [--quick]``: start the stack, measure, print the table, stop everything.

``--newsletter`` measures only the newsletter figures (``bench/newsletter.py``).
"""

from __future__ import annotations

import argparse
import json
import logging
import secrets
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from functools import partial
from http import HTTPStatus
from pathlib import Path
from types import FrameType
from typing import Any

from bench import report, results, workers
from bench.seed import BENCH_ARTICLE, SEED_MARKER
from bench.stack import running_bench_stack
from bench.web import WRK, Load, Measured, Operation, baseline_summary, interleaved_rounds, probe
from devstack.services import REPO, ServiceUnavailable
from devstack.stack import Stack

logger = logging.getLogger("bench")
OUT_DIR = REPO / "var" / "bench"
RESULTS_FILE = REPO / "docs" / "benchmark-results.md"
COMMENTS_PATH = f"/api/v1/articles/{BENCH_ARTICLE}/comments/"
SUBSCRIBE_PATH = "/api/v1/subscriptions/"
READER_PATH = f"/articles/{BENCH_ARTICLE}/"
UNSUBSCRIBE_FILE = OUT_DIR / "unsubscribe-paths.txt"
UNSUBSCRIBE_MISSING = {
    "operation": "POST one-click unsubscribe",
    "key": "unsubscribe",
    "status": "n/a (not built yet: no subscriber models or unsubscribe tokens)",
}
# Above the highest unsubscribe rate reached, so that rounds rarely reuse a token.
UNSUBSCRIBE_RATE_GUESS = 500

# Approvals on the listed article while its list is read: each one invalidates a cache.
APPROVALS_PER_SECOND = 5

BARE = Operation(
    key="bare", label="GET /bench/bare (baseline)", script="get.lua", path="/bench/bare", target=""
)


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument(
        "--quick",
        action="store_true",
        help="fewer, shorter rounds (about 4 min; < 2 with --no-rivals)",
    )
    parser.add_argument("--rounds", type=int, help="rounds per operation (5; quick 3)")
    parser.add_argument("--duration", type=int, help="whole seconds per wrk run (5; quick 2)")
    parser.add_argument("--connections", type=int, default=16, help="wrk connections (16)")
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument(
        "--scale",
        action="store_true",
        help="measure at a thousand rows, then at a million (kept database), and compare",
    )
    mode.add_argument(
        "--soak", action="store_true", help="hold half the capacity, mixed, for --minutes"
    )
    mode.add_argument(
        "--newsletter",
        action="store_true",
        help="only the newsletter figures (100,000 subscribers; quick 3,500)",
    )
    parser.add_argument(
        "--fresh", action="store_true", help="with --scale: drop the kept million-row database"
    )
    parser.add_argument("--minutes", type=float, default=10, help="with --soak: how long (10)")
    parser.add_argument(
        "--no-rivals",
        action="store_true",
        help="leave out django-comments-xtd, Isso and the metrics-off comparison",
    )
    parser.add_argument(
        "--only",
        choices=["rivals", "metrics"],
        help="measure only this phase (the stack is still started); metrics: the metrics rows",
    )
    args = parser.parse_args(argv)
    args.mode = next(
        (mode for mode in ("scale", "soak", "newsletter") if getattr(args, mode)), "standard"
    )
    if args.only and (args.no_rivals or args.mode != "standard"):
        parser.error("--only goes with neither --no-rivals, --scale, --soak nor --newsletter")
    args.rounds = args.rounds or (3 if args.quick else 5)
    args.duration = args.duration or (2 if args.quick else 5)
    return args


def _web_operations(stack: Stack, *, unsubscribe_file: Path | None) -> list[Operation]:
    operations = [
        Operation(
            key="comment_post",
            label="POST comment (API)",
            script="post_comment.lua",
            path=COMMENTS_PATH,
            method="POST",
            # A new probe comment each run: a kept database has the earlier runs' ones (409).
            probe_body=json.dumps(
                {
                    "author_name": "Probe",
                    "author_email": f"probe-{secrets.token_hex(4)}@bench.example.org",
                    "body": f"Probe {secrets.token_hex(4)}.",
                }
            ).encode(),
            expect=(HTTPStatus.ACCEPTED,),
            target=">= 0.25x, p99 <= 25 ms",
        ),
        Operation(
            key="comment_list",
            label="GET 50 approved comments (API)",
            script="get.lua",
            path=COMMENTS_PATH,
            target=">= 0.3x without a cache, >= 0.5x with one",
        ),
        Operation(
            key="comment_list_churn",
            label=f"GET 50 comments, {APPROVALS_PER_SECOND} approvals/s",
            script="get.lua",
            path=COMMENTS_PATH,
            target=">= 0.5x (cache invalidated on approval)",
            during=partial(
                workers.approvals_flowing, stack, path=COMMENTS_PATH, rate=APPROVALS_PER_SECOND
            ),
        ),
        Operation(
            key="reader_page",
            label="GET the reader page, 50 comments",
            script="get.lua",
            path=READER_PATH,
            target=">= 0.3x",
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


def seed(stack: Stack, *, tokens: int) -> dict[str, str]:
    """Seed demo data, the bench article and unsubscribe paths; return each part's outcome."""
    UNSUBSCRIBE_FILE.unlink(missing_ok=True)
    code = f"import bench.seed as s; s.seed_all(tokens={tokens}, out={str(UNSUBSCRIBE_FILE)!r})"
    started = time.monotonic()
    printed = stack.manage("shell", "-c", code, timeout=300).stdout
    outcomes = {}
    for line in printed.splitlines():
        if line.startswith(SEED_MARKER + " "):
            _, part, outcome = line.split(" ", 2)
            outcomes[part] = outcome
            if outcome != "ok":
                logger.warning("seeding %s %s", part, outcome)
    logger.info("seeded in %.1f s", time.monotonic() - started)
    return outcomes


def measure_web(stack: Stack, args: argparse.Namespace) -> list[dict[str, Any]]:
    tokens = int(UNSUBSCRIBE_RATE_GUESS * args.duration * (args.rounds + 1))
    seeded = seed(stack, tokens=tokens)
    unsubscribe_file = UNSUBSCRIBE_FILE if seeded.get("unsubscribe") == "ok" else None
    rows: list[dict[str, Any]] = []
    available = []
    for operation in _web_operations(stack, unsubscribe_file=unsubscribe_file):
        reason = probe(stack.base_url, operation)
        if reason is None:
            available.append(operation)
        rows.append({"operation": operation.label, "key": operation.key, "status": reason})
    if unsubscribe_file is None:
        rows.append(UNSUBSCRIBE_MISSING)
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


def measure_rivals(stack: Stack, args: argparse.Namespace) -> list[dict[str, Any]]:
    """reex's comment POST and list next to django-comments-xtd's and Isso's, and metrics off."""
    from bench import rivals

    operations = {op.key: op for op in _web_operations(stack, unsubscribe_file=None)}
    load = Load(duration=args.duration, connections=args.connections)
    stack.pause_queue("moderation")
    stack.pause_queue("email")
    try:
        if args.only == "metrics":
            return rivals.metrics_rows(
                stack, operations["comment_post"], load=load, rounds=args.rounds
            )
        return rivals.run(
            stack,
            post=operations["comment_post"],
            listing=operations["comment_list"],
            load=load,
            rounds=args.rounds,
        )
    finally:
        stack.purge_queues()


def measure_workers(
    stack: Stack, args: argparse.Namespace, web: list[dict[str, Any]]
) -> dict[str, dict[str, Any]]:
    status = {row["key"]: row["status"] for row in web}
    # Enough items that 400 comments/s or 300 emails/s take seconds, not a fraction of one.
    items, seconds = (200, 2) if args.quick else (2000, 12)
    comments, subscribe = status.get("comment_post"), status.get("subscribe")
    return {
        "moderation": _figure(
            comments,
            partial(workers.moderation_throughput, stack, path=COMMENTS_PATH, count=items),
        ),
        "latency": _figure(
            comments,
            partial(
                workers.moderation_latency, stack, path=COMMENTS_PATH, rate=50, seconds=seconds
            ),
        ),
        "emails": _figure(
            subscribe,
            partial(workers.email_throughput, stack, path=SUBSCRIBE_PATH, count=items),
        ),
    }


def _figure(needs: str | None, measure: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """Measure one worker figure if the endpoint it feeds on works; report failures as rows."""
    if needs != "ok":
        return {"status": needs or "n/a"}
    try:
        return measure()
    except (RuntimeError, TimeoutError, subprocess.CalledProcessError) as error:
        logger.exception("worker figure failed")
        return {"status": f"error: {str(error)[:120]}"}


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
    if args.mode != "newsletter" and shutil.which(WRK) is None:
        logger.error("wrk is missing: install it with `apt-get install wrk`")
        return 2
    signal.signal(signal.SIGTERM, _stop_on_sigterm)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        result = _run(args)
    except KeyboardInterrupt:
        logger.error("interrupted: every process stopped, the database dropped")
        return 130
    except ServiceUnavailable as error:
        logger.error("cannot start the stack: %s", error)
        return 2
    suffix = "" if args.mode == "standard" else f"-{args.mode}"
    suffix += f"-only-{args.only}" if args.only else ""
    report.write_json(result, OUT_DIR / f"last{suffix}.json")
    table = report.render(result)
    results.write(RESULTS_FILE, result["meta"], table)
    sys.stdout.write(table)
    return 0


def _run(args: argparse.Namespace) -> dict[str, Any]:
    started, clock = datetime.now(UTC), time.monotonic()
    if args.mode == "scale":
        from bench import scale

        body = scale.run(args)
    elif args.mode == "soak":
        from bench import soak

        body = soak.run(args)
    elif args.mode == "newsletter":
        body = _newsletter_only(args, clock)
    else:
        body = _standard(args, clock)
    return {
        "meta": {
            "started": started.strftime("%Y-%m-%d %H:%M UTC"),
            "commit": _commit(),
            "mode": args.mode,
            "quick": args.quick,
            "rounds": args.rounds,
            "duration": args.duration,
            "connections": args.connections,
            "only": getattr(args, "only", None),
            "elapsed": time.monotonic() - clock,
        },
        **body,
    }


def _standard(args: argparse.Namespace, clock: float) -> dict[str, Any]:
    work_dir = OUT_DIR / "run"
    shutil.rmtree(work_dir, ignore_errors=True)
    with running_bench_stack(work_dir=work_dir) as stack:
        logger.info("stack ready in %.1f s", time.monotonic() - clock)
        if args.only:
            seed(stack, tokens=0)
            return {"rivals": measure_rivals(stack, args)}
        web = measure_web(stack, args)
        logger.info("web rounds done at %.1f s", time.monotonic() - clock)
        rival_rows = [] if args.no_rivals else measure_rivals(stack, args)
        logger.info("comparisons done at %.1f s", time.monotonic() - clock)
        figures = measure_workers(stack, args, web)
        from bench import newsletter  # it measures with soak's helpers, which import this

        letter = _figure("ok", partial(newsletter.run, stack, quick=args.quick))
        stack.check_running()
    body = {"web": web, "workers": figures, "newsletter": letter}
    return body | ({"rivals": rival_rows} if rival_rows else {})


def _newsletter_only(args: argparse.Namespace, clock: float) -> dict[str, Any]:
    """Start the stack and measure the newsletter figures alone (no web or worker rounds)."""
    work_dir = OUT_DIR / "run"
    shutil.rmtree(work_dir, ignore_errors=True)
    with running_bench_stack(work_dir=work_dir) as stack:
        logger.info("stack ready in %.1f s", time.monotonic() - clock)
        from bench import newsletter

        letter = _figure("ok", partial(newsletter.run, stack, quick=args.quick))
        stack.check_running()
    return {"newsletter": letter}
