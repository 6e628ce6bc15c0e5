import numpy as np
import pytest

from dirs.learn.vote import vote


@pytest.mark.parametrize("as_torch", [False, True])
def test_vote_rule(as_torch):
    p = np.array([[[0.2, 0.7], [0.6, 0.55], [0.1, 0.49], [0.5, 0.3]]])  # (1, N=4, M=2)
    if as_torch:
        torch = pytest.importorskip("torch")
        p = torch.tensor(p)
    np.testing.assert_array_equal(vote(p), [[2, 1, 0, 1]])


def test_all_below_half_is_local():
    assert np.all(vote(np.full((3, 5, 4), 0.49)) == 0)


def test_vote_on_logits_equals_vote_on_probabilities():
    """Policy votes on logits with threshold 0 (σ(z) ≥ 0.5 ⇔ z ≥ 0): the paper's rule, same decisions."""
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    z = torch.as_tensor(rng.normal(0.0, 3.0, size=(50, 40, 5)), dtype=torch.float64)
    np.testing.assert_array_equal(vote(z, threshold=0.0), vote(torch.sigmoid(z)))


def test_vote_on_logits_breaks_saturated_ties_by_the_larger_logit():
    """float32 σ rounds z ≥ 17 to exactly 1.0; in logit space the more confident agent still wins."""
    torch = pytest.importorskip("torch")
    z = torch.tensor([[[20.0, 30.0]]])
    assert torch.sigmoid(z)[0, 0, 0] == torch.sigmoid(z)[0, 0, 1]
    assert vote(z, threshold=0.0)[0, 0] == 2


def test_vote_stacked_equals_vote_on_the_permuted_scores():
    torch = pytest.importorskip("torch")
    from dirs.learn.vote import vote_stacked

    z = torch.randn(4, 30, 25, generator=torch.Generator().manual_seed(0)) * 2  # (M, T, N)
    np.testing.assert_array_equal(vote_stacked(z, threshold=0.0), vote(z.permute(1, 2, 0), threshold=0.0))
    p = torch.sigmoid(z)
    np.testing.assert_array_equal(vote_stacked(p), vote(p.permute(1, 2, 0)))
