"""Okapi BM25 over passages, in memory: built from their texts in milliseconds.

Postings are numpy arrays holding each term's precomputed BM25 weight per document, so a
query costs one vectorised add per query term. Building tokenises each distinct word once
and counts term frequencies with numpy (100k passages in about a second or two).
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence
from functools import lru_cache

import numpy as np

from kg.text.words import STOPWORDS as ENGLISH_STOPWORDS

# Words, numbers with decimals (0.00001667), and hyphenated or dotted compounds
# (x-forwarded-for, route53, ec2, io1, 5gbps); compounds also yield their parts.
_TOKEN = re.compile(r"[a-z0-9]+(?:[.\-/][a-z0-9]+)*")
_SPLIT = re.compile(r"[.\-/]")

# The English stopwords, as BM25 tokens see them: contractions split ("don", "t", "s"), and
# "no", "not", "only", "all", "up", "now" kept, which carry meaning in these notes ("only allow
# rules", "not replicated").
STOPWORDS = (
    frozenset(w for w in ENGLISH_STOPWORDS if "'" not in w)
    | {"don", "s", "t", "get", "lets", "us", "myself", "himself", "herself", "ourselves"}
    | {"themselves", "yourselves"}
) - {"no", "not", "only", "all", "up", "now"}


def _fold(token: str) -> str:
    """Light plural folding: buckets -> bucket, policies -> policy, addresses -> address."""
    if len(token) <= 3 or any(c.isdigit() for c in token):
        return token
    if token.endswith("ies") and len(token) > 4:
        return token[:-3] + "y"
    if token.endswith("sses"):
        return token[:-2]
    if token.endswith(("ss", "us", "is", "ous")):
        return token
    if token.endswith("s"):
        return token[:-1]
    return token


@lru_cache(maxsize=200_000)
def _terms(token: str) -> tuple[str, ...]:
    """The terms of one raw token: none for a stopword, a compound and its parts, or a word."""
    parts = [p for p in _SPLIT.split(token) if p]
    if len(parts) > 1 and not token.replace(".", "").isdigit():
        return (token, *(_fold(p) for p in parts if p not in STOPWORDS))
    return () if token in STOPWORDS else (_fold(token),)


def words(text: str) -> list[str]:
    """The raw lowercased tokens of ``text``, before stopwords and folding."""
    return _TOKEN.findall(text.lower())


def tokenize(text: str) -> list[str]:
    """Lowercased terms without stopwords; compounds are kept whole and also split."""
    return [term for token in _TOKEN.findall(text.lower()) for term in _terms(token)]


class BM25:
    """Okapi BM25 (``k1``, ``b``) with the non-negative idf ``log(1 + (N - df + .5)/(df + .5))``."""

    def __init__(self, texts: Sequence[str], *, k1: float = 1.2, b: float = 0.75) -> None:
        self.k1, self.b = k1, b
        self.n_docs = n = len(texts)
        # every occurrence of a raw token, as a number, with the document it is in
        raw_ids: dict[str, int] = {}
        occurrences: list[int] = []
        lengths: list[int] = []
        for text in texts:
            tokens = _TOKEN.findall(text.lower())
            lengths.append(len(tokens))
            occurrences.extend([raw_ids.setdefault(t, len(raw_ids)) for t in tokens])
        # raw token -> its terms (0 for a stopword, several for a compound), as CSR arrays
        vocab: dict[str, int] = {}
        expansion = [[vocab.setdefault(t, len(vocab)) for t in _terms(raw)] for raw in raw_ids]
        fanout = np.array([len(e) for e in expansion], dtype=np.int64)
        ptr = np.concatenate([[0], np.cumsum(fanout)])
        flat = np.array([t for e in expansion for t in e], dtype=np.int64)
        raw = np.asarray(occurrences, dtype=np.int64)
        doc = np.repeat(np.arange(n, dtype=np.int64), lengths)
        rep = fanout[raw] if len(raw) else np.zeros(0, dtype=np.int64)
        total = int(rep.sum())
        first = np.repeat(ptr[raw] if len(raw) else raw, rep)
        offset = np.arange(total, dtype=np.int64) - np.repeat(np.cumsum(rep) - rep, rep)
        terms = flat[first + offset] if total else np.zeros(0, dtype=np.int64)
        docs = np.repeat(doc, rep)
        # term frequencies: unique (term, doc) pairs, sorted by term then document
        keys, tf = np.unique(terms * max(n, 1) + docs, return_counts=True)
        t_arr, d_arr = keys // max(n, 1), keys % max(n, 1)
        doc_len = np.bincount(docs, minlength=n).astype(np.float32)
        avg = max(float(doc_len.mean()), 1.0) if n else 1.0
        norm = k1 * (1 - b + b * doc_len / avg)
        bounds = np.searchsorted(t_arr, np.arange(len(vocab) + 1))
        df = np.diff(bounds).astype(np.float64)
        idf = np.log1p((n - df + 0.5) / (df + 0.5)).astype(np.float32)
        tf_arr = tf.astype(np.float32)
        weights = idf[t_arr] * tf_arr * (k1 + 1) / (tf_arr + norm[d_arr])
        self._vocab = vocab
        self._bounds = bounds
        self._docs = d_arr.astype(np.int32)
        self._weights = weights.astype(np.float32)
        self.idf = {term: float(idf[i]) for term, i in vocab.items()}

    def rarity(self, word: str) -> float:
        """How rare a word is in the passages, 0 (everywhere) to 1 (nowhere): its idf over
        the idf of a term no passage holds."""
        terms = tokenize(word)
        if not terms:
            return 0.0
        top = math.log1p((self.n_docs + 0.5) / 0.5)
        return min(1.0, self.idf.get(terms[0], top) / top) if top > 0 else 0.0

    def scores(self, query: str) -> np.ndarray:
        """The BM25 score of every document for ``query`` (zeros where no term matches)."""
        out = np.zeros(self.n_docs, dtype=np.float32)
        for term, qtf in Counter(tokenize(query)).items():
            t = self._vocab.get(term)
            if t is None:
                continue
            lo, hi = self._bounds[t], self._bounds[t + 1]
            # a repeated query term counts once more, damped, as in BM25's k3 with k3 = 1
            out[self._docs[lo:hi]] += self._weights[lo:hi] * (2 * qtf / (1 + qtf))
        return out

    def top(self, query: str, k: int) -> list[tuple[int, float]]:
        """Document numbers and scores of the ``k`` best matches with a score above zero."""
        scores = self.scores(query)
        if k <= 0 or not self.n_docs:
            return []
        k = min(k, self.n_docs)
        best = np.argpartition(-scores, k - 1)[:k]
        best = best[np.argsort(-scores[best], kind="stable")]
        return [(int(i), float(scores[i])) for i in best if scores[i] > 0]
