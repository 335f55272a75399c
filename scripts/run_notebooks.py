#!/usr/bin/env python3
"""Executes every notebooks/*.ipynb top to bottom and writes each as HTML.

    python3 scripts/run_notebooks.py --out DIR [--only NAME ...] [--no-input]

Needs: python3 -m pip install nbclient nbformat nbconvert ipykernel pandas matplotlib pyarrow

The notebooks read the environment variables ITTAI_OUT (the --out folder of
`ittai run --data sample_data --out DIR`), ITTAI_BIN (the ittai binary), ITTAI_DATA (the
dataset folder) and ITTAI_REPO (the repository root; default: this checkout); see
notebooks/README.md.

Each notebook runs in its own python3 kernel (nbclient, 600 s per cell) with notebooks/ as
its working folder; the executed notebook is written to DIR/<name>.html (nbconvert's
HTMLExporter, plots embedded). The committed notebooks are left as they are. One line per
notebook gives the seconds taken. The exit status is 1 when

- a committed notebook has saved outputs (they must be committed with outputs cleared),
- a cell fails (the notebook and the cell are named), or
- an executed output holds a `person_id` column or a string that looks like a person id
  (P + 10 digits, 12 hex digits as in sample_data, p + 32 hex digits as `ittai ingest`
  makes them, or any id of ITTAI_DATA/persons.parquet, in any case, anywhere in the text). The offending text is not printed
  and no HTML is written for that notebook.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
CELL_TIMEOUT = 600

PATTERNS = [
    ("a person_id column", re.compile(r"person_id")),
    ("P + 10 digits", re.compile(r"\bP\d{10}\b")),
    ("12 hex digits (sample_data person id)", re.compile(r"\b[0-9a-f]{12}\b", re.IGNORECASE)),
    ("p + 32 hex digits (ingested person id)", re.compile(r"\bp[0-9a-f]{32}\b", re.IGNORECASE)),
]


def die(msg: str) -> None:
    print(f"run_notebooks: {msg}", file=sys.stderr)
    sys.exit(1)


def known_person_ids() -> set[str]:
    """The person ids of ITTAI_DATA/persons.parquet (empty when it cannot be read)."""
    data = os.environ.get("ITTAI_DATA", "")
    path = Path(data) / "persons.parquet" if data else None
    if not path or not path.is_file():
        return set()
    try:
        import pyarrow.parquet as pq

        return {str(i).lower() for i in pq.read_table(path, columns=["person_id"]).column(0).to_pylist()}
    except Exception as e:  # noqa: BLE001 - the pattern checks still run
        print(f"run_notebooks: warning: cannot read person ids from {path}: {e}", file=sys.stderr)
        return set()


def output_texts(output) -> list[str]:
    """Every text of a cell output (images are skipped)."""
    texts = []
    if output.get("output_type") == "stream":
        texts.append(output.get("text", ""))
    elif output.get("output_type") == "error":
        texts.append(output.get("ename", ""))
        texts.append(output.get("evalue", ""))
        texts.extend(output.get("traceback", []))
    for mime, value in (output.get("data") or {}).items():
        if mime.startswith("image/") and mime != "image/svg+xml":
            continue
        texts.append(value if isinstance(value, str) else "".join(value) if isinstance(value, list) else str(value))
    return texts


def contains_id(text: str, ids: set[str]) -> bool:
    """Whether `text` holds one of `ids` anywhere (any case, also inside a longer word)."""
    low = text.lower()
    for n in {len(i) for i in ids}:
        if any(low[k : k + n] in ids for k in range(len(low) - n + 1)):
            return True
    return False


def personal_data_findings(nb, ids: set[str]) -> list[str]:
    """Where an output looks like personal data: "cell N: <what>" (never the text)."""
    found = []
    for i, cell in enumerate(nb.cells):
        for output in cell.get("outputs", []):
            for text in output_texts(output):
                for what, pattern in PATTERNS:
                    if pattern.search(text):
                        found.append(f"cell {i}: {what}")
                if ids and contains_id(text, ids):
                    found.append(f"cell {i}: an id of ITTAI_DATA/persons.parquet")
    return sorted(set(found), key=lambda s: (int(s.split(":")[0].split()[1]), s))


def saved_outputs(nb) -> list[int]:
    """Code cells of a committed notebook that carry outputs or an execution count."""
    return [
        i
        for i, c in enumerate(nb.cells)
        if c.cell_type == "code" and (c.get("outputs") or c.get("execution_count") is not None)
    ]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", required=True, type=Path, help="folder for the executed notebooks as HTML")
    ap.add_argument("--no-input", action="store_true", help="leave the code cells out of the HTML (a reading copy: text, tables and plots)")
    ap.add_argument("--only", action="append", default=[], help="run only this notebook (name or name.ipynb); repeatable")
    a = ap.parse_args()
    try:
        import nbformat
        from nbclient import NotebookClient
        from nbclient.exceptions import CellExecutionError
        from nbconvert import HTMLExporter
    except ImportError as e:
        die(f"{e}: python3 -m pip install nbclient nbformat nbconvert ipykernel pandas matplotlib pyarrow")

    os.environ.setdefault("ITTAI_REPO", str(ROOT))
    # The kernels import notebooks/ittai_nb.py: no __pycache__ left in the checkout.
    os.environ["PYTHONDONTWRITEBYTECODE"] = "1"
    if not os.environ.get("ITTAI_OUT"):
        die("ITTAI_OUT is not set: run `ittai run --data sample_data --out DIR` and set ITTAI_OUT=DIR (notebooks/README.md)")
    paths = sorted(NOTEBOOKS.glob("*.ipynb"))
    if a.only:
        want = {n if n.endswith(".ipynb") else f"{n}.ipynb" for n in a.only}
        paths = [p for p in paths if p.name in want]
        missing = want - {p.name for p in paths}
        if missing:
            die(f"no such notebook: {', '.join(sorted(missing))}")
    if not paths:
        die(f"no notebook in {NOTEBOOKS}")
    a.out.mkdir(parents=True, exist_ok=True)
    ids = known_person_ids()
    exporter = HTMLExporter(exclude_input=a.no_input, exclude_input_prompt=a.no_input, exclude_output_prompt=a.no_input)
    failures = []
    for path in paths:
        nb = nbformat.read(path, as_version=4)
        dirty = saved_outputs(nb)
        if dirty:
            failures.append(f"{path.name}: committed with outputs in cells {dirty} (clear them before committing)")
            print(f"{path.name}: FAILED (saved outputs)", flush=True)
            continue
        client = NotebookClient(
            nb,
            kernel_name="python3",
            timeout=CELL_TIMEOUT,
            resources={"metadata": {"path": str(NOTEBOOKS)}},
        )
        start = time.monotonic()
        error = None
        with client.setup_kernel():
            for i, cell in enumerate(nb.cells):
                try:
                    client.execute_cell(cell, i)
                except CellExecutionError as e:
                    first = next((ln for ln in cell.source.splitlines() if ln.strip()), "")
                    # The error's name and message only: its traceback may quote data.
                    ename = getattr(e, "ename", type(e).__name__)
                    evalue = str(getattr(e, "evalue", "")).splitlines()[:1]
                    error = f"{path.name}: cell {i} failed ({first[:80]!r}): {ename}: {' '.join(evalue)[:300]}"
                    break
                except Exception as e:  # a timeout or a dead kernel
                    error = f"{path.name}: cell {i} failed: {type(e).__name__}: {str(e)[:300]}"
                    break
        seconds = time.monotonic() - start
        found = personal_data_findings(nb, ids)
        if found:
            failures.append(f"{path.name}: output looks like personal data ({'; '.join(found)}); no HTML written")
            print(f"{path.name}: FAILED (personal data) in {seconds:.1f} s", flush=True)
            continue
        html, _ = exporter.from_notebook_node(nb)
        target = a.out / f"{path.stem}.html"
        target.write_text(html, encoding="utf-8")
        if error:
            failures.append(error)
            print(f"{path.name}: FAILED in {seconds:.1f} s (partial HTML: {target})", flush=True)
        else:
            print(f"{path.name}: ok in {seconds:.1f} s -> {target}", flush=True)
    for f in failures:
        print(f"run_notebooks: {f}", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
