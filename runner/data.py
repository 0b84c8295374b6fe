"""Load a corpus from csv/tsv/jsonl/txt/parquet (or the bundled demo corpus) into a :class:`Corpus`.

Texts are kept as written apart from ``dataset.clean`` (HTML entities and tags by default, URLs and
e-mail addresses on request; see :mod:`runner.text_clean`) and surrounding whitespace: embedding
models see that text, the content hash covers it, and stop words and punctuation are handled later
by the vectorizer.
"""

from __future__ import annotations

import csv
import hashlib
import importlib.util
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from runner.errors import UserError
from runner.text_clean import CleanOptions, clean_text

FORMATS = ("csv", "tsv", "jsonl", "txt", "parquet")
_SUFFIX_FORMATS = {".csv": "csv", ".tsv": "tsv", ".tab": "tsv", ".jsonl": "jsonl", ".json": "jsonl",
                   ".txt": "txt", ".cor": "txt", ".parquet": "parquet", ".pq": "parquet"}
_ENCODING_SUGGESTIONS = ("gb18030", "big5", "utf-16", "latin-1")


@dataclass(frozen=True)
class Corpus:
    """A cleaned corpus.

    Attributes:
        name: Short name used in run names and tags.
        source: Where the texts came from (a path or a package resource).
        texts: Documents after ``dataset.clean``, surrounding whitespace stripped, too-short ones dropped.
        labels: Gold labels aligned with ``texts`` (strings), or None.
        timestamps: Timestamps aligned with ``texts`` (strings as read), or None.
        dropped: How many documents were dropped as empty/too short.
    """

    name: str
    source: str
    texts: list[str]
    labels: list[str] | None = None
    timestamps: list[str] | None = None
    dropped: int = 0

    @property
    def content_hash(self) -> str:
        """sha256 of the texts (order matters); the dataset part of every cache key."""
        digest = hashlib.sha256()
        for text in self.texts:
            digest.update(text.encode("utf-8"))
            digest.update(b"\x00")
        return digest.hexdigest()

    def __len__(self) -> int:
        return len(self.texts)


def dataset_name(dataset_cfg: Mapping[str, Any]) -> str:
    """The name a ``dataset`` config will load under, without reading it: ``name``, else the file's stem."""
    if dataset_cfg.get("name"):
        return str(dataset_cfg["name"])
    path = dataset_cfg.get("path")
    return Path(str(path)).stem if path else "dataset"


def load_lee_background(name: str = "lee", clean: dict[str, Any] | None = None) -> Corpus:
    """The 300 Lee news texts shipped inside gensim (``gensim/test/test_data/lee_background.cor``)."""
    spec = importlib.util.find_spec("gensim")
    if spec is None or spec.origin is None:
        raise UserError("the demo corpus needs gensim installed (pip install gensim)")
    path = Path(spec.origin).parent / "test" / "test_data" / "lee_background.cor"
    return load_corpus(path=str(path), format="txt", name=name, encoding="latin-1", clean=clean)


def load_corpus(
    path: str,
    format: str | None = None,
    text_column: str | int | None = "text",
    label_column: str | int | None = None,
    timestamp_column: str | int | None = None,
    header: bool | str = "auto",
    encoding: str = "utf-8",
    min_chars: int = 1,
    name: str | None = None,
    clean: dict[str, Any] | None = None,
) -> Corpus:
    """Read a corpus file.

    Args:
        path: File to read; relative paths are resolved from the working directory.
        format: One of csv, tsv, jsonl, txt, parquet; None = from the file suffix.
        text_column: Column name (header row) or 0-based position (no header row).
        label_column: Optional gold-label column (enables nmi/ari).
        timestamp_column: Optional timestamp column (kept for later analyses).
        header: True/False, or "auto": a header row exists when ``text_column`` is a name.
        encoding: Text encoding of the file.
        min_chars: Documents with fewer characters (after stripping) are dropped and counted.
        name: Dataset name for runs and tags; None = the file stem.
        clean: ``dataset.clean`` options (``html``, ``urls``, ``emails``; see
            :class:`~runner.text_clean.CleanOptions`), applied before ``min_chars``; None = defaults.

    Raises:
        UserError: Missing file, unknown format, missing column, undecodable bytes, empty corpus.
    """
    options = CleanOptions.parse(clean)
    file = Path(path).expanduser()
    if not file.is_file():
        raise UserError(f"dataset file not found: {file} (set dataset.path=...)")
    fmt = _format_of(file, format)
    try:
        if fmt == "txt":
            rows: dict[str, list[Any]] = {"text": file.read_text(encoding=encoding).splitlines()}
            columns = {"text": "text"}
        else:
            frame = _read_table(file, fmt, header, text_column, encoding)
            columns = _pick_columns(file, frame, text_column, label_column, timestamp_column)
            rows = {role: frame[column].tolist() for role, column in columns.items()}
    except UnicodeDecodeError as error:
        raise UserError(_encoding_message(file, encoding, error)) from error
    return _clean(rows, name or file.stem, str(file), min_chars, options)


def _format_of(file: Path, fmt: str | None) -> str:
    if fmt is None:
        fmt = _SUFFIX_FORMATS.get(file.suffix.lower())
        if fmt is None:
            raise UserError(f"cannot tell the format of {file}; set dataset.format to one of {', '.join(FORMATS)}")
    if fmt not in FORMATS:
        raise UserError(f"unknown dataset.format '{fmt}'; use one of {', '.join(FORMATS)}")
    return fmt


def _read_table(file: Path, fmt: str, header: bool | str, text_column: Any, encoding: str) -> Any:
    import pandas as pd

    if fmt == "parquet":
        return pd.read_parquet(file)
    if fmt == "jsonl":
        try:
            return pd.read_json(file, lines=True, encoding=encoding, dtype=False)
        except ValueError as error:
            raise UserError(f"{file} is not valid JSON Lines: {error}") from error
    has_header = isinstance(text_column, str) if header == "auto" else bool(header)
    try:
        return pd.read_csv(
            file,
            sep="\t" if fmt == "tsv" else ",",
            header=0 if has_header else None,
            dtype=str,
            keep_default_na=False,
            encoding=encoding,
            quoting=csv.QUOTE_NONE if fmt == "tsv" else csv.QUOTE_MINIMAL,
        )
    except pd.errors.EmptyDataError as error:
        raise UserError(f"dataset file is empty: {file}") from error
    except pd.errors.ParserError as error:
        raise UserError(f"cannot parse {file} as {fmt}: {str(error).strip()}") from error


def _pick_columns(file: Path, frame: Any, text: Any, label: Any, timestamp: Any) -> dict[str, Any]:
    available = [str(c) for c in frame.columns]
    picked: dict[str, Any] = {}
    for role, column in (("text", text), ("label", label), ("timestamp", timestamp)):
        if column is None:
            if role == "text":
                raise UserError(f"dataset.text_column is not set; columns of {file}: {', '.join(available)}")
            continue
        if isinstance(column, int) and column not in frame.columns:
            if not 0 <= column < len(frame.columns):
                raise UserError(
                    f"dataset.{role}_column={column} is out of range: {file} has {len(frame.columns)} columns"
                )
            column = frame.columns[column]
        elif column not in frame.columns:
            raise UserError(
                f"column '{column}' (dataset.{role}_column) not found in {file}; available columns: "
                f"{', '.join(available)}"
            )
        picked[role] = column
    return picked


def _encoding_message(file: Path, encoding: str, error: UnicodeDecodeError) -> str:
    raw = file.read_bytes()
    fits = next((enc for enc in _ENCODING_SUGGESTIONS if _decodes(raw, enc)), "latin-1")
    return (
        f"{file} is not valid {encoding} (byte {raw[error.start:error.start + 1]!r} at offset {error.start}); "
        f"set dataset.encoding={fits} or convert the file to UTF-8"
    )


def _decodes(raw: bytes, encoding: str) -> bool:
    try:
        raw.decode(encoding)
    except UnicodeDecodeError:
        return False
    return True


def _clean(rows: dict[str, list[Any]], name: str, source: str, min_chars: int, options: CleanOptions) -> Corpus:
    texts = [clean_text(_as_text(text), options).strip() for text in rows["text"]]
    keep = [i for i, text in enumerate(texts) if len(text) >= min_chars]
    if not keep:
        raise UserError(f"no documents in {source} (all {len(rows['text'])} rows are empty or shorter than "
                        f"dataset.min_chars={min_chars})")

    def pick(values: list[Any]) -> list[str]:
        return [_as_text(values[i]).strip() for i in keep]

    return Corpus(
        name=name,
        source=source,
        texts=[texts[i] for i in keep],
        labels=pick(rows["label"]) if "label" in rows else None,
        timestamps=pick(rows["timestamp"]) if "timestamp" in rows else None,
        dropped=len(rows["text"]) - len(keep),
    )


def _as_text(value: Any) -> str:
    if value is None or (isinstance(value, float) and value != value):
        return ""
    return str(value)
