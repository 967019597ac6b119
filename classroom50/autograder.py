#!/usr/bin/env python3
"""Classroom 50 autograder for the course "Threads vs. processes in Rust".

Install it as a classroom's default autograder (see the instructor guide,
section "Classroom 50"):

    gh teacher autograder set-default ORG CLASSROOM --from classroom50/autograder.py

Before that, set UPSTREAM and REV below to the course repository and the
commit (or tag) whose grader, checks, harness and course.toml grade.

What it does, once per submission, in the student's checkout (the working
directory the Classroom 50 runner gives it):

1. Checks out UPSTREAM at REV into a folder of its own, outside the student's
   checkout (cargo reads `.cargo/config.toml` from every parent folder, so it
   must not sit inside the student's tree).
2. Runs that checkout's `cargo xtask take-exercises --from <student>`: the
   student's `exercises/<step>/` replace the upstream's (regular files only,
   bounded); nothing else of the student's repository is read, so edits to
   its checks, grader, harness, course.toml or solutions change nothing.
3. Grades each step there with `cargo xtask check <step> --format json`.
4. Writes `result.json` and `release-body.md` into the student's checkout and
   `status=`/`summary=` into $GITHUB_OUTPUT with `cargo xtask classroom50`.

The assignment grades one step when its slug names one (`step3`,
`threads-step3`, ...; or list it in STEPS), else the whole course. A
non-zero exit means the grading could not run (the runner records an
error); a low score always exits 0.

For an instructor's own re-grade of a downloaded repository (`gh teacher
download`), run it there by hand: `python3 autograder.py [STUDENT_DIR]`.

Environment: CLASSROOM, ASSIGNMENT, SUBMISSION_TAG, COMMIT_URL, RELEASE_URL,
REVIEW_URL and GITHUB_OUTPUT from the runner. For tests and local runs,
COURSE_UPSTREAM_URL, COURSE_UPSTREAM_REV and COURSE_UPSTREAM_DIR override
UPSTREAM, REV and where the checkout goes, and COURSE_GRADER replaces the
`cargo xtask` command (split on spaces).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

# The course repository to take the grader from, and the commit: a full
# commit id (safest: a tag can be moved) or a tag. Set both once per term.
UPSTREAM = "https://github.com/OWNER/REPO.git"
REV = "main"

# Assignment slug -> step (`step1` ... `step7`), for slugs that do not name
# their step. An assignment in neither grades the whole course.
STEPS: dict[str, str] = {}


def log(message: str) -> None:
    print(f"autograder: {message}", flush=True)


def run(cmd: list[str], cwd: Path, **kw) -> subprocess.CompletedProcess:
    log("$ " + " ".join(cmd))
    return subprocess.run(cmd, cwd=cwd, **kw)


def git(args: list[str], cwd: Path, check: bool = True) -> str:
    out = subprocess.run(
        ["git", *args], cwd=cwd, check=check, capture_output=True, text=True
    )
    return out.stdout.strip()


def step_of(assignment: str) -> str | None:
    if assignment in STEPS:
        return STEPS[assignment]
    found = re.search(r"step(\d+)", assignment)
    return f"step{found.group(1)}" if found else None


def checkout(url: str, rev: str, where: Path) -> None:
    """`where` holds `url` at `rev`, clean (its build output kept)."""
    if (where / ".git").is_dir():
        head = git(["rev-parse", "HEAD"], where, check=False)
        wanted = git(["rev-parse", "--verify", "--quiet", rev + "^{commit}"], where, check=False)
        if head and head == wanted:
            git(["reset", "-q", "--hard"], where)
            git(["clean", "-q", "-f", "-d", "-x", "-e", "target"], where)
            return
        shutil.rmtree(where)
    where.mkdir(parents=True)
    git(["init", "-q"], where)
    fetched = subprocess.run(
        ["git", "fetch", "-q", "--depth", "1", url, rev], cwd=where
    ).returncode == 0
    if not fetched:
        # A server that does not serve a commit by its id: fetch it all.
        git(["fetch", "-q", url, "+refs/heads/*:refs/remotes/upstream/*", "+refs/tags/*:refs/tags/*"], where)
        git(["checkout", "-q", "--detach", rev], where)
    else:
        git(["checkout", "-q", "--detach", "FETCH_HEAD"], where)
    head = git(["rev-parse", "HEAD"], where)
    if re.fullmatch(r"[0-9a-f]{7,40}", rev) and not head.startswith(rev):
        raise SystemExit(f"autograder: {url} at {rev} gave commit {head}")
    log(f"grading with {url} at {head}")


def main() -> int:
    student = Path(sys.argv[1] if len(sys.argv) > 1 else ".").resolve()
    url = os.environ.get("COURSE_UPSTREAM_URL") or UPSTREAM
    rev = os.environ.get("COURSE_UPSTREAM_REV") or REV
    grader = (os.environ.get("COURSE_GRADER") or "cargo xtask").split()
    where = os.environ.get("COURSE_UPSTREAM_DIR")
    upstream = Path(where) if where else Path(tempfile.gettempdir()) / "course-upstream"
    upstream = upstream.resolve()
    if upstream == student or student in upstream.parents:
        log(f"{upstream} is inside the student's checkout; choose another COURSE_UPSTREAM_DIR")
        return 2
    if "OWNER/REPO" in url:
        log("set UPSTREAM and REV at the top of autograder.py to your course repository")
        return 2

    checkout(url, rev, upstream)
    step = step_of(os.environ.get("ASSIGNMENT", ""))
    only = ["--step", step] if step else []
    if run([*grader, "take-exercises", "--from", str(student), *only], upstream).returncode != 0:
        return 2

    if step:
        steps = [step]
    else:
        listed = run([*grader, "list", "--format", "json"], upstream, capture_output=True, text=True)
        if listed.returncode != 0:
            return 2
        steps = [s["short_id"] for s in json.loads(listed.stdout)["steps"]]

    results = upstream / "target" / "classroom50-results"
    shutil.rmtree(results, ignore_errors=True)
    results.mkdir(parents=True)
    for short in steps:
        with open(results / f"{short}.json", "w") as out:
            # 0: passed, 1: some checks failed; 2 is a grader error, which
            # leaves the step without a result (classroom50 then says so).
            code = run([*grader, "check", short, "--format", "json"], upstream, stdout=out).returncode
        log(f"{short}: exit {code}")

    committed = git(["log", "-1", "--format=%ct"], student, check=False)
    when = ["--datetime", committed] if committed.isdigit() else []
    graded = run(
        [*grader, "classroom50", str(results), "--out", str(student), *only, *when],
        upstream,
    )
    return 0 if graded.returncode == 0 else 2


if __name__ == "__main__":
    sys.exit(main())
