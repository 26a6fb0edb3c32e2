"""Complaint categories: a negative mention gets the taxonomy category it is closest to in meaning.

Each category is described in words (a description and a few example complaints). Every text
of a category is embedded, the unit vectors are averaged into one prototype per category, and
a mention goes to the category with the highest cosine similarity, or to none when no category
reaches `min_similarity`. A brand adds or rewords a category in the database, without
retraining anything; the taxonomy's fingerprint is stored with each result, so results from an
older taxonomy can be found and re-categorised (`socialcrm sentiment rescore --categories`).

Three embedders sit behind one Protocol: the sentiment model itself (`SharedEncoder`, the
default when the model was trained to keep sentence vectors, as the bundled one is: scoring's
own forward pass gives each complaint's vector), the all-MiniLM-L6-v2 sentence encoder
(`sentiment.embeddings`, for any other transformer model or SOCIALCRM_CATEGORY_MODEL) and a
hashed bag of words (with the lexicon backend, which must not need torch, and in tests).
"""

from __future__ import annotations

import hashlib
import itertools
import json
import re
import threading
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np

from core.errors import InvalidError
from core.settings import Settings

TAXONOMIES_DIR = Path(__file__).resolve().parent / "taxonomies"
# Below this cosine similarity a complaint is left uncategorised rather than forced into the
# nearest category. Low on purpose: on the airline tweets a higher floor dropped correctly sorted
# complaints almost as fast as vague ones (at 0.15, 99.1 % of labelled complaints and 95.1 % of
# "Can't Tell" ones got a category; at 0.30, 87.5 % and 59.1 %, for precision 0.543 -> 0.563).
MIN_SIMILARITY = 0.15
MAX_TEXT_CHARS = 1_000

_HANDLE = re.compile(r"(?<![\w@])@\w+")
_URL = re.compile(r"https?://\S+|www\.\S+")
_SPACE = re.compile(r"\s+")
_WORD = re.compile(r"[a-z0-9']+")


def clean(text: str) -> str:
    """Drop handles and links (they say who and where, not what about) and fold white space."""
    text = _URL.sub(" ", _HANDLE.sub(" ", text[:MAX_TEXT_CHARS]))
    return _SPACE.sub(" ", text.replace("#", " ")).strip()


@runtime_checkable
class Embedder(Protocol):
    """What the categoriser needs: unit-length sentence vectors."""

    name: str

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """One L2-normalised row per text, in input order."""
        ...


@runtime_checkable
class VectorModel(Protocol):
    """A sentiment model whose forward pass also yields sentence vectors (one pass for both)."""

    name: str
    version: str

    def predict_with_vectors(self, texts: Sequence[str]) -> tuple[list[Any], np.ndarray]:
        """Predictions and one unit-length row per text, in input order."""
        ...

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """One unit-length row per text, in input order."""
        ...


class SharedEncoder:
    """The sentiment model as the category encoder: scoring's own pass gives the vectors.

    The model normalises texts itself (as it does for scoring), so the categoriser hands it
    complaints as they are: a re-categorisation then sees exactly what scoring saw.
    """

    raw_text = True

    def __init__(self, model: VectorModel) -> None:
        self.model = model
        self.name = f"{model.name}@{model.version}"

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """The model's sentence vectors."""
        return self.model.embed(texts)


class HashingEmbedder:
    """A hashed bag of words and word pairs: category by shared vocabulary, no model needed."""

    name = "hashed-bag-of-words"

    def __init__(self, dim: int = 2048) -> None:
        self.dim = dim

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Unit vectors of hashed unigram and bigram counts."""
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for row, text in enumerate(texts):
            words = [w.strip("'") for w in _WORD.findall(text.lower())]
            words = [w for w in words if len(w) > 2 and w not in STOPWORDS]
            grams = words + [f"{a} {b}" for a, b in itertools.pairwise(words)]
            for gram in grams:
                out[row, zlib.crc32(gram.encode()) % self.dim] += 1.0
            norm = float(np.linalg.norm(out[row]))
            if norm:
                out[row] /= norm
        return out


_STOPWORDS_TEXT = (
    "the and for you your are was were but not this that with have has had from they them "
    "their our ours its it's i'm can't don't won't just all any can will would could been "
    "being what when where who why how about into out over again still very really get got "
    "there here then than too also one two some more most much many only even ever never "
    "now today yesterday after before because she him her his she's he's you're we're"
)
STOPWORDS = frozenset(_STOPWORDS_TEXT.split())


@dataclass(frozen=True)
class CategorySpec:
    """One category as the categoriser sees it."""

    key: str
    name: str
    description: str = ""
    examples: tuple[str, ...] = ()
    # The label this category stands for in an evaluation file (airline negative_reason).
    label: str | None = None


@dataclass(frozen=True)
class CategoryMatch:
    """The chosen category (None: nothing was close enough) and its cosine similarity."""

    key: str | None
    score: float


def fingerprint(categories: Sequence[CategorySpec], embedder_name: str) -> str:
    """Identifies a taxonomy's wording and the embedder: a change in either re-categorises.

    The name is part of the wording: it is embedded with the description.
    """
    payload = json.dumps(
        [embedder_name, [(c.key, c.name, c.description, list(c.examples)) for c in categories]],
        ensure_ascii=False,
    )
    return hashlib.sha256(payload.encode()).hexdigest()[:16]


@dataclass
class Categoriser:
    """Matches texts to a taxonomy's prototypes; prototypes are cached per fingerprint."""

    embedder: Embedder
    min_similarity: float = MIN_SIMILARITY
    _cache: dict[str, tuple[list[str], np.ndarray]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def prototypes(self, categories: Sequence[CategorySpec]) -> tuple[list[str], np.ndarray]:
        """(keys, one unit-length prototype row per category) for this taxonomy."""
        version = fingerprint(categories, self.embedder.name)
        with self._lock:
            cached = self._cache.get(version)
        if cached is not None:
            return cached
        texts: list[str] = []
        owner: list[int] = []
        for i, cat in enumerate(categories):
            for text in (f"{cat.name}: {cat.description}", *cat.examples):
                if text.strip():
                    texts.append(clean(text))
                    owner.append(i)
        vectors = self.embedder.embed(texts)
        protos = np.zeros((len(categories), vectors.shape[1] if len(texts) else 1), np.float32)
        for row, i in enumerate(owner):
            protos[i] += vectors[row]
        norms = np.linalg.norm(protos, axis=1, keepdims=True)
        protos = protos / np.maximum(norms, 1e-12)
        result = ([c.key for c in categories], protos)
        with self._lock:
            if len(self._cache) > 16:  # an admin editing the taxonomy all day
                self._cache.clear()
            self._cache[version] = result
        return result

    def shares(self, model: object) -> bool:
        """Whether `model`'s scoring pass yields this categoriser's vectors."""
        return getattr(self.embedder, "model", None) is model

    def similarities(
        self,
        categories: Sequence[CategorySpec],
        texts: Sequence[str],
        vectors: np.ndarray | None = None,
    ) -> np.ndarray:
        """Cosine similarity of every text (rows) to every category (columns).

        `vectors`: the texts' vectors when the caller already has them (a shared encoder).
        """
        _, protos = self.prototypes(categories)
        if vectors is None:
            raw = getattr(self.embedder, "raw_text", False)
            vectors = self.embedder.embed(list(texts) if raw else [clean(t) for t in texts])
        return vectors @ protos.T

    def categorise(
        self,
        categories: Sequence[CategorySpec],
        texts: Sequence[str],
        vectors: np.ndarray | None = None,
    ) -> list[CategoryMatch]:
        """The closest category per text, or key None below `min_similarity`."""
        if not texts:
            return []
        if not categories:
            return [CategoryMatch(None, 0.0) for _ in texts]
        keys, _ = self.prototypes(categories)
        sims = self.similarities(categories, texts, vectors)
        best = sims.argmax(axis=1)
        out = []
        for row, col in enumerate(best.tolist()):
            score = float(sims[row, col])
            key = keys[col] if score >= self.min_similarity else None
            out.append(CategoryMatch(key, round(score, 4)))
        return out


def load_taxonomy_file(path: Path | str) -> list[CategorySpec]:
    """Categories from a taxonomy JSON file ({"categories": [{key, name, ...}]})."""
    path = Path(path)
    if not path.is_file() and (TAXONOMIES_DIR / f"{path}.json").is_file():
        path = TAXONOMIES_DIR / f"{path}.json"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise InvalidError(f"cannot read taxonomy {path}: {exc}") from exc
    items = data.get("categories") if isinstance(data, dict) else data
    if not isinstance(items, list) or not items:
        raise InvalidError(f"taxonomy {path} has no categories list")
    out = [_spec(item, f"{path}: category {i + 1}") for i, item in enumerate(items)]
    seen: set[str] = set()
    for spec in out:
        if spec.key in seen:
            raise InvalidError(f"taxonomy {path} names category {spec.key!r} twice")
        seen.add(spec.key)
    return out


def _spec(item: Any, where: str) -> CategorySpec:
    if not isinstance(item, dict) or not isinstance(item.get("key"), str) or not item["key"]:
        raise InvalidError(f"{where}: needs a non-empty 'key'")
    examples = item.get("examples") or []
    if not isinstance(examples, list) or not all(isinstance(e, str) for e in examples):
        raise InvalidError(f"{where}: 'examples' must be a list of strings")
    return CategorySpec(
        key=item["key"],
        name=str(item.get("name") or item["key"]),
        description=str(item.get("description") or ""),
        examples=tuple(examples),
        label=item.get("label"),
    )


def specs(rows: Iterable[Any]) -> list[CategorySpec]:
    """CategorySpecs from ComplaintCategory rows (or anything with the same attributes)."""
    return [CategorySpec(r.key, r.name, r.description or "", tuple(r.examples or ())) for r in rows]


_lock = threading.Lock()
_categorisers: dict[str, Categoriser] = {}


def load_categoriser(settings: Settings) -> Categoriser:
    """The configured categoriser, built once per process (the encoder loads lazily here).

    With the transformer backend and no SOCIALCRM_CATEGORY_MODEL, a sentiment model trained to
    keep sentence vectors (the bundled one) is the encoder too: no second model, no second pass.
    """
    key = ":".join(
        str(v)
        for v in (
            settings.sentiment_backend,
            settings.sentiment_model,
            settings.category_model,
            settings.category_min_similarity,
        )
    )
    with _lock:
        found = _categorisers.get(key)
        if found is None:
            floor = settings.category_min_similarity
            found = Categoriser(category_encoder(settings), min_similarity=floor)
            _categorisers[key] = found
        return found


def category_encoder(settings: Settings) -> Embedder:
    """The configured category encoder: shared with the sentiment model where it can be."""
    if settings.sentiment_backend != "transformer":
        return HashingEmbedder()
    if not settings.category_model:
        from sentiment.classifier import load_model

        model = load_model(settings)
        if getattr(model, "sentence_vectors", False) and isinstance(model, VectorModel):
            return SharedEncoder(model)
    from sentiment.embeddings import SentenceEncoder

    return SentenceEncoder.load(
        settings.category_model,
        quantize=settings.sentiment_quantize,
        threads=settings.sentiment_threads or None,
    )
