"""Mutated scenario files and the checks every run of one must pass (used by tests/scenario/test_fuzz.py and
scripts/fuzz_scenarios.py, the longer run whose figures docs/reliability.md reports).

A case starts from examples/minimal.yaml or scenarios/openai.yaml (with its imports) copied into a fresh
folder, applies one or two mutations (keys, types, units, numbers, encodings, aliases, tags, imports,
nesting, truncation, --set) drawn from a ``random.Random`` (hypothesis's ``st.randoms()`` in the test, so
failures shrink), and is run through the real CLI in-process. The checks: exit code in {0, 1, 2}, no
traceback or internal error, every exit-1 problem located (key path, and file:line where the value came
from a file), no non-finite number in summary.json or the CSV tables of a run that solved.
"""

from __future__ import annotations

import csv
import json
import math
import os
import re
import shutil
import signal
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BASES = {"minimal": ROOT / "examples" / "minimal.yaml", "openai": ROOT / "scenarios" / "openai.yaml"}

NUMBERS = ["inf", "-inf", "nan", ".inf", "-.inf", ".nan", "1e308", "1e400", "-1e400", "1e-400", "0", "-0", "-5",
           "1" + "0" * 400, "9" * 5000, "0x1F", "1_000", "1e30", "123456789012345678901234567890", "0.5", "3"]
UNITS = ["GW", "MW", "kW", "USD", "USD/h", "USD/MWh", "chips", "years", "months", "FLOP", "FLOP/s", "H100_hours",
         "%", "", "furlongs", "USD/GW", "s", "billion", "trillion USD", "USD/MW", "PFLOP/s", "°C"]
VALUES = ["[]", "{}", "[1, 2]", "{a: 1}", "true", "null", "", "~", "42", "-1", "'text'", "2027-13-45", "0000-01-01",
          "2027", "2027Q5", "'1' * 3", "\"\\u0000\"", "\"\\x01\"", "'" + "1" * 30000 + " USD'", "x" * 5000,
          "9999-12-31", "1e999 GW", "inf USD/h", "-3 GW", "1e308 USD", "1e20 chips", "1000 years", "1e30 MW"]
TAGS = ["!foo", "!!python/object/apply:os.system ['echo pwned']", "!!python/name:os.system", "!!binary", "!!set",
        "!!str", "!!int", "!!float", "!!timestamp", "!!omap", "!!map", "!!seq", "!<tag:example.com,2000:x>"]
CONTROL = ["\x00", "\x01", "\x07", "\x1b", "\x7f", "\x85", "\ufffe", "\x0b", "\x0c"]
KEYLINE = re.compile(r"^(?P<indent>\s*)(?P<dash>- )?(?P<key>[^\s#:][^:#]*?):(?P<sep>\s+|$)(?P<value>.*)$")
NUM = re.compile(r"[-+]?\d[\d,_]*\.?\d*(?:[eE][-+]?\d+)?")


@dataclass
class Case:
    """One mutated input: the scenario file, extra CLI arguments, and what was done to it."""

    path: Path
    args: list[str] = field(default_factory=list)
    mutations: list[str] = field(default_factory=list)


def make_case(rnd, base: str, folder: Path, *, mutations: list[str] | None = None) -> Case:
    """Copy ``base`` (and, for openai, its imported files) into ``folder`` and mutate it once or twice
    (with mutations drawn from ``mutations``, default all)."""
    src = BASES[base]
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / src.name
    shutil.copy(src, path)
    if base == "openai":
        shutil.copytree(src.parent / "openai", folder / "openai", dirs_exist_ok=True)
    case = Case(path=path)
    for _ in range(rnd.choice((1, 1, 1, 2))):
        target = path
        if base == "openai" and rnd.random() < 0.3:  # mutate an imported part instead
            target = rnd.choice(sorted((folder / "openai").glob("*.yaml")))
        name = rnd.choice(sorted(mutations or MUTATIONS))
        MUTATIONS[name](rnd, target, case)
        case.mutations.append(f"{name}@{target.relative_to(folder)}")
    return case


# --- mutations: each edits the file at ``path`` (or the case's arguments) ------------------------------------


def _read(path: Path) -> str:
    """The file's text; bytes that are not UTF-8 (an earlier mutation) survive the round trip."""
    return path.read_bytes().decode("utf-8", "surrogateescape")


def _save(path: Path, text: str) -> None:
    path.write_bytes(text.encode("utf-8", "surrogateescape"))


def _lines(path: Path) -> list[str]:
    return _read(path).split("\n")


def _write(path: Path, lines: list[str]) -> None:
    _save(path, "\n".join(lines))


def _keyed(rnd, lines: list[str], *, with_value: bool = False) -> tuple[int, re.Match] | None:
    found = [(i, m) for i, line in enumerate(lines) if (m := KEYLINE.match(line)) and (m["value"] or not with_value)
             and not m["value"].startswith("#")]
    return rnd.choice(found) if found else None


def key_typo(rnd, path, case):
    lines = _lines(path)
    if hit := _keyed(rnd, lines):
        i, m = hit
        key = m["key"]
        j = rnd.randrange(len(key))
        new = key[:j] + rnd.choice("abcxyz_") + key[j + 1:]
        lines[i] = lines[i].replace(key, new, 1)
    _write(path, lines)


def key_drop(rnd, path, case):
    lines = _lines(path)
    if hit := _keyed(rnd, lines):
        del lines[hit[0]]
    _write(path, lines)


def key_unknown_or_duplicate(rnd, path, case):
    lines = _lines(path)
    if hit := _keyed(rnd, lines, with_value=True):
        i, m = hit
        extra = lines[i] if rnd.random() < 0.5 else f"{m['indent']}{'  ' if m['dash'] else ''}bogus_key: 1"
        lines.insert(i + 1, extra)
    _write(path, lines)


def value_type(rnd, path, case):
    _replace_value(rnd, path, lambda v: rnd.choice(VALUES))


def value_number(rnd, path, case):
    def swap(v: str) -> str:
        m = NUM.search(v)
        return v[:m.start()] + rnd.choice(NUMBERS) + v[m.end():] if m else rnd.choice(NUMBERS)
    _replace_value(rnd, path, swap)


def value_unit(rnd, path, case):
    def swap(v: str) -> str:
        m = NUM.search(v)
        if not m:
            return v
        return f"{m.group()} {rnd.choice(UNITS)}".strip()
    _replace_value(rnd, path, swap)


def value_scale(rnd, path, case):
    """Scale one figure by a factor that often stays plausible: valid inputs at the edges, for the solver."""
    def scale(v: str) -> str:
        m = NUM.search(v)
        if not m:
            return v
        try:
            x = float(m.group().replace(",", "").replace("_", ""))
        except ValueError:
            return v
        return v[:m.start()] + repr(x * rnd.choice(SCALES)) + v[m.end():]
    lines = _lines(path)
    found = [i for i, line in enumerate(lines) if (m := KEYLINE.match(line)) and NUM.search(m["value"].split(" #")[0])]
    if found:
        i = rnd.choice(found)
        head, sep, tail = lines[i].partition(": ")
        lines[i] = head + sep + scale(tail)
    _write(path, lines)


SCALES = [0.0, 1e-300, 1e-12, 1e-3, 0.5, 2.0, 10.0, 1e3, 1e6, 1e9]


def _replace_value(rnd, path, fn):
    lines = _lines(path)
    if hit := _keyed(rnd, lines, with_value=True):
        i, m = hit
        value = m["value"].split(" #")[0].strip().strip("{}[]")
        new = fn(value)
        if rnd.random() < 0.5 and m["value"].startswith(("{", "[")):  # inside a flow mapping: one entry's value
            lines[i] = lines[i].replace(value.split(",")[0].split(": ")[-1], new, 1) if ": " in value else lines[i]
        else:
            lines[i] = f"{m['indent']}{m['dash'] or ''}{m['key']}: {new}"
    _write(path, lines)


def encoding(rnd, path, case):
    text = _read(path)
    kind = rnd.choice(["latin1", "utf16", "bom", "badbyte", "control", "crlf", "truncated_utf8"])
    at = rnd.randrange(len(text))
    if kind == "latin1":
        path.write_bytes((text[:at] + "é" + text[at:]).encode("latin-1", errors="replace"))  # noqa
    elif kind == "utf16":
        path.write_bytes(text.encode("utf-16", "surrogatepass"))
    elif kind == "bom":
        path.write_bytes(b"\xef\xbb\xbf" + text.encode("utf-8", "surrogateescape"))
    elif kind == "badbyte":
        raw = text.encode("utf-8", "surrogateescape")
        path.write_bytes(raw[:at] + bytes([rnd.choice([0xff, 0xc3, 0x80, 0xfe])]) + raw[at:])
    elif kind == "control":
        _save(path, text[:at] + rnd.choice(CONTROL) + text[at:])
    elif kind == "crlf":
        _save(path, text.replace("\n", "\r\n"))
    else:
        path.write_bytes(text.encode("utf-8", "surrogateescape")[:at] + "€".encode()[:2])


def alias(rnd, path, case):
    levels, width = rnd.choice([(3, 5), (9, 9), (12, 10), (30, 2)])
    lines = ["a0: &a0 [x, x]"] + [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * width)}]" for i in range(1, levels)]
    kind = rnd.choice(["override", "top", "recursive", "merge", "used"])
    text = _read(path)
    if kind == "override":  # never applied: must still be bounded
        block = "\n".join("    " + line for line in lines)
        text = text + f"\noverrides:\n  fuzz_bomb:\n{block}\n" if "\noverrides:" not in text else text.replace(
            "\noverrides:\n", f"\noverrides:\n  fuzz_bomb:\n{block}\n", 1)
    elif kind == "top":
        text = "\n".join(lines) + "\n" + text
    elif kind == "recursive":
        text = text + "\nloop: &loop [*loop]\n" if rnd.random() < 0.5 else text + "\nloop: &loop {a: *loop}\n"
    elif kind == "merge":
        text = text.replace("\nmeta:\n", "\nbase_meta: &bm {name: merged, description: x}\nmeta:\n  <<: *bm\n", 1)
    else:  # an alias used where a value is expected
        text = text.replace("\nmeta:\n", "\nmeta: &m\n", 1) + "\nextra: *m\n"
    _save(path, text)


def tag(rnd, path, case):
    lines = _lines(path)
    if hit := _keyed(rnd, lines):
        i, m = hit
        lines[i] = f"{m['indent']}{m['dash'] or ''}{m['key']}: {rnd.choice(TAGS)} {m['value']}".rstrip()
    _write(path, lines)


def imports(rnd, path, case):
    folder = case.path.parent
    outside = folder.parent / "outside.yaml"
    outside.write_text("meta: {name: from-outside}\n", encoding="utf-8")
    (folder / "notes.txt").write_text("root:x:0:0:root:/root:/bin/bash\n", encoding="utf-8")
    (folder / "sub.yaml").mkdir(exist_ok=True)
    big = folder / "big.yaml"
    if not big.exists():
        big.write_text("meta:\n" + "  # padding\n" * 500_000, encoding="utf-8")
    link = folder / "link.yaml"
    if not link.exists() and hasattr(os, "symlink"):
        try:
            os.symlink("/etc/passwd", link)
        except OSError:
            pass
    choice = rnd.choice(["/dev/zero", "/dev/urandom", "/etc/passwd", "/etc/hostname", "../outside.yaml",
                         str(outside), "missing.yaml", path.name, "sub.yaml", "notes.txt", "big.yaml", "link.yaml",
                         "[1, 2]", "{a: b}", "''", "../" * 8 + "etc/passwd", "openai/../openai.yaml"])
    entry = choice if choice.startswith(("[", "{", "'")) else f"[{json.dumps(choice)}]"
    text = _read(path)
    if re.search(r"^imports:", text, re.M):
        text = re.sub(r"^imports: \[", f"imports: [{json.dumps(choice)}, ", text, count=1, flags=re.M) \
            if not entry.startswith(("{", "'")) else re.sub(r"^imports:.*$", f"imports: {entry}", text, count=1, flags=re.M)
    else:
        text = f"imports: {entry}\n" + text
    _save(path, text)


def nesting(rnd, path, case):
    n = rnd.choice([10, 63, 65, 200, 5000])
    value = rnd.choice(["[" * n + "]" * n, "{a: " * n + "1" + "}" * n])
    _replace_value(rnd, path, lambda v: value)


def truncate(rnd, path, case):
    raw = path.read_bytes()
    path.write_bytes(raw[:rnd.randrange(len(raw) + 1)])


def indentation(rnd, path, case):
    lines = _lines(path)
    i = rnd.randrange(len(lines))
    lines[i] = rnd.choice([" ", "  ", "\t", ""]) + lines[i].lstrip() if rnd.random() < 0.7 else lines[i] + ":"
    _write(path, lines)


def set_option(rnd, path, case):
    lines = _lines(case.path)
    stack: list[tuple[int, str]] = []
    paths = []
    for line in lines:
        m = KEYLINE.match(line)
        if not m or m["dash"]:
            continue
        depth = len(m["indent"])
        stack = [(d, k) for d, k in stack if d < depth] + [(depth, m["key"].strip())]
        paths.append(".".join(k for _, k in stack))
    key = rnd.choice(paths) if paths else "meta.name"
    value = rnd.choice(VALUES + NUMBERS + [f"1 {u}" for u in UNITS])
    case.args += ["--set", rnd.choice([f"{key}={value}", f"{key}.bogus={value}", key, f"={value}",
                                       f"{key}=&a [*a]", f"{key}=!!python/name:os.system x"])]


def scenario_option(rnd, path, case):
    case.args += ["--scenario", rnd.choice(["unconstrained", "delayed", "nvidia_loi", "missing", "", "q1_2026"])]


MUTATIONS = {f.__name__: f for f in (key_typo, key_drop, key_unknown_or_duplicate, value_type, value_number,
                                     value_unit, value_scale, encoding, alias, tag, imports, nesting, truncate, indentation,
                                     set_option, scenario_option)}


# --- running and checking ------------------------------------------------------------------------------------


class Hang(BaseException):
    """A run went past the hang guard (a BaseException, so no handler in gigawatt swallows it)."""


@contextmanager
def hang_guard(seconds: float):
    """Raise Hang if the block runs longer than ``seconds`` (POSIX main thread; elsewhere, no guard)."""
    if not hasattr(signal, "SIGALRM"):
        yield
        return

    def _raise(signum, frame):
        raise Hang(f"no result after {seconds} s")

    old = signal.signal(signal.SIGALRM, _raise)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


@dataclass
class Outcome:
    command: str
    exit_code: int | None
    output: str
    seconds: float
    failures: list[str]


PROBLEM = re.compile(r"^  - (?P<path>.+?) \((?P<loc>[^()]*)\): (?P<what>.*)$")
LOCATION = re.compile(r"^(?:[^\s:][^:]*:\d+\b|--set$|--scenario$)")
# Problems about the text as a whole, found before any key exists: a file:line is all there is to give.
TEXT_LEVEL = ("not UTF-8 text", "control character in the text", "not valid YAML", "text too large",
              "the top level must be a mapping")


def run(args: list[str], *, guard_s: float = 60.0) -> Outcome:
    """Invoke the CLI in-process and check the result."""
    from typer.testing import CliRunner

    from gigawatt.cli import app

    t0 = time.perf_counter()
    try:
        with hang_guard(guard_s):
            result = CliRunner().invoke(app, args)
    except Hang as exc:
        return Outcome(next(a for a in args if not a.startswith("-")), None, str(exc), time.perf_counter() - t0, [f"hang: {exc}"])
    out = result.output + (result.stderr if result.stderr_bytes is not None and result.stderr not in result.output else "")
    seconds = time.perf_counter() - t0
    return Outcome(next(a for a in args if not a.startswith("-")), result.exit_code, out, seconds, check_output(result.exit_code, out, result.exception))


def check_output(code: int, output: str, exception: BaseException | None = None) -> list[str]:
    """Why this exit code and output break the rules (empty when they do not)."""
    failures = []
    if code not in (0, 1, 2):
        failures.append(f"exit code {code}")
    if "Traceback" in output or "internal error" in output:
        failures.append("traceback or internal error")
    if exception is not None and not isinstance(exception, SystemExit):
        failures.append(f"exception escaped: {type(exception).__name__}: {exception}")
    if code == 1:
        failures += unlocated(output)
    return failures


def unlocated(output: str) -> list[str]:
    """The exit-1 problems that lack a key path or a file:line."""
    bad = []
    items = [line for line in output.splitlines() if line.startswith("  - ")]
    if not items:
        return [f"exit 1 without a problem list: {output[:200]!r}"]
    for line in items:
        if line.startswith("  - --"):  # a command-line option (--set, --vary): the option is the place
            continue
        m = PROBLEM.match(line)
        if not m or not LOCATION.match(m["loc"]):
            bad.append(f"no file:line: {line[:200]}")
        elif m["path"] == "<top level>" and not m["what"].startswith(TEXT_LEVEL):
            bad.append(f"no key path: {line[:200]}")
    return bad


def non_finite_in_run(out_dir: Path) -> list[str]:
    """Non-finite numbers in summary.json and the CSV tables of a solved run."""
    bad = []

    def refuse(token):
        bad.append(f"summary.json holds {token}")

    json.loads((out_dir / "summary.json").read_text(encoding="utf-8"), parse_constant=refuse)
    for table in sorted((out_dir / "tables").glob("*.csv")) if (out_dir / "tables").exists() else []:
        with open(table, newline="", encoding="utf-8") as f:
            for row in csv.reader(f):
                for cell in row:
                    try:
                        x = float(cell)
                    except ValueError:
                        continue
                    if not math.isfinite(x):
                        bad.append(f"{table.name} holds {cell}")
                        break
    return bad[:5]


def run_case(case: Case, *, solve: bool, out_dir: Path, guard_s: float = 60.0) -> list[Outcome]:
    """validate the case; when it is valid and ``solve``, solve it too and check the run's numbers."""
    outcomes = [run(["validate", str(case.path), *case.args], guard_s=guard_s)]
    if solve and outcomes[0].exit_code == 0:
        o = run(["--quiet", "solve", str(case.path), "--out", str(out_dir), "--no-register", *case.args],
                guard_s=guard_s)
        if o.exit_code == 0:
            o.failures += non_finite_in_run(out_dir)
        outcomes.append(o)
    return outcomes
