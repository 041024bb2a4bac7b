"""Hostile and malformed input (issue 15, items 4-8): each reproduction exits 1 with a located message,
never hangs, never exits 3, and never echoes a file that is not a scenario.

The cases that used to hang run as real subprocesses under a generous timeout (a hang check, not a
timing assertion); the rest run in-process through the CLI.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from gigawatt.cli import app
from gigawatt.scenario import limits

GOOD = (Path(__file__).resolve().parents[2] / "examples" / "minimal.yaml").read_text(encoding="utf-8")
HANG_GUARD_S = 120  # far beyond any honest run: only a hang reaches it


def edit(old: str, new: str, text: str = GOOD) -> str:
    assert text.count(old) == 1, old
    return text.replace(old, new)


def line_of(text: str, fragment: str) -> int:
    return text[:text.index(fragment)].count("\n") + 1


def cli(*args: str):
    return CliRunner().invoke(app, list(args))


def validate(tmp_path: Path, text: str | bytes, *args: str, name: str = "s.yaml"):
    path = tmp_path / name
    path.write_bytes(text if isinstance(text, bytes) else text.encode("utf-8"))
    return cli("validate", str(path), *args)


def subprocess_validate(path: Path, *args: str) -> subprocess.CompletedProcess:
    code = "from gigawatt.cli import main; main()"
    return subprocess.run([sys.executable, "-c", code, "validate", str(path), *args], capture_output=True,
                          text=True, timeout=HANG_GUARD_S)


def assert_located(output: str, code: int, *fragments: str) -> None:
    assert code == 1, output
    assert "Traceback" not in output and "internal error" not in output, output
    for fragment in fragments:
        assert fragment in output, f"{fragment!r} not in:\n{output}"


# --- item 4: hangs ---------------------------------------------------------------------------------------


def bomb(levels: int = 10, width: int = 9, indent: str = "    ") -> str:
    lines = ["a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * width)}]" for i in range(1, levels)]
    return "\n".join(indent + line for line in lines)


def test_alias_bomb_in_an_override_never_applied_is_refused_without_building_it(tmp_path):
    text = edit("overrides:\n", f"overrides:\n  bomb:\n{bomb()}\n")
    (tmp_path / "s.yaml").write_text(text, encoding="utf-8")
    proc = subprocess_validate(tmp_path / "s.yaml")
    assert_located(proc.stderr + proc.stdout, proc.returncode, "document too large once its aliases are expanded",
                   "overrides.bomb.a9", f"(s.yaml:{line_of(text, 'a9: &a9')})")


def test_recursive_alias_is_refused(tmp_path):
    r = validate(tmp_path, GOOD + "\nloop: &loop [*loop]\n")
    assert_located(r.output, r.exit_code, "recursive alias", "loop")


def test_small_aliases_still_work(tmp_path):
    text = edit("    energy_price: 60 USD/MWh", "    energy_price: &price 60 USD/MWh\n    # the same: *price")
    r = validate(tmp_path, edit("meta:\n", "x_prices: &p {a: 1}\nmeta:\n", text))
    assert_located(r.output, r.exit_code, "x_prices", "unknown key")  # read fine; the schema rejects the extra key


def test_import_of_a_device_is_refused_not_read(tmp_path):
    os.symlink("/dev/zero", tmp_path / "zero.yaml")
    path = tmp_path / "s.yaml"
    path.write_text("imports: [zero.yaml]\n" + GOOD, encoding="utf-8")
    proc = subprocess_validate(path, "--allow-imports-outside")  # past the folder rule (a shared flag, after
    # the subcommand too): the file-kind rule still holds
    assert_located(proc.stderr, proc.returncode, "imports.0 (s.yaml:1): not a regular file")


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="POSIX named pipes")
def test_import_of_a_named_pipe_is_refused_not_read(tmp_path):
    os.mkfifo(tmp_path / "pipe.yaml")  # opening it for reading would block forever
    path = tmp_path / "s.yaml"
    path.write_text("imports: [pipe.yaml]\n" + GOOD, encoding="utf-8")
    proc = subprocess_validate(path)
    assert_located(proc.stderr, proc.returncode, "imports.0 (s.yaml:1): not a regular file")


def test_oversized_file_is_refused(tmp_path):
    path = tmp_path / "s.yaml"
    path.write_text(GOOD + "#" * (limits.MAX_FILE_BYTES + 1), encoding="utf-8")
    r = cli("validate", str(path))
    assert_located(r.output, r.exit_code, "file too large", f"at most {limits.MAX_FILE_BYTES:,} bytes")


def test_thirty_kilobyte_quantity_string_is_refused_at_once(tmp_path):
    text = edit("build_cost: 11.7 million USD/MW", f"build_cost: '{'1' * 30_000} USD/MW'")
    (tmp_path / "s.yaml").write_text(text, encoding="utf-8")
    proc = subprocess_validate(tmp_path / "s.yaml")
    assert_located(proc.stderr, proc.returncode, f"sites.texas.build_cost (s.yaml:{line_of(text, 'build_cost')})",
                   f"at most {limits.MAX_QUANTITY_CHARS} characters")


# --- item 5: internal errors where a located exit 1 is due --------------------------------------------------


def test_integer_too_large_for_a_float(tmp_path):
    text = edit("chips: 50,000", "chips: 1" + "0" * 400)
    r = validate(tmp_path, text)
    assert_located(r.output, r.exit_code, f"contracts.cloudco_reserved.chips (s.yaml:{line_of(text, 'chips: 1')})",
                   "integer too large")


def test_integer_too_long_for_python_to_print(tmp_path):
    r = validate(tmp_path, edit("chips: 50,000", "chips: " + "9" * 5000))
    assert_located(r.output, r.exit_code, "contracts.cloudco_reserved.chips (s.yaml:", "cannot be read")


@pytest.mark.parametrize("char", ["\x00", "\x01", "\x1b", "\x7f", "\ufffe"])
def test_control_characters_are_located_and_not_echoed(tmp_path, char):
    text = edit("name: minimal-lab", f"name: minimal{char}lab")
    r = validate(tmp_path, text)
    assert_located(r.output, r.exit_code, f"(s.yaml:{line_of(text, 'name: minimal')})", "control character",
                   f"U+{ord(char):04X}")


def test_non_utf8_text_is_located(tmp_path):
    raw = GOOD.replace("minimal-lab", "minimal\u00e9lab").encode("latin-1", errors="replace")
    r = validate(tmp_path, raw)
    assert_located(r.output, r.exit_code, f"(s.yaml:{line_of(GOOD, 'name: minimal')})", "not UTF-8 text",
                   "byte 0xe9", "save the file as UTF-8")


def test_utf8_byte_order_mark_is_fine(tmp_path):
    r = validate(tmp_path, b"\xef\xbb\xbf" + GOOD.encode())
    assert r.exit_code == 0, r.output


@pytest.mark.parametrize("depth", [limits.MAX_DEPTH + 1, 5000])
def test_deep_nesting_is_refused_before_recursion(tmp_path, depth):
    text = edit("description: One", f"description: {'[' * depth}{']' * depth}\n  notes: One")
    r = validate(tmp_path, text)
    assert_located(r.output, r.exit_code, f"(s.yaml:{line_of(text, 'description: [')})", "meta.description.0",
                   "nesting too deep")


@pytest.mark.parametrize(("old", "new", "path"), [
    ("build_cost: 11.7", "build_cost: !foo 11.7", "sites.texas.build_cost"),             # a scalar
    ("  texas:\n", "  texas: !foo\n", "sites.texas"),                                    # a mapping
    ("accelerators: [gb200]", "accelerators: !foo [gb200]", "sites.texas.accelerators"),  # a list
    ("name: minimal-lab", "name: !!python/name:os.system minimal", "meta.name"),
    ("name: minimal-lab", "name: !!binary bWluaW1hbA==", "meta.name"),
])
def test_tags_are_refused_alike_on_scalars_mappings_and_lists(tmp_path, old, new, path):
    text = edit(old, new)
    r = validate(tmp_path, text)
    tagged = new.strip().split("\n")[0]
    assert_located(r.output, r.exit_code, f"{path} (s.yaml:{line_of(text, tagged)}): unsupported YAML tag")


def test_core_tag_is_fine(tmp_path):
    r = validate(tmp_path, edit("name: minimal-lab", "name: !!str 2027"))
    assert r.exit_code == 0, r.output


def test_empty_section(tmp_path):
    text = edit("contracts:\n  cloudco_reserved:", "contracts:\nx_contracts:\n  cloudco_reserved:")
    r = validate(tmp_path, text)
    assert_located(r.output, r.exit_code, f"contracts (s.yaml:{line_of(text, 'contracts:')}): empty value")


def test_infinite_term(tmp_path):
    text = edit("term: 3 years", "term: inf years")
    r = validate(tmp_path, text)
    assert_located(r.output, r.exit_code, f"contracts.cloudco_reserved.term (s.yaml:{line_of(text, 'term:')})",
                   "finite")


def test_thousand_and_one_year_horizon(tmp_path):
    text = edit("end: 2030", "end: 3026")
    r = validate(tmp_path, text)
    assert_located(r.output, r.exit_code, f"horizon (s.yaml:{line_of(text, 'horizon:')})",
                   f"at most {limits.MAX_HORIZON_YEARS} years")


@pytest.mark.parametrize("value", [".inf", ".nan", "1.0e+400", "-.inf"])
def test_non_finite_yaml_numbers(tmp_path, value):
    text = edit("chips: 50,000", f"chips: {value}")
    r = validate(tmp_path, text)
    assert_located(r.output, r.exit_code, f"contracts.cloudco_reserved.chips (s.yaml:{line_of(text, 'chips:')})",
                   "not a finite number")


# --- item 6: wrong accepts -------------------------------------------------------------------------------


@pytest.mark.parametrize(("old", "new", "path", "expected"), [
    ("2.95 USD/h", "inf USD/h", "providers.cloudco.offers.h100.on_demand_price", "finite"),
    ("price: 2.35 USD/h", "price: 1e300 USD/h", "contracts.cloudco_reserved.price", "USD/hour"),
    ("chips: 50,000", "chips: 1e300 chips", "contracts.cloudco_reserved.chips", "chip"),
    ("energy_price: 60 USD/MWh", "energy_price: inf USD/MWh", "sites.texas.energy_price", "finite"),
    ("build_cost: 11.7 million USD/MW", "build_cost: 1e300 USD/MW", "sites.texas.build_cost", "USD/MW"),
    ("starting_cash: 20 billion USD", "starting_cash: 1e400 USD", "finance.starting_cash", "finite"),
    ("revenue: {base: 8 billion USD", "revenue: {base: 1e300 USD", "finance.revenue", "USD"),
    ("term: 3 years", "term: 1e6 years", "contracts.cloudco_reserved.term", "100 years"),
    ("power_max: {points: {2026: 0 MW, 2030: 1.2 GW}", "power_max: {points: {2026: 0 MW, 2030: 1e9 GW}",
     "sites.texas.power_max", "1,000 GW"),
])
def test_implausible_quantities_are_refused(tmp_path, old, new, path, expected):
    text = edit(old, new)
    r = validate(tmp_path, text)
    assert_located(r.output, r.exit_code, f"{path} (s.yaml:", expected)


def test_growth_of_1e308_is_refused(tmp_path):
    text = edit("growth_per_year: 50%", "growth_per_year: 1e308")
    r = validate(tmp_path, text)
    assert_located(r.output, r.exit_code, f"workloads.training.demand (s.yaml:{line_of(text, '1e308')})",
                   "yearly rate")


def test_growth_that_compounds_out_of_range_is_refused(tmp_path):
    text = edit("{base: 400 million H100_hours, base_period: 2026, growth_per_year: 50%}",
                "{base: 1e16 H100_hours, base_period: 2026, growth_per_year: 1000%}")  # each in range; 11^4 × 1e16 not
    r = validate(tmp_path, text)
    assert_located(r.output, r.exit_code, "workloads.training.demand (s.yaml:", "grows out of the plausible range")


def test_set_cannot_smuggle_infinity(tmp_path):
    path = tmp_path / "s.yaml"
    path.write_text(GOOD, encoding="utf-8")
    r = cli("validate", str(path), "--set", "contracts.cloudco_reserved.chips=.inf")
    assert_located(r.output, r.exit_code, "contracts.cloudco_reserved.chips (--set", "not a finite number")


# --- item 8: imports ----------------------------------------------------------------------------------------


def project(tmp_path: Path, imports: str) -> Path:
    folder = tmp_path / "project"
    folder.mkdir()
    path = folder / "s.yaml"
    path.write_text(f"imports: {imports}\n" + GOOD, encoding="utf-8")
    return path


def test_import_outside_the_folder_is_refused_unless_allowed(tmp_path):
    (tmp_path / "outside.yaml").write_text("meta: {description: from outside}\n", encoding="utf-8")
    path = project(tmp_path, "[../outside.yaml]")
    r = cli("validate", str(path))
    assert_located(r.output, r.exit_code, "imports.0 (s.yaml:1): import outside the scenario's folder",
                   "--allow-imports-outside")
    allowed = cli("--allow-imports-outside", "validate", str(path))
    assert allowed.exit_code == 0, allowed.output


def test_absolute_import_outside_is_refused(tmp_path):
    (tmp_path / "outside.yaml").write_text("meta: {description: x}\n", encoding="utf-8")
    r = cli("validate", str(project(tmp_path, f"[{tmp_path / 'outside.yaml'}]")))
    assert_located(r.output, r.exit_code, "import outside the scenario's folder")


def test_symlink_that_leaves_the_folder_is_refused(tmp_path):
    (tmp_path / "outside.yaml").write_text("meta: {description: x}\n", encoding="utf-8")
    path = project(tmp_path, "[inside.yaml]")
    os.symlink(tmp_path / "outside.yaml", path.parent / "inside.yaml")
    r = cli("validate", str(path))
    assert_located(r.output, r.exit_code, "import outside the scenario's folder")


PASSWD = "root:x:0:0:root:/root:/bin/bash\ndaemon: x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\n"


@pytest.mark.parametrize("name", ["passwd", "passwd.txt"])
def test_a_file_that_is_not_yaml_is_never_read_nor_echoed(tmp_path, name):
    path = project(tmp_path, f"[{name}]")
    (path.parent / name).write_text(PASSWD, encoding="utf-8")
    r = cli("--allow-imports-outside", "validate", str(path))
    assert_located(r.output, r.exit_code, "imports.0 (s.yaml:1): an import must be a YAML file")
    assert "root" not in r.output.replace(str(tmp_path), "") and "daemon" not in r.output


def test_system_password_file_is_not_echoed(tmp_path):
    r = cli("--allow-imports-outside", "validate", str(project(tmp_path, "[/etc/passwd]")))
    assert_located(r.output, r.exit_code, "imports.0 (s.yaml:1)")
    assert "root" not in r.output and "nologin" not in r.output


def test_missing_import_hint_says_relative_to_the_importing_file(tmp_path):
    path = project(tmp_path, "[parts/a.yaml]")
    (path.parent / "parts").mkdir()
    (path.parent / "parts" / "a.yaml").write_text("# finance\nimports: [b.yaml]\n", encoding="utf-8")
    r = cli("validate", str(path))
    assert_located(r.output, r.exit_code, "imports.0 (a.yaml:2): imported file not found", "got 'b.yaml'",
                   f"relative to the importing file's folder ({path.parent / 'parts'})")


def test_import_errors_name_the_importing_file_and_line(tmp_path):
    path = project(tmp_path, "[part.yaml]")
    (path.parent / "part.yaml").write_text("meta: {name: x}\n\x00\n", encoding="utf-8")
    r = cli("validate", str(path))
    assert_located(r.output, r.exit_code, "(part.yaml:2): control character")


def test_import_count_is_bounded(tmp_path):
    folder = tmp_path / "p"
    folder.mkdir()
    (folder / "leaf.yaml").write_text("meta: {description: x}\n", encoding="utf-8")
    for i in range(8):  # each level imports the one below twice: 2^8 reads without a bound
        below = "leaf.yaml" if i == 0 else f"l{i - 1}.yaml"
        (folder / f"l{i}.yaml").write_text(f"imports: [{below}, {below}]\n", encoding="utf-8")
    (folder / "s.yaml").write_text("imports: [l7.yaml]\n" + GOOD, encoding="utf-8")
    r = cli("validate", str(folder / "s.yaml"))
    assert_located(r.output, r.exit_code, "too many imports", f"at most {limits.MAX_IMPORTS}")


def test_reference_scenario_imports_from_its_own_folder(tmp_path):
    root = Path(__file__).resolve().parents[2]
    r = cli("validate", str(root / "scenarios" / "openai.yaml"))
    assert r.exit_code == 0, r.output


def test_library_read_takes_the_imports_rule_as_a_keyword(tmp_path):
    from gigawatt.errors import ScenarioError
    from gigawatt.scenario.load import read

    (tmp_path / "outside.yaml").write_text("meta: {description: from outside}\n", encoding="utf-8")
    path = project(tmp_path, "[../outside.yaml]")
    with pytest.raises(ScenarioError, match="outside the scenario's folder"):
        read(path)
    assert read(path, allow_imports_outside=True).data["meta"]["description"] == "One cloud offer, one owned " \
        "site, one capacity contract, two workloads, one share target."


def test_limits_documented_in_reliability_md():
    doc = (Path(__file__).resolve().parents[2] / "docs" / "reliability.md").read_text(encoding="utf-8")
    for unit, r in limits.RANGES.items():
        assert f"| `{unit}` | {r.high:g} |" in doc, f"docs/reliability.md lacks the range of {unit}"
    for figure in (f"{limits.MAX_FILE_BYTES:,}", f"{limits.MAX_NODES:,}", str(limits.MAX_DEPTH),
                   str(limits.MAX_IMPORTS), str(limits.MAX_QUANTITY_CHARS), str(limits.MAX_HORIZON_YEARS)):
        assert figure in doc, figure


def test_quantity_parser_refuses_long_and_infinite_text():
    from gigawatt import units

    with pytest.raises(units.UnitError, match="at most"):
        units.parse("1" * 30_000 + " USD", "USD")
    with pytest.raises(units.UnitError, match="finite"):
        units.parse("inf USD/h", "USD/hour")
    with pytest.raises(units.UnitError, match="finite"):
        units.parse(10 ** 400, "chip", plain_ok=True)
    assert units.parse("$38B", "USD") == 38e9



@pytest.mark.parametrize(("setting", "path", "expected"), [
    ("contracts.cloudco_reserved.term=0 years", "contracts.cloudco_reserved.term", "a quantity > 0"),
    ("accelerators.h100.utilisation_inference=0", "accelerators.h100.utilisation_inference", "above 0"),
    ("accelerators.gb200.all_in_power=0 kW", "accelerators.gb200.all_in_power", "a quantity > 0"),
    ("contracts.cloudco_reserved.ramp={2026: 0, 2027: 0}", "contracts.cloudco_reserved", "at least one period above 0"),
])
def test_zero_divisors_are_refused_not_turned_into_nan(tmp_path, setting, path, expected):
    """Found by the fuzz run: each of these was a division by zero (exit 3, or NaN in a plan)."""
    file = tmp_path / "s.yaml"
    file.write_text(GOOD, encoding="utf-8")
    r = cli("validate", str(file), "--set", setting)
    assert_located(r.output, r.exit_code, f"{path} (", expected)
