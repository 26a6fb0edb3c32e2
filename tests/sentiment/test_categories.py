"""Complaint categories without a model: cleaning, hashed embeddings, prototypes, taxonomies."""

from __future__ import annotations

import json
import re
from types import SimpleNamespace

import numpy as np
import pytest

from core.errors import InvalidError
from core.settings import Settings
from sentiment import categories, classifier
from sentiment.categories import (
    MAX_TEXT_CHARS,
    MIN_SIMILARITY,
    TAXONOMIES_DIR,
    Categoriser,
    CategoryMatch,
    CategorySpec,
    Embedder,
    HashingEmbedder,
    SharedEncoder,
    clean,
    fingerprint,
    load_categoriser,
    load_taxonomy_file,
    specs,
)
from sentiment.fake import FakeModel
from tests.conftest import DEFAULT_CATEGORY_KEYS

DEFAULT_KEYS = DEFAULT_CATEGORY_KEYS
AIRLINE_KEYS = [
    "customer_service",
    "late_flight",
    "cancelled_flight",
    "lost_luggage",
    "damaged_luggage",
    "bad_flight",
    "flight_attendants",
    "booking",
    "long_lines",
]

SMALL = [
    CategorySpec("billing", "Billing", "wrong charges and refunds", ("charged twice", "refund")),
    CategorySpec("delivery", "Delivery", "parcel late or lost", ("parcel never arrived",)),
]


class CountingEmbedder(HashingEmbedder):
    """A HashingEmbedder that records the texts of every call."""

    name = "counting"

    def __init__(self) -> None:
        super().__init__()
        self.calls: list[list[str]] = []

    def embed(self, texts):
        self.calls.append(list(texts))
        return super().embed(texts)


# ---------------------------------------------------------------------------- clean


@pytest.mark.parametrize(
    ("raw", "cleaned"),
    [
        ("@united lost my bag http://t.co/x #fail  again", "lost my bag fail again"),
        ("see www.example.com/page now", "see now"),
        ("  tabs\tand\n\nnewlines  ", "tabs and newlines"),
        ("mail me@example.com please", "mail me@example.com please"),  # not a handle
        ("@a @b_c", ""),
        ("", ""),
    ],
)
def test_clean_drops_handles_links_and_folds_space(raw, cleaned):
    assert clean(raw) == cleaned


def test_clean_cuts_long_texts():
    assert MAX_TEXT_CHARS == 1_000
    assert clean("a" * 1_500) == "a" * 1_000


# ---------------------------------------------------------------------- HashingEmbedder


def test_hashing_embedder_satisfies_the_protocol():
    embedder = HashingEmbedder()
    assert isinstance(embedder, Embedder)
    assert embedder.name == "hashed-bag-of-words"
    assert embedder.dim == 2048


def test_hashing_embedder_unit_rows_in_order():
    e = HashingEmbedder(dim=512)
    texts = ["lost bag", "bag lost", "the and for", "Lost BAG!!", "lost my bag", "🙂"]
    v = e.embed(texts)
    assert v.shape == (6, 512) and v.dtype == np.float32
    norms = np.linalg.norm(v, axis=1)
    # Stop words, words under three letters and emoji give nothing: a zero row, not NaN.
    assert norms == pytest.approx([1, 1, 0, 1, 1, 0], abs=1e-6)
    assert not np.isnan(v).any()
    # Case, punctuation and short words do not matter; word order does (bigrams).
    assert float(v[0] @ v[3]) == pytest.approx(1.0, abs=1e-6)
    assert float(v[0] @ v[4]) == pytest.approx(1.0, abs=1e-6)
    assert float(v[0] @ v[1]) == pytest.approx(2 / 3, abs=1e-6)
    # Deterministic across instances and processes (crc32, not hash()).
    assert np.array_equal(v, HashingEmbedder(dim=512).embed(texts))


def test_hashing_embedder_empty_input():
    assert HashingEmbedder().embed([]).shape == (0, 2048)


def test_hashing_embedder_ignores_stopwords_and_outer_quotes():
    e = HashingEmbedder()
    a, b = e.embed(["they can't get 'refund' now", "refund"])
    assert float(a @ b) == pytest.approx(1.0, abs=1e-6)


# -------------------------------------------------------------------------- fingerprint


def test_fingerprint_is_stable_and_short():
    fp = fingerprint(SMALL, "e")
    assert re.fullmatch(r"[0-9a-f]{16}", fp)
    assert fp == fingerprint(list(SMALL), "e")


def _variants():
    b = SMALL[0]
    return {
        "key": CategorySpec("money", b.name, b.description, b.examples),
        "name": CategorySpec(b.key, "Money", b.description, b.examples),
        "description": CategorySpec(b.key, b.name, "charges", b.examples),
        "examples": CategorySpec(b.key, b.name, b.description, ("charged twice",)),
    }


@pytest.mark.parametrize("field", ["key", "name", "description", "examples"])
def test_fingerprint_changes_with_any_wording(field):
    changed = [_variants()[field], SMALL[1]]
    assert fingerprint(changed, "e") != fingerprint(SMALL, "e")


def test_fingerprint_changes_with_embedder_order_and_membership():
    base = fingerprint(SMALL, "e")
    assert fingerprint(SMALL, "other") != base
    assert fingerprint(SMALL[::-1], "e") != base
    assert fingerprint(SMALL[:1], "e") != base
    # The evaluation label is not wording: it does not re-categorise.
    relabelled = [CategorySpec(**{**SMALL[0].__dict__, "label": "Billing Issue"}), SMALL[1]]
    assert fingerprint(relabelled, "e") == base


# --------------------------------------------------------------------------- Categoriser


def test_categorise_picks_the_closest_category():
    c = Categoriser(HashingEmbedder())
    matches = c.categorise(
        SMALL, ["I was charged twice!", "@shop my parcel never arrived", "lovely weather"]
    )
    assert [m.key for m in matches] == ["billing", "delivery", None]
    assert matches[2] == CategoryMatch(None, 0.0)
    assert all(isinstance(m.score, float) for m in matches)
    assert matches[0].score == round(matches[0].score, 4) and matches[0].score > MIN_SIMILARITY


def test_categorise_the_bundled_default_taxonomy_by_shared_words():
    c = Categoriser(HashingEmbedder())
    texts = [
        "my order never arrived, the parcel is lost",
        "you charged my card twice",
        "the app crashes on startup",
        "locked out of my account, password reset broken",
        "rude agent hung up on me",
        "the product broke after a week, poor quality",
        "meh",
    ]
    keys = [m.key for m in c.categorise(load_taxonomy_file("default"), texts)]
    assert keys == [
        "delivery",
        "billing",
        "app_technical",
        "account",
        "customer_service",
        "product_quality",
        None,
    ]


def test_min_similarity_floor_leaves_weak_matches_uncategorised():
    text = ["charged twice"]
    best = Categoriser(HashingEmbedder(), min_similarity=-1.0).categorise(SMALL, text)[0]
    assert best.key == "billing" and 0 < best.score < 1
    at_floor = Categoriser(HashingEmbedder(), min_similarity=best.score - 1e-3)
    assert at_floor.categorise(SMALL, text)[0].key == "billing"
    above = Categoriser(HashingEmbedder(), min_similarity=best.score + 1e-3)
    assert above.categorise(SMALL, text) == [CategoryMatch(None, best.score)]


def test_categorise_edge_cases():
    c = Categoriser(HashingEmbedder())
    assert c.categorise(SMALL, []) == []
    assert c.categorise([], ["charged twice", "x"]) == [
        CategoryMatch(None, 0.0),
        CategoryMatch(None, 0.0),
    ]


def test_prototypes_are_unit_rows_in_taxonomy_order_and_cached():
    embedder = CountingEmbedder()
    c = Categoriser(embedder)
    keys, protos = c.prototypes(SMALL)
    assert keys == ["billing", "delivery"]
    assert protos.shape == (2, 2048)
    assert np.linalg.norm(protos, axis=1) == pytest.approx([1.0, 1.0], abs=1e-6)
    # One text per category for name + description, then one per example, all cleaned.
    assert embedder.calls == [
        [
            "Billing: wrong charges and refunds",
            "charged twice",
            "refund",
            "Delivery: parcel late or lost",
            "parcel never arrived",
        ]
    ]
    again = c.prototypes(list(SMALL))
    assert again[0] == keys and again[1] is protos
    assert len(embedder.calls) == 1
    c.categorise(SMALL, ["charged twice"])
    assert embedder.calls[1:] == [["charged twice"]]  # the texts only, prototypes cached


def test_an_edited_taxonomy_gets_new_prototypes():
    embedder = CountingEmbedder()
    c = Categoriser(embedder)
    c.prototypes(SMALL)
    renamed = [CategorySpec("billing", "Payments", SMALL[0].description, SMALL[0].examples)]
    keys, _ = c.prototypes(renamed + SMALL[1:])
    assert keys == ["billing", "delivery"]
    assert len(embedder.calls) == 2
    assert embedder.calls[1][0] == "Payments: wrong charges and refunds"


def test_prototype_cache_is_bounded():
    embedder = CountingEmbedder()
    c = Categoriser(embedder)
    for i in range(20):
        c.prototypes([CategorySpec(f"k{i}", "K", "words")])
    assert len(c._cache) <= 17
    assert len(embedder.calls) == 20


def test_category_with_only_a_name_still_has_a_prototype():
    c = Categoriser(HashingEmbedder())
    only_name = [CategorySpec("refunds", "Refunds"), SMALL[1]]
    assert c.categorise(only_name, ["where are my refunds"])[0].key == "refunds"


def test_category_texts_are_cleaned_before_embedding():
    embedder = CountingEmbedder()
    Categoriser(embedder).prototypes(
        [CategorySpec("x", "X", "@brand see http://x.io", ("#late  again",))]
    )
    assert embedder.calls == [["X: see", "late again"]]


# ---------------------------------------------------------------------------- taxonomy files


def test_bundled_taxonomies_load_by_name():
    default = load_taxonomy_file("default")
    assert [c.key for c in default] == DEFAULT_KEYS
    assert all(c.description and len(c.examples) == 4 for c in default)
    assert default[1].name == "Billing and refunds" and default[1].label is None
    airline = load_taxonomy_file("airline")
    assert [c.key for c in airline] == AIRLINE_KEYS
    assert {c.label for c in airline} == {
        "Customer Service Issue",
        "Late Flight",
        "Cancelled Flight",
        "Lost Luggage",
        "Damaged Luggage",
        "Bad Flight",
        "Flight Attendant Complaints",
        "Flight Booking Problems",
        "longlines",
    }
    assert load_taxonomy_file(TAXONOMIES_DIR / "airline.json") == airline
    assert isinstance(airline[0].examples, tuple)


def test_taxonomy_file_forms_and_defaults(tmp_path):
    path = tmp_path / "t.json"
    path.write_text(
        json.dumps(
            [
                {"key": "late", "description": "late trains", "examples": ["late again"]},
                {"key": "rude", "name": "Rude staff", "label": "Rude"},
            ]
        ),
        encoding="utf-8",
    )
    assert load_taxonomy_file(path) == [
        CategorySpec("late", "late", "late trains", ("late again",), None),
        CategorySpec("rude", "Rude staff", "", (), "Rude"),
    ]
    path.write_text(json.dumps({"categories": [{"key": "a", "examples": None}]}))
    assert load_taxonomy_file(str(path)) == [CategorySpec("a", "a")]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "cannot read taxonomy"),
        ("{}", "has no categories list"),
        ('{"categories": []}', "has no categories list"),
        ('{"categories": {"key": "a"}}', "has no categories list"),
        ("[1]", "category 1: needs a non-empty 'key'"),
        ('[{"key": "a"}, {"name": "b"}]', "category 2: needs a non-empty 'key'"),
        ('[{"key": ""}]', "needs a non-empty 'key'"),
        ('[{"key": 5}]', "needs a non-empty 'key'"),
        ('[{"key": "a", "examples": "one"}]', "'examples' must be a list of strings"),
        ('[{"key": "a", "examples": ["ok", 2]}]', "'examples' must be a list of strings"),
    ],
)
def test_bad_taxonomy_files_are_invalid(tmp_path, content, message):
    path = tmp_path / "bad.json"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(InvalidError, match=re.escape(message)):
        load_taxonomy_file(path)


def test_missing_taxonomy_file_is_invalid(tmp_path):
    with pytest.raises(InvalidError, match="cannot read taxonomy"):
        load_taxonomy_file(tmp_path / "nope.json")
    with pytest.raises(InvalidError, match="cannot read taxonomy nosuchbundle"):
        load_taxonomy_file("nosuchbundle")


def test_specs_from_rows():
    rows = [
        SimpleNamespace(key="a", name="A", description=None, examples=None),
        SimpleNamespace(key="b", name="B", description="bee", examples=["x", "y"]),
    ]
    assert specs(rows) == [CategorySpec("a", "A"), CategorySpec("b", "B", "bee", ("x", "y"))]
    assert specs([]) == []


# ---------------------------------------------------------------------------- load_categoriser


@pytest.fixture
def no_cached_categorisers(monkeypatch):
    monkeypatch.setattr(categories, "_categorisers", {})


def _settings(tmp_path, **kw):
    return Settings(database_url=f"sqlite:///{tmp_path / 'x.db'}", _env_file=None, **kw)


def test_load_categoriser_lexicon_is_a_bag_of_words_built_once(tmp_path, no_cached_categorisers):
    settings = _settings(tmp_path, sentiment_backend="lexicon", category_min_similarity=0.3)
    first = load_categoriser(settings)
    assert isinstance(first.embedder, HashingEmbedder)
    assert first.min_similarity == 0.3
    assert load_categoriser(settings) is first


def test_load_categoriser_default_floor(tmp_path, no_cached_categorisers):
    c = load_categoriser(_settings(tmp_path, sentiment_backend="lexicon"))
    assert c.min_similarity == MIN_SIMILARITY == 0.15


def test_load_categoriser_transformer_uses_the_sentence_encoder(
    tmp_path, no_cached_categorisers, monkeypatch
):
    pytest.importorskip("torch", reason="the transformer backend needs torch")
    from sentiment import embeddings

    calls = []

    def fake_load(source="", *, quantize=True, threads=None):
        calls.append((source, threads))
        return HashingEmbedder()

    monkeypatch.setattr(embeddings.SentenceEncoder, "load", staticmethod(fake_load))
    settings = _settings(
        tmp_path, sentiment_backend="transformer", category_model="/models/enc", sentiment_threads=3
    )
    c = load_categoriser(settings)
    assert calls == [("/models/enc", 3)]
    assert isinstance(c.embedder, HashingEmbedder)
    assert load_categoriser(settings) is c and len(calls) == 1
    # Without a category model of its own, a sentiment model lacking sentence vectors gets
    # the bundled sentence encoder.
    monkeypatch.setattr(classifier, "load_model", lambda settings: FakeModel())
    load_categoriser(_settings(tmp_path, sentiment_backend="transformer", sentiment_threads=3))
    assert calls[-1] == ("", 3)


class VectorFake(FakeModel):
    """A fake whose forward pass also yields sentence vectors (the bundled model's ability)."""

    sentence_vectors = True

    def __init__(self) -> None:
        super().__init__()
        self.vector_calls: list[int] = []
        self.embed_calls: list[int] = []
        self._bag = HashingEmbedder()

    def predict_with_vectors(self, texts):
        self.vector_calls.append(len(texts))
        preds = FakeModel.predict(self, texts)
        self.calls.pop()  # counted as a vector call, not a plain predict
        return preds, self._bag.embed(texts)

    def embed(self, texts):
        self.embed_calls.append(len(texts))
        return self._bag.embed(texts)


def test_load_categoriser_shares_a_sentiment_model_that_has_sentence_vectors(
    tmp_path, no_cached_categorisers, monkeypatch
):
    from sentiment import embeddings

    model = VectorFake()
    monkeypatch.setattr(classifier, "load_model", lambda settings: model)
    monkeypatch.setattr(embeddings.SentenceEncoder, "load", None)  # must not be used
    c = load_categoriser(_settings(tmp_path, sentiment_backend="transformer"))
    assert isinstance(c.embedder, SharedEncoder) and c.embedder.model is model
    assert c.embedder.name == "fake@1" and c.shares(model) and not c.shares(FakeModel())


def test_shared_encoder_gets_texts_as_they_are(tmp_path):
    model = VectorFake()
    c = Categoriser(SharedEncoder(model))
    text = "@airline charged me twice http://x.co/1 #refund"
    sims = c.similarities(SMALL, [text])
    assert np.allclose(sims, HashingEmbedder().embed([text]) @ c.prototypes(SMALL)[1].T)
    # Vectors a scoring pass already made are used as given.
    given = HashingEmbedder().embed(["charged twice"])
    assert c.categorise(SMALL, [text], given) == Categoriser(HashingEmbedder()).categorise(
        SMALL, ["charged twice"]
    )
