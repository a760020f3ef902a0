"""Start-up: `langlearn chat` to its first "> " prompt, beside `python -c pass`.

Two cases on a temporary SQLite file: fresh (the console migrates it on start) and already
migrated (the file a previous run left). Median of several runs each; one JSON line.
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import emit, log, now_ns, ratio

RUNS = int(os.environ.get("BENCH_STARTUP_RUNS", "7"))
PROMPT = b"> "
TIMEOUT_S = 60.0


def _langlearn() -> str:
    """The `langlearn` script of this environment (beside the running interpreter)."""
    candidate = Path(sys.executable).with_name("langlearn")
    if candidate.exists():
        return str(candidate)
    found = shutil.which("langlearn")
    if found is None:
        raise SystemExit("bench: the `langlearn` command is not installed in this environment")
    return found


def _clean_env() -> dict[str, str]:
    """The environment minus any langlearn setting that would reach a real service."""
    keep = {"PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "PYTHONHASHSEED", "UV_PYTHON"}
    return {k: v for k, v in os.environ.items() if k in keep}


def _time_to_prompt(argv: list[str], cwd: Path) -> float:
    """Seconds from spawn until stdout ends with the prompt (then stdin is closed)."""
    start = time.perf_counter()
    proc = subprocess.Popen(
        argv, cwd=cwd, env=_clean_env(), stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    assert proc.stdout is not None and proc.stdin is not None
    seen = b""
    try:
        while True:
            chunk = os.read(proc.stdout.fileno(), 65536)
            if not chunk:
                err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
                raise SystemExit(f"bench: {argv[0]} exited before its prompt; output {seen[-500:]!r}; {err[-2000:]}")
            seen += chunk
            if seen.endswith(PROMPT) or b"\n> " in seen[-64:]:
                elapsed = time.perf_counter() - start
                break
            if time.perf_counter() - start > TIMEOUT_S:
                raise SystemExit(f"bench: no prompt after {TIMEOUT_S}s; output {seen[-500:]!r}")
    finally:
        proc.stdin.close()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    return elapsed


def _time_process(argv: list[str], cwd: Path) -> float:
    start = time.perf_counter()
    subprocess.run(argv, cwd=cwd, env=_clean_env(), check=True, stdin=subprocess.DEVNULL)
    return time.perf_counter() - start


def _median_ms(values: list[float]) -> float:
    return round(statistics.median(values) * 1000, 1)


def main() -> None:
    started = now_ns()
    cli = _langlearn()
    with tempfile.TemporaryDirectory(prefix="langlearn_bench_") as tmp:
        work = Path(tmp)
        baseline = [_time_process([sys.executable, "-c", "pass"], work) for _ in range(RUNS)]
        fresh: list[float] = []
        for i in range(RUNS):
            url = f"sqlite+aiosqlite:///{work / f'fresh{i}.db'}"
            fresh.append(_time_to_prompt([cli, "chat", "--database", url, "--user", "bench"], work))
        log(f"fresh: {[round(x, 3) for x in fresh]}")
        url = f"sqlite+aiosqlite:///{work / 'fresh0.db'}"
        migrated = [_time_to_prompt([cli, "chat", "--database", url, "--user", "bench"], work) for _ in range(RUNS)]
        log(f"migrated: {[round(x, 3) for x in migrated]}")
    base_ms = _median_ms(baseline)
    fresh_ms, migrated_ms = _median_ms(fresh), _median_ms(migrated)
    emit(
        "startup",
        {
            "runs": RUNS,
            "first_prompt_migrated_median_ms": migrated_ms,
            "first_prompt_fresh_median_ms": fresh_ms,
            "first_prompt_migrated_min_ms": round(min(migrated) * 1000, 1),
            "baseline_python_pass_median_ms": base_ms,
            "ratio_migrated_to_baseline": ratio(migrated_ms, base_ms),
            "ratio_fresh_to_baseline": ratio(fresh_ms, base_ms),
        },
        {},  # the issue sets no numeric start-up goal; the figures are recorded
        started_ns=started,
    )


if __name__ == "__main__":
    main()
