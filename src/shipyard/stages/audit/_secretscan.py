"""Run by the tool environment's python: detect-secrets over tracked files and git history.

Usage: python _secretscan.py ROOT [--baseline FILE] [--history] [--fingerprint HASH]...

Prints one JSON object. A secret is described by its type, file, line, the commit
that added it and the hash detect-secrets computes for it; its value is never printed.
This file is executed as a script in another interpreter and imports nothing
from shipyard.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from detect_secrets.__version__ import VERSION
from detect_secrets.core import baseline as ds_baseline
from detect_secrets.core import scan
from detect_secrets.core.secrets_collection import SecretsCollection
from detect_secrets.settings import cache_bust, default_settings, get_filters, get_settings

_MARKER = "shipyard-commit "
_INVALID_FILE_FILTER = "detect_secrets.filters.common.is_invalid_file"
#: Outside git, these directories hold tools, caches and builds, not the project's files.
_NOT_SOURCES = {
    ".git",
    ".hg",
    ".nox",
    ".tox",
    ".venv",
    "venv",
    ".shipyard",
    "node_modules",
    "__pycache__",
    ".mypy_cache",
    ".ruff_cache",
    ".pytest_cache",
    "build",
    "dist",
}


def git(*args: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        ["git", "-c", "core.quotepath=off", *args], capture_output=True, check=False
    )


def describe(secret: Any, commit: str | None = None) -> dict[str, Any]:
    """Only what may be shown: never `secret.secret_value`."""
    return {
        "type": secret.type,
        "filename": os.path.normpath(secret.filename).replace(os.sep, "/"),
        "line_number": secret.line_number,
        "hashed_secret": secret.secret_hash,
        "commit": commit,
    }


def untracked_files() -> list[str]:
    """Every file below the working directory, outside tool and build directories."""
    found = []
    for top, dirs, files in os.walk("."):
        dirs[:] = sorted(d for d in dirs if d not in _NOT_SOURCES and not d.endswith(".egg-info"))
        found += [str(Path(top, name)) for name in sorted(files)]
    return found


def scan_tracked(is_repo: bool, fingerprints: set[str]) -> list[dict[str, Any]]:
    if is_repo:
        files = list(scan.get_files_to_scan(".", should_scan_all_files=False, root="."))
    else:
        files = untracked_files()
    secrets = SecretsCollection(root=".")
    secrets.scan_files(*files)
    return [describe(secret) for _, secret in secrets if secret.secret_value not in fingerprints]


def commits_with_diffs() -> list[tuple[str, str]]:
    """(commit, unified diff of the lines it added) for every non-merge commit of HEAD."""
    proc = git(
        "log",
        "--reverse",
        "--no-merges",
        "-p",
        "-U0",
        "--no-color",
        "--no-ext-diff",
        "--no-textconv",
        f"--format={_MARKER}%H",
        "HEAD",
    )
    if proc.returncode != 0:
        return []
    text = proc.stdout.decode("utf-8", errors="replace")
    commits: list[tuple[str, str]] = []
    for chunk in text.split("\n" + _MARKER):
        sha, _, diff = chunk.removeprefix(_MARKER).partition("\n")
        if sha.strip():
            commits.append((sha.strip(), diff.lstrip("\n")))
    return commits


def scan_history(fingerprints: set[str]) -> tuple[list[dict[str, Any]], int, list[str]]:
    # Files deleted since are gone from the work tree; that must not hide their lines.
    get_settings().disable_filters(_INVALID_FILE_FILTER)
    cache_bust_filters()
    found: list[dict[str, Any]] = []
    problems: list[str] = []
    commits = commits_with_diffs()
    for sha, diff in commits:
        if not diff.strip():
            continue
        try:
            found += [
                describe(secret, sha)
                for secret in scan.scan_diff(diff)
                if secret.secret_value not in fingerprints
            ]
        except Exception as exc:  # noqa: BLE001 - unidiff raises several types; skip the commit
            problems.append(f"commit {sha[:12]}: diff not readable ({type(exc).__name__})")
    return found, len(commits), problems


def cache_bust_filters() -> None:
    get_filters.cache_clear()


def known_secrets(path: str | None) -> tuple[set[tuple[str, str]], str | None]:
    """The (file, hash) pairs of the baseline; settings come from it too."""
    if not path or not Path(path).is_file():
        return set(), None
    try:
        data = ds_baseline.load_from_file(path)
        collection = ds_baseline.load(data, path)
    except Exception as exc:  # noqa: BLE001 - detect-secrets raises several types here
        return set(), f"{path}: not a detect-secrets baseline ({type(exc).__name__})"
    return {(name, secret.secret_hash) for name, secret in collection}, None


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("root")
    parser.add_argument("--baseline")
    parser.add_argument("--history", action="store_true")
    # Fingerprints named by suppressions look like hex secrets; they are not findings.
    parser.add_argument("--fingerprint", action="append", default=[])
    args = parser.parse_args()
    fingerprints = set(args.fingerprint)
    os.chdir(args.root)

    is_repo = git("rev-parse", "--is-inside-work-tree").returncode == 0
    has_commits = is_repo and git("rev-parse", "--verify", "-q", "HEAD").returncode == 0
    with default_settings():
        known, error = known_secrets(args.baseline)
        if error:
            json.dump({"error": error}, sys.stdout)
            return
        tracked = scan_tracked(is_repo, fingerprints)
        history, commits, problems = (
            scan_history(fingerprints) if args.history and has_commits else ([], 0, [])
        )
        cache_bust()

    json.dump(
        {
            "version": VERSION,
            "is_repo": is_repo,
            "has_commits": has_commits,
            "commits": commits,
            "tracked": tracked,
            "history": history,
            "known": sorted([name, digest] for name, digest in known),
            "problems": problems,
        },
        sys.stdout,
    )


if __name__ == "__main__":
    main()
