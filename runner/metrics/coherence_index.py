"""A reusable index of word occurrences in windows, for fast exact coherence.

Built once per (reference corpus, window size, mode), it answers every trial's coherence by
lookups and gives the same numbers as :func:`~runner.metrics.coherence.gensim_coherence`.

How windows are counted
-----------------------
gensim (``WordOccurrenceAccumulator`` with ``utils.iter_windows(..., ignore_below_size=False)``)
slides a window of ``W`` tokens over each document one token at a time: a document of ``L``
tokens gives ``L - W + 1`` windows when ``L >= W`` and exactly one window (the whole document,
possibly empty) otherwise; ``N`` is the total over documents. ``window_size=None`` means boolean
documents (one "window" per document, what ``u_mass`` uses).

Window ``i`` of a document covers token positions ``i .. i + W - 1``. A token at position ``p``
enters at window ``s(p) = max(0, p - W + 1)`` and leaves after window ``p``. So the windows that
contain a word form a union of intervals, one per occurrence:

* ``mode="exact"`` (true boolean windows): ``[s(p), min(n_windows, p + 1))``.
* ``mode="gensim"``: gensim keeps one present/absent flag per word and clears it whenever *any*
  copy of the word leaves the window, even if another copy is still inside. The flag set at
  ``s(p)`` therefore lasts only until the first copy at a position ``q >= s(p)`` leaves:
  ``[s(p), min(n_windows, q + 1))`` with ``q`` the word's first position ``>= s(p)``.
  Example (``W = 3``): in ``a b a c d`` the word ``a`` is in all 3 windows, but gensim counts it
  in 1 (``exact`` counts 3).

The index stores, per word, its merged window intervals in global window coordinates (CSR
arrays). At score time, for each topic, a sweep over the interval end points of the topic's
words yields, for every stretch of windows, the set of topic words present (a bit mask); the
co-occurrence count of words ``a`` and ``b`` is the total length of the stretches whose mask
holds both. Counts are exact integers; the measures are then evaluated with gensim's formulas
(:func:`~runner.metrics.coherence.topic_value`).

Storage: ``meta.json`` + ``vocabulary.json`` + ``.npy`` arrays (no pickle); arrays are
memory-mapped on load.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from itertools import chain
from pathlib import Path
from types import MappingProxyType

import numpy as np

from runner.errors import UserError
from runner.metrics.coherence import (
    CoherenceResult,
    check_measure,
    check_texts,
    check_window_size,
    make_result,
    required_window,
    topic_value,
)
from runner.metrics.topics import check_top_n, prepare_topics

__all__ = ["MODES", "CoherenceIndex"]

MODES: tuple[str, ...] = ("gensim", "exact")
"""Window-counting modes: gensim's (quirky for repeated words) or true boolean windows."""

_FORMAT = "topicsweep-coherence-index"
_VERSION = 1
_ARRAYS = ("word_ptr", "starts", "ends", "counts")

# A sweep handles groups of at most this many words (one bit each in an int64 mask); larger
# topics are split into blocks of half this size and swept block pair by block pair.
_MAX_GROUP_WORDS = 48
# Upper bound on interval end points sorted at once (memory / latency trade-off).
_MAX_EVENTS_PER_SWEEP = 8_000_000
# Use a dense (group, mask) histogram when it has at most this many bins.
_MAX_MASK_BINS = 1 << 20


class CoherenceIndex:
    """Word-occurrence index over a reference corpus for one window size and mode.

    Build it with :meth:`build` (or :meth:`load` a saved one) and call :meth:`score` per trial.
    """

    def __init__(
        self,
        *,
        vocabulary: Sequence[str],
        word_ptr: np.ndarray,
        starts: np.ndarray,
        ends: np.ndarray,
        counts: np.ndarray,
        n_windows: int,
        n_docs: int,
        n_tokens: int,
        window_size: int | None,
        mode: str,
    ) -> None:
        """Wrap prebuilt arrays; use :meth:`build` or :meth:`load` instead of calling this.

        Args:
            vocabulary: Words, position = word id.
            word_ptr: ``len(vocabulary) + 1`` offsets of each word's intervals.
            starts: Interval starts (global window coordinates), sorted per word.
            ends: Interval ends (exclusive).
            counts: Number of windows containing each word.
            n_windows: Total number of windows (documents when ``window_size`` is None).
            n_docs: Number of documents in the reference corpus.
            n_tokens: Number of tokens in the reference corpus.
            window_size: Sliding-window size, or ``None`` for boolean documents.
            mode: ``"gensim"`` or ``"exact"``.
        """
        self._words = list(vocabulary)
        self._vocabulary = MappingProxyType({w: i for i, w in enumerate(self._words)})
        self._word_ptr = word_ptr
        self._starts = starts
        self._ends = ends
        self._counts = counts
        self.n_windows = int(n_windows)
        self.n_docs = int(n_docs)
        self.n_tokens = int(n_tokens)
        self.window_size = window_size
        self.mode = mode

    # ------------------------------------------------------------------ properties

    @property
    def vocabulary(self) -> Mapping[str, int]:
        """Read-only mapping word -> word id of the reference corpus."""
        return self._vocabulary

    def __repr__(self) -> str:
        return (
            f"CoherenceIndex(window_size={self.window_size}, mode={self.mode!r}, "
            f"n_docs={self.n_docs}, n_tokens={self.n_tokens}, vocabulary={len(self._words)}, "
            f"n_windows={self.n_windows})"
        )

    # ------------------------------------------------------------------ building

    @classmethod
    def build(
        cls,
        texts: Sequence[Sequence[str]],
        *,
        window_size: int | None,
        mode: str = "gensim",
    ) -> CoherenceIndex:
        """Index a tokenized reference corpus.

        Args:
            texts: Documents, each a sequence of string tokens.
            window_size: Sliding-window size in tokens, or ``None`` for boolean documents
                (``u_mass``). Use 10 for ``c_npmi``/``c_uci`` and 110 for ``c_v`` (gensim's
                defaults, :data:`~runner.metrics.coherence.DEFAULT_WINDOW`).
            mode: ``"gensim"`` reproduces gensim's window counts exactly (including its
                repeated-word quirk); ``"exact"`` counts true boolean windows.

        Returns:
            The index.

        Raises:
            UserError: On a bad window size or mode, or untokenized texts.
        """
        window_size = check_window_size(window_size)
        if mode not in MODES:
            raise UserError(f"unknown coherence index mode {mode!r}; expected one of {', '.join(MODES)}")
        docs = check_texts(texts)
        n_docs = len(docs)
        lengths = np.fromiter(map(len, docs), dtype=np.int64, count=n_docs)
        flat = list(chain.from_iterable(docs))
        n_tokens = len(flat)
        words = list(dict.fromkeys(flat))
        for word in words:
            if not isinstance(word, str):
                raise UserError(
                    f"reference texts contain the token {word!r} ({type(word).__name__}); "
                    "tokens must be strings"
                )
        vocab = {w: i for i, w in enumerate(words)}
        ids = np.fromiter(map(vocab.__getitem__, flat), dtype=np.int64, count=n_tokens)
        del flat

        if window_size is None:
            windows_per_doc = np.ones(n_docs, dtype=np.int64)
        else:
            windows_per_doc = np.maximum(1, lengths - window_size + 1)
        n_windows = int(windows_per_doc.sum())
        window_offset = np.cumsum(windows_per_doc) - windows_per_doc
        doc_start = np.cumsum(lengths) - lengths

        # Occurrences grouped by word, in corpus order within each word.
        order = np.argsort(ids, kind="stable")
        word_of = ids[order]
        doc_of = np.repeat(np.arange(n_docs, dtype=np.int64), lengths)[order]
        local = order - doc_start[doc_of]
        limit = windows_per_doc[doc_of]
        if window_size is None:
            first_window = np.zeros(n_tokens, dtype=np.int64)
            end_window = np.ones(n_tokens, dtype=np.int64)
        else:
            first_window = np.maximum(0, local - window_size + 1)
            if mode == "exact":
                leaves = local
            else:
                # First occurrence of the same word at a position >= first_window.
                stride = n_tokens + 1
                keys = word_of * stride + order
                queries = word_of * stride + doc_start[doc_of] + first_window
                leaves = local[np.searchsorted(keys, queries, side="left")]
            end_window = np.minimum(limit, leaves + 1)
        starts = window_offset[doc_of] + first_window
        ends = window_offset[doc_of] + end_window

        # Merge overlapping/touching intervals of the same word. Within a word the ends never
        # decrease, so a run's end is its last interval's end.
        if n_tokens:
            new_run = np.empty(n_tokens, dtype=bool)
            new_run[0] = True
            new_run[1:] = (word_of[1:] != word_of[:-1]) | (starts[1:] > ends[:-1])
            first = np.flatnonzero(new_run)
            last = np.append(first[1:] - 1, n_tokens - 1)
            run_starts = starts[first]
            run_ends = ends[last]
            run_word = word_of[first]
        else:
            run_starts = run_ends = run_word = np.zeros(0, dtype=np.int64)
        n_words = len(words)
        word_ptr = np.zeros(n_words + 1, dtype=np.int64)
        np.cumsum(np.bincount(run_word, minlength=n_words), out=word_ptr[1:])
        lengths_run = run_ends - run_starts
        counts = (
            np.add.reduceat(lengths_run, word_ptr[:-1]) if n_words else np.zeros(0, dtype=np.int64)
        )
        return cls(
            vocabulary=words,
            word_ptr=word_ptr,
            starts=run_starts,
            ends=run_ends,
            counts=counts.astype(np.int64),
            n_windows=n_windows,
            n_docs=n_docs,
            n_tokens=n_tokens,
            window_size=window_size,
            mode=mode,
        )

    # ------------------------------------------------------------------ counting

    def cooccurrence_counts(self, words: Sequence[str]) -> np.ndarray:
        """Window co-occurrence counts of some words of the vocabulary.

        Args:
            words: Distinct words of :attr:`vocabulary`.

        Returns:
            ``k x k`` int64 matrix: ``[i, j]`` = windows containing both ``words[i]`` and
            ``words[j]``; ``[i, i]`` = windows containing ``words[i]``.

        Raises:
            UserError: If a word is not in the vocabulary or is repeated.
        """
        ids = []
        for word in words:
            if word not in self._vocabulary:
                raise UserError(f"word {word!r} is not in the reference vocabulary")
            ids.append(self._vocabulary[word])
        if len(set(ids)) != len(ids):
            raise UserError(f"words must be distinct, got {list(words)!r}")
        if not ids:
            return np.zeros((0, 0), dtype=np.int64)
        return self._topic_counts([np.asarray(ids, dtype=np.int64)])[0]

    def _topic_counts(self, topics: list[np.ndarray]) -> list[np.ndarray]:
        """Co-occurrence matrices for topics given as arrays of distinct word ids."""
        groups: list[np.ndarray] = []
        plan: list[list[tuple[int, np.ndarray, np.ndarray]]] = []
        for ids in topics:
            k = len(ids)
            if k <= _MAX_GROUP_WORDS:
                plan.append([(len(groups), np.arange(k), np.arange(k))])
                groups.append(ids)
                continue
            # Too many words for one mask: sweep each pair of blocks (including a block with
            # itself); every pair of words shares at least one swept group.
            half = _MAX_GROUP_WORDS // 2
            blocks = [np.arange(b, min(b + half, k)) for b in range(0, k, half)]
            parts = []
            for a in range(len(blocks)):
                for b in range(a, len(blocks)):
                    slots = blocks[a] if a == b else np.concatenate([blocks[a], blocks[b]])
                    parts.append((len(groups), slots, slots))
                    groups.append(ids[slots])
            plan.append(parts)
        group_counts = self._sweep_batches(groups)
        results = []
        for ids, parts in zip(topics, plan):
            matrix = np.zeros((len(ids), len(ids)), dtype=np.int64)
            for g, rows, cols in parts:
                matrix[np.ix_(rows, cols)] = group_counts[g]
            results.append(matrix)
        return results

    def _sweep_batches(self, groups: list[np.ndarray]) -> list[np.ndarray]:
        """Run :meth:`_sweep` over batches of groups of bounded size."""
        ptr = self._word_ptr
        sizes = [int(np.sum(ptr[g + 1] - ptr[g])) for g in groups]
        results: list[np.ndarray] = []
        batch: list[np.ndarray] = []
        load = 0
        for group, size in zip(groups, sizes):
            if batch and (load + size > _MAX_EVENTS_PER_SWEEP // 2 or len(batch) >= 4096):
                results.extend(self._sweep(batch))
                batch, load = [], 0
            batch.append(group)
            load += size
        if batch:
            results.extend(self._sweep(batch))
        return results

    def _sweep(self, groups: list[np.ndarray]) -> list[np.ndarray]:
        """Co-occurrence matrices for groups of <= 48 distinct word ids, in one sweep.

        Every interval of every group word becomes a start event (+2**slot) and an end event
        (-2**slot) keyed by (group, window). After sorting, the running sum of the deltas is the
        bit mask of the group's words present from one event to the next; ``group << width``
        is added at each group's first event so that the running sum also carries the group.
        The total length per (group, mask) then gives every pair count at once.
        """
        ptr = self._word_ptr
        n_groups = len(groups)
        width = max(len(g) for g in groups)
        flat_ids = np.concatenate(groups)
        group_of = np.repeat(np.arange(n_groups, dtype=np.int64), [len(g) for g in groups])
        slot_of = np.concatenate([np.arange(len(g), dtype=np.int64) for g in groups])
        lo = ptr[flat_ids]
        n_int = ptr[flat_ids + 1] - lo
        total = int(n_int.sum())
        # Gather the intervals of all (group, slot) words.
        idx = np.repeat(lo - (np.cumsum(n_int) - n_int), n_int)
        idx += np.arange(total, dtype=np.int64)
        stride = self.n_windows + 1
        tag = np.repeat(((group_of * stride) << 7) | slot_of, n_int)
        # One sortable int64 per event: (group * stride + window) << 7 | is_end << 6 | slot.
        packed = np.empty(2 * total, dtype=np.int64)
        head, tail = packed[:total], packed[total:]
        np.take(self._starts, idx, out=head)
        np.take(self._ends, idx, out=tail)
        del idx
        head <<= 7
        head += tag
        tail <<= 7
        tail += tag
        tail |= 1 << 6
        del tag
        packed.sort(kind="stable")

        table = np.zeros(128, dtype=np.int64)
        table[:64] = np.left_shift(1, np.arange(64, dtype=np.int64))
        table[64:] = -table[:64]
        running = np.take(table, packed & 127)
        firsts = np.searchsorted(packed, (np.arange(1, n_groups, dtype=np.int64) * stride) << 7)
        running[firsts] += 1 << width
        np.cumsum(running, out=running)  # (group << width) | mask after each event
        packed >>= 7
        spans = np.empty_like(packed)
        np.subtract(packed[1:], packed[:-1], out=spans[:-1])
        spans[-1] = 0
        del packed

        if n_groups << width <= _MAX_MASK_BINS:
            # Few possible (group, mask) values: total span of each by bincount.
            weight = np.bincount(running, weights=spans, minlength=n_groups << width)
            running = np.flatnonzero(weight)
            spans = weight[running]
        low = (1 << width) - 1
        keep = ((running & low) != 0) & (spans > 0)
        running, spans = running[keep], spans[keep]
        bounds = np.searchsorted(running >> width, np.arange(n_groups + 1))
        member_bits = np.unpackbits(
            (running & low).astype("<i8").view(np.uint8).reshape(-1, 8), axis=1, bitorder="little"
        )
        results = []
        for g, group in enumerate(groups):
            sel = slice(bounds[g], bounds[g + 1])
            member = member_bits[sel, : len(group)].astype(np.float64)
            matrix = (member.T * spans[sel]) @ member
            results.append(np.rint(matrix).astype(np.int64))
        return results

    # ------------------------------------------------------------------ scoring

    def score(
        self,
        topics: Sequence[Sequence[str]],
        measure: str,
        *,
        top_n: int = 10,
        window_size: int | None = None,
    ) -> CoherenceResult:
        """Coherence of topics against the indexed corpus; equals ``gensim_coherence``.

        Args:
            topics: Topics, each a sequence of words, best first.
            measure: One of :data:`~runner.metrics.coherence.MEASURES`.
            top_n: Number of top words per topic.
            window_size: The sliding window the measure should use; ``None`` means the
                measure's default (10 for ``c_npmi``/``c_uci``, 110 for ``c_v``). Ignored for
                ``u_mass``, which needs an index built with ``window_size=None``.

        Returns:
            The coherence result (same numbers as
            :func:`~runner.metrics.coherence.gensim_coherence` with the same arguments, and,
            for ``mode="exact"``, the true-boolean-window variant).

        Raises:
            UserError: On an unknown measure, a bad ``top_n``, or when the index was built with
                another window size than the measure needs.
        """
        measure = check_measure(measure)
        top_n = check_top_n(top_n)
        needed = required_window(measure, window_size)
        if needed != self.window_size:
            need = "boolean documents (window_size=None)" if needed is None else f"window_size={needed}"
            have = (
                "boolean documents (window_size=None)"
                if self.window_size is None
                else f"window_size={self.window_size}"
            )
            raise UserError(
                f"coherence measure {measure!r} needs {need} but this index was built with {have}; "
                "build an index for that window size"
            )
        prepared = prepare_topics(topics, self._vocabulary, top_n)
        vocab = self._vocabulary
        id_topics = [
            np.fromiter((vocab[w] for w in words), dtype=np.int64, count=len(words))
            for words in prepared.scored_words
        ]
        matrices = self._topic_counts(id_topics) if id_topics else []
        values = [topic_value(measure, m, self.n_windows) for m in matrices]
        return make_result(prepared, values)

    # ------------------------------------------------------------------ persistence

    def save(self, directory: Path) -> None:
        """Write the index to a directory (created if needed): JSON metadata + ``.npy`` arrays.

        Args:
            directory: Target directory; existing index files in it are overwritten.
        """
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        for name in _ARRAYS:
            np.save(directory / f"{name}.npy", np.ascontiguousarray(getattr(self, f"_{name}")))
        with open(directory / "vocabulary.json", "w", encoding="utf-8") as fh:
            json.dump(self._words, fh, ensure_ascii=False)
        meta = {
            "format": _FORMAT,
            "version": _VERSION,
            "window_size": self.window_size,
            "mode": self.mode,
            "n_windows": self.n_windows,
            "n_docs": self.n_docs,
            "n_tokens": self.n_tokens,
            "vocabulary_size": len(self._words),
        }
        with open(directory / "meta.json", "w", encoding="utf-8") as fh:
            json.dump(meta, fh, indent=2)

    @classmethod
    def load(cls, directory: Path) -> CoherenceIndex:
        """Read an index written by :meth:`save`; the arrays are memory-mapped read-only.

        Args:
            directory: Directory given to :meth:`save`.

        Returns:
            The index.

        Raises:
            UserError: If the directory does not hold a readable index of this format.
        """
        directory = Path(directory)
        meta_path = directory / "meta.json"
        try:
            with open(meta_path, encoding="utf-8") as fh:
                meta = json.load(fh)
            with open(directory / "vocabulary.json", encoding="utf-8") as fh:
                words = json.load(fh)
            arrays = {
                name: np.load(directory / f"{name}.npy", mmap_mode="r", allow_pickle=False)
                for name in _ARRAYS
            }
        except (OSError, ValueError) as exc:
            raise UserError(f"cannot read coherence index in {directory}: {exc}") from exc
        if not isinstance(meta, dict) or meta.get("format") != _FORMAT or meta.get("version") != _VERSION:
            raise UserError(
                f"{meta_path} is not a {_FORMAT} version {_VERSION} file"
            )
        n_words = len(words)
        consistent = (
            meta.get("vocabulary_size") == n_words
            and arrays["word_ptr"].shape == (n_words + 1,)
            and arrays["counts"].shape == (n_words,)
            and arrays["starts"].shape == arrays["ends"].shape
            and (n_words == 0 or int(arrays["word_ptr"][-1]) == arrays["starts"].shape[0])
            and meta.get("mode") in MODES
        )
        if not consistent:
            raise UserError(f"coherence index in {directory} is inconsistent (files do not match)")
        return cls(
            vocabulary=words,
            n_windows=meta["n_windows"],
            n_docs=meta["n_docs"],
            n_tokens=meta["n_tokens"],
            window_size=check_window_size(meta["window_size"]),
            mode=meta["mode"],
            **arrays,
        )
