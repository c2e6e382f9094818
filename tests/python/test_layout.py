"""The house rules of issue 22, kept by the test command: no source file over 600 lines, and no
function outside tests/ over 80 lines (lizard's length: first to last line).

Sources are the C++ (.cpp, .h, .inc) and Python (.py) files of kernels/, benchmarks/,
predictor/, scripts/ and tests/. lizard does not read .inc files, so their text is given to it
as C++. A failure names every offender, one a line: `path: N lines` or
`path:line: function is N lines`.
"""
import pathlib

import lizard

ROOT = pathlib.Path(__file__).resolve().parents[2]
DIRS = ("kernels", "benchmarks", "predictor", "scripts", "tests")
SUFFIXES = (".cpp", ".h", ".inc", ".py")
MAX_FILE_LINES = 600
MAX_FUNCTION_LINES = 80
EXEMPT_FROM_FUNCTION_LENGTH = ("tests",)  # test bodies may be long; their files may not


def source_files(root, dirs=DIRS):
    """The source files under root/dir for each dir, sorted, leaving out hidden folders and
    caches."""
    files = []
    for d in dirs:
        for path in (root / d).rglob("*"):
            rel = path.relative_to(root)
            if (path.suffix in SUFFIXES and path.is_file()
                    and not any(part.startswith((".", "__pycache__")) for part in rel.parts)):
                files.append(path)
    return sorted(files)


def long_files(root, dirs=DIRS, limit=MAX_FILE_LINES):
    """`path: N lines (limit L)` for every source file over limit lines."""
    out = []
    for path in source_files(root, dirs):
        n = len(path.read_text(errors="replace").splitlines())
        if n > limit:
            out.append(f"{path.relative_to(root)}: {n} lines (limit {limit})")
    return out


def functions_of(path):
    """lizard's functions of the file at path; an .inc file is read as C++."""
    if path.suffix == ".inc":
        text = path.read_text(errors="replace")
        return lizard.analyze_file.analyze_source_code(path.stem + ".cpp", text).function_list
    return lizard.analyze_file(str(path)).function_list


def long_functions(root, dirs=DIRS, limit=MAX_FUNCTION_LINES, exempt=EXEMPT_FROM_FUNCTION_LENGTH):
    """`path:line: function is N lines (limit L)` for every function over limit lines, outside
    the folders in exempt."""
    out = []
    for path in source_files(root, [d for d in dirs if d not in exempt]):
        for f in functions_of(path):
            if f.length > limit:
                out.append(f"{path.relative_to(root)}:{f.start_line}: {f.name} is {f.length} lines (limit {limit})")
    return out


def report(offenders, what):
    text = f"{len(offenders)} {what}:\n" + "\n".join("  " + o for o in offenders)
    print(text)
    return text


def test_no_source_file_is_over_600_lines():
    offenders = long_files(ROOT)
    assert not offenders, report(offenders, f"source files over {MAX_FILE_LINES} lines (split them by subject)")


def test_no_function_outside_tests_is_over_80_lines():
    offenders = long_functions(ROOT)
    assert not offenders, report(offenders, f"functions over {MAX_FUNCTION_LINES} lines (extract named steps)")


# --- the check itself can fail ---------------------------------------------------------------


def _function(lang, name, lines):
    """The text of a function `lines` lines long, first to last (as lizard counts length)."""
    if lang == "py":
        return f"def {name}():\n" + "".join(f"    x{i} = {i}\n" for i in range(lines - 2)) + "    return 0\n"
    return f"int {name}() {{\n" + "".join(f"  int x{i} = {i};\n" for i in range(lines - 3)) + "  return 0;\n}\n"


def test_the_check_catches_a_long_file_and_a_long_function(tmp_path):
    for d in DIRS:
        (tmp_path / d).mkdir()
    # Over the limits: a 601-line file; an 81-line function in C++, in an .inc file and in Python.
    (tmp_path / "kernels" / "big.h").write_text("// line\n" * 601)
    (tmp_path / "benchmarks" / "long.cpp").write_text(_function("cpp", "too_long", 81))
    (tmp_path / "kernels" / "long.inc").write_text(_function("cpp", "too_long_inc", 81))
    (tmp_path / "scripts" / "long.py").write_text(_function("py", "too_long_py", 81))
    # At the limits, or in tests/: not offenders.
    (tmp_path / "predictor" / "fits.h").write_text("// line\n" * 600)
    (tmp_path / "predictor" / "fits.cpp").write_text(_function("cpp", "just_fits", 80))
    (tmp_path / "scripts" / "fits.py").write_text(_function("py", "just_fits_py", 80))
    (tmp_path / "tests" / "test_long.cpp").write_text(_function("cpp", "long_test", 200))
    (tmp_path / "tests" / "notes.txt").write_text("not source\n" * 700)
    (tmp_path / "scripts" / "__pycache__").mkdir()
    (tmp_path / "scripts" / "__pycache__" / "cached.py").write_text("# x\n" * 700)

    assert long_files(tmp_path) == ["kernels/big.h: 601 lines (limit 600)"]
    assert long_functions(tmp_path) == [
        "benchmarks/long.cpp:1: too_long is 81 lines (limit 80)",
        "kernels/long.inc:1: too_long_inc is 81 lines (limit 80)",
        "scripts/long.py:1: too_long_py is 81 lines (limit 80)",
    ]
    # A test file over 600 lines is an offender too.
    (tmp_path / "tests" / "test_big.py").write_text("# x\n" * 650)
    assert long_files(tmp_path)[-1] == "tests/test_big.py: 650 lines (limit 600)"
