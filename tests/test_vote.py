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
