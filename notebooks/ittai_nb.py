"""Shared helpers of the ittai notebooks (notebooks/*.ipynb).

- where things are: the environment variables ITTAI_OUT, ITTAI_BIN, ITTAI_DATA, ITTAI_REPO;
- what made the outputs: the run's manifest.json (version, command);
- small-count suppression (docs/reference/indicators.md#suppression): a count of 1-9 persons
  is never shown, and a shown count must not let a reader recover a hidden one;
- guards that keep person-level rows out of every cell: Parquet columns are read by name
  and `person_id` is refused; tables are checked before they are displayed;
- matplotlib with a Japanese font (Noto Sans CJK JP when installed).

The notebooks read published or aggregate outputs only. The owner-only Parquet files they
open (targets, exact indicator tables) are reduced to counts before anything is shown.
"""

from __future__ import annotations

import json
import math
import os
import re
import shlex
import shutil
from pathlib import Path

__all__ = [
    "AGE_BANDS",
    "HIDDEN",
    "bin_path",
    "check_no_personal_data",
    "data_dir",
    "fmt_count",
    "fmt_rate",
    "funnel_hidden",
    "is_small",
    "manifest",
    "municipality_names",
    "out_dir",
    "provenance",
    "read_columns",
    "repo_root",
    "secondary_hidden",
    "setup_matplotlib",
    "show",
    "suppress_counts",
]

#: Age bands of the outputs, in order (`<75`: insured through a disability certification).
AGE_BANDS = ["<75", "75-79", "80-84", "85-89", "90-94", "95+"]

#: What a hidden cell shows (as the published CSVs: ※ 秘匿).
HIDDEN = "※"

_REPO = Path(__file__).resolve().parent.parent


# --------------------------------------------------------------------------------------
# Where things are


def _env_path(name: str, default: Path | None = None) -> Path:
    value = os.environ.get(name, "")
    if value:
        return Path(value).expanduser().resolve()
    if default is not None:
        return default
    raise RuntimeError(
        f"{name} is not set: see notebooks/README.md (ITTAI_OUT = the --out folder of "
        "`ittai run --data sample_data --out DIR`, ITTAI_BIN = the ittai binary, "
        "ITTAI_DATA = the dataset folder, ITTAI_REPO = the repository root)"
    )


def out_dir() -> Path:
    """The out folder of `ittai run` (ITTAI_OUT); it must hold manifest.json."""
    p = _env_path("ITTAI_OUT")
    if not (p / "manifest.json").is_file():
        raise RuntimeError(f"ITTAI_OUT={p} has no manifest.json: run `ittai run --out {p}` first")
    return p


def repo_root() -> Path:
    """The repository root (ITTAI_REPO; default: the folder above notebooks/)."""
    return _env_path("ITTAI_REPO", _REPO)


def data_dir() -> Path:
    """The dataset folder (ITTAI_DATA; default: the `data` of the run's manifest)."""
    value = os.environ.get("ITTAI_DATA", "")
    if value:
        return Path(value).expanduser().resolve()
    return Path(manifest()["data"]).resolve()


def bin_path() -> Path:
    """The ittai binary (ITTAI_BIN; default: `ittai` on PATH)."""
    value = os.environ.get("ITTAI_BIN", "")
    if value:
        p = Path(value).expanduser().resolve()
    else:
        found = shutil.which("ittai")
        if not found:
            raise RuntimeError("ITTAI_BIN is not set and no `ittai` is on PATH")
        p = Path(found)
    if not os.access(p, os.X_OK):
        raise RuntimeError(f"ITTAI_BIN={p} is not an executable file")
    return p


# --------------------------------------------------------------------------------------
# What made the outputs


def manifest(out: Path | None = None) -> dict:
    """The run's manifest.json."""
    out = out or out_dir()
    return json.loads((out / "manifest.json").read_text(encoding="utf-8"))


def _command(m: dict) -> str:
    cmd = list(m.get("command") or [])
    if cmd:
        cmd[0] = Path(cmd[0]).name  # the binary's name, not where it was built
    return shlex.join(cmd)


def provenance(title: str, out: Path | None = None):
    """A Markdown block for the first cell: the title, the ittai version and the command
    that made the outputs, with the FY and reference date of the run."""
    from IPython.display import Markdown

    out = out or out_dir()
    m = manifest(out)
    lines = [
        f"## {title}",
        "",
        f"- バージョン / version: **{m.get('tool', 'ittai')} {m.get('version', '?')}**",
        f"- 出力を作成したコマンド / command: `{_command(m)}`",
        f"- 年度 / FY: {m.get('fy', '?')}（基準日 / reference date {m.get('reference_date', '?')}）",
        f"- 入力のハッシュ / inputs SHA-256: `{str(m.get('inputs_sha256', ''))[:16]}…`",
        f"- 出力フォルダ / ITTAI_OUT: `{out}`",
    ]
    return Markdown("\n".join(lines))


# --------------------------------------------------------------------------------------
# Reading without person-level columns

_PERSON_COLUMNS = {"person_id", "被保険者ID（仮名）"}


def read_columns(path: Path, columns: list[str]):
    """Reads only `columns` of a Parquet file. A person id column is refused: the
    notebooks count persons, they never look them up."""
    import pandas as pd

    bad = [c for c in columns if c in _PERSON_COLUMNS or "person" in c.lower()]
    if bad:
        raise ValueError(f"refusing to read person-level column(s) {bad} from {path}")
    return pd.read_parquet(path, columns=columns)


def municipality_names(out: Path | None = None) -> dict[str, str]:
    """市町村コード → 市町村名, from the published indicators.csv (union → 広域連合全体)."""
    import pandas as pd

    out = out or out_dir()
    path = out / "indicators" / "indicators.csv"
    if not path.exists():
        return {"union": "広域連合全体"}
    df = pd.read_csv(path, dtype=str, encoding="utf-8-sig", usecols=["市町村コード", "市町村名"])
    names = dict(df.drop_duplicates().itertuples(index=False, name=None))
    names.setdefault("union", "広域連合全体")
    return names


# --------------------------------------------------------------------------------------
# Suppression (docs/reference/indicators.md#suppression, docs/DECISIONS.md D44)


def is_small(n) -> bool:
    """A count of 1-9 (zero is published: it reveals no one)."""
    if n is None:
        return False
    try:
        x = float(n)
    except (TypeError, ValueError):
        return False
    if math.isnan(x):
        return False
    return 1 <= abs(round(x)) <= 9


def fmt_count(n, hidden: bool = False) -> str:
    """A count as shown: ※ when hidden or 1-9, blank when missing, else 1,234."""
    if hidden or is_small(n):
        return HIDDEN
    if n is None or (isinstance(n, float) and math.isnan(n)):
        return ""
    return f"{int(round(float(n))):,}"


def fmt_rate(v, hidden: bool = False, digits: int = 2, unit: str = "%") -> str:
    """A rate as shown: ※ when hidden, blank when missing."""
    if hidden:
        return HIDDEN
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return ""
    return f"{float(v):.{digits}f}{unit}"


def funnel_hidden(counts: list, forced: list[bool] | None = None, start=None) -> list[bool]:
    """Which steps of a funnel (nested sets, each inside the one before) are hidden, as
    `published_funnel` does for the attrition funnels: a step is hidden when its count is
    1-9, or when the drop from the previous *shown* step is 1-9 (1000 -> 995 hides 995, and
    the next step is compared with 1000). `start` is an unshown step 0 (e.g. the insured
    population) the first drop is measured from; `forced` marks steps hidden for another
    reason (they are skipped as reference)."""
    forced = forced or [False] * len(counts)
    hidden = []
    prev = start
    for n, f in zip(counts, forced):
        h = bool(f) or is_small(n) or (prev is not None and is_small(float(prev) - float(n)))
        hidden.append(h)
        if not h:
            prev = n
    return hidden


def secondary_hidden(parts: dict, hidden: set, total_hidden: bool = False) -> set:
    """Secondary suppression over one equation total = sum of parts: while exactly one
    member (a part, or the total) is hidden, the smallest other shown part with persons is
    hidden too, so that no hidden cell follows by subtraction. Returns the hidden parts."""
    hidden = set(hidden)
    while True:
        n_hidden = len(hidden) + (1 if total_hidden else 0)
        if n_hidden != 1:
            return hidden
        shown = [(v, k) for k, v in parts.items() if k not in hidden and v and float(v) > 0]
        if not shown:
            return hidden
        hidden.add(min(shown, key=lambda x: (float(x[0]), str(x[1])))[1])


def suppress_counts(table, total_row, start=None):
    """Suppression of a table of nested counts: rows are areas (one of them `total_row`,
    the sum of the others), columns are steps of a funnel (each column's persons inside
    the previous column's). `start` (optional, by row) is an unshown step 0 of each row.

    Primary (1-9), funnel along each row, secondary down each column; repeated until
    stable. Returns a DataFrame of booleans (True = hidden) shaped like `table`."""
    import pandas as pd

    mask = pd.DataFrame(False, index=table.index, columns=table.columns)
    while True:
        before = mask.copy()
        for r in table.index:
            s = None if start is None else start.get(r)
            mask.loc[r] = funnel_hidden(list(table.loc[r]), list(mask.loc[r]), start=s)
        for c in table.columns:
            parts = {r: table.at[r, c] for r in table.index if r != total_row}
            hid = {r for r in parts if mask.at[r, c]}
            new = secondary_hidden(parts, hid, bool(mask.at[total_row, c]))
            for r in new:
                mask.at[r, c] = True
        if mask.equals(before):
            return mask


# --------------------------------------------------------------------------------------
# Guards against personal data in a cell's output

#: Strings that look like person ids: ids made by `ittai ingest` (p + 32 hex), those of
#: `ittai synth` / sample_data (12 hex), and P + 10 digits.
PERSON_ID_PATTERNS = [
    re.compile(r"\bp[0-9a-f]{32}\b", re.IGNORECASE),
    re.compile(r"\b[0-9a-f]{12}\b", re.IGNORECASE),
    re.compile(r"\bP\d{10}\b"),
]


def check_no_personal_data(df, count_columns=()) -> None:
    """Raises when a table about to be shown has a person column, a value that looks like
    a person id, or a count of 1-9 in one of `count_columns`."""
    cols = [str(c) for c in df.columns] + [str(i) for i in df.index]
    for c in cols:
        if c in _PERSON_COLUMNS or "person_id" in c:
            raise ValueError("a person-level column would be shown")
    for c in df.columns:
        for v in df[c].tolist():
            if any(p.search(str(v)) for p in PERSON_ID_PATTERNS):
                raise ValueError(f"a value like a person id in column {c!r}")
    for c in count_columns:
        if c in df.columns:
            for v in df[c]:
                if isinstance(v, str):
                    v = v.replace(",", "")
                if is_small(v):
                    raise ValueError(f"a count of 1-9 would be shown in column {c!r}")


def show(df, count_columns=(), index: bool = False):
    """Displays a table (as HTML, without the row numbers unless `index`) after
    [`check_no_personal_data`]."""
    from IPython.display import HTML, display

    check_no_personal_data(df, count_columns)
    display(HTML(df.to_html(index=index, escape=True, na_rep="")))


# --------------------------------------------------------------------------------------
# Plots


def _cjk_font_files() -> list[str]:
    """Files of Noto Sans CJK (Debian's fonts-noto-cjk), from fontconfig or the usual path."""
    files = []
    if shutil.which("fc-match"):
        try:
            import subprocess

            out = subprocess.run(["fc-match", "-f", "%{file}", "Noto Sans CJK JP"],
                                 capture_output=True, text=True, timeout=10).stdout.strip()
            if "CJK" in out and Path(out).is_file():
                files.append(out)
        except Exception:  # noqa: BLE001 - no fontconfig answer: try the usual path
            pass
    usual = Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc")
    if usual.is_file() and str(usual) not in files:
        files.append(str(usual))
    return files


def setup_matplotlib() -> str | None:
    """matplotlib with a Japanese font: "Noto Sans CJK JP" (Debian: fonts-noto-cjk) when
    installed, else another CJK font if one is found, else the default (silently). Returns
    the family used, or None."""
    import matplotlib
    from matplotlib import font_manager

    matplotlib.rcParams["axes.unicode_minus"] = False
    matplotlib.rcParams["figure.dpi"] = 100
    matplotlib.rcParams["savefig.dpi"] = 100
    matplotlib.rcParams["figure.figsize"] = (10, 5)
    available = {f.name for f in font_manager.fontManager.ttflist}
    if "Noto Sans CJK JP" not in available:
        # Installed after matplotlib cached its font list (e.g. apt-get install fonts-noto-cjk
        # on a machine that had drawn before): add the file directly.
        for path in _cjk_font_files():
            try:
                font_manager.fontManager.addfont(path)
            except Exception:  # noqa: BLE001 - any unreadable file: keep the default font
                continue
        available = {f.name for f in font_manager.fontManager.ttflist}
    for family in [
        "Noto Sans CJK JP",
        "Noto Sans JP",
        "IPAexGothic",
        "IPAGothic",
        "Hiragino Sans",
        "Yu Gothic",
        "TakaoGothic",
    ]:
        if family in available:
            matplotlib.rcParams["font.family"] = "sans-serif"
            matplotlib.rcParams["font.sans-serif"] = [family, "DejaVu Sans"]
            return family
    return None
