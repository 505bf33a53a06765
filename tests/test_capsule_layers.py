"""
The capsule layers compute the paper's equations: each test holds one equation against a
hand-written reference that loops over samples and capsules the slow, obvious way.
"""

import math

import pytest
import torch

from labml_nn.capsule_networks import MarginLoss, Router, Squash


def reference_squash(s: torch.Tensor) -> torch.Tensor:
    """v = |s|^2 / (1 + |s|^2) * s / |s|, one vector at a time."""
    out = torch.empty_like(s)
    for index in range(s.shape[0]):
        norm = math.sqrt(sum(x * x for x in s[index].tolist()))
        out[index] = (norm ** 2 / (1 + norm ** 2)) * s[index] / norm
    return out


def reference_routing(u: torch.Tensor, w: torch.Tensor, iterations: int) -> torch.Tensor:
    """
    Procedure 1 of the paper for one sample at a time, with explicit matrices W_ij of shape
    [out_d, in_d]: `w` is [in_caps, out_caps, out_d, in_d].
    """
    batch, in_caps, _ = u.shape
    out_caps = w.shape[1]
    outputs = []
    for sample in range(batch):
        u_hat = [[w[i, j] @ u[sample, i] for j in range(out_caps)] for i in range(in_caps)]
        b = [[0.0] * out_caps for _ in range(in_caps)]
        for iteration in range(iterations):
            c = []
            for i in range(in_caps):
                exps = [math.exp(b[i][j]) for j in range(out_caps)]
                c.append([e / sum(exps) for e in exps])
            s = [sum(c[i][j] * u_hat[i][j] for i in range(in_caps)) for j in range(out_caps)]
            v = [reference_squash(s_j.unsqueeze(0))[0] for s_j in s]
            for i in range(in_caps):
                for j in range(out_caps):
                    b[i][j] += float(u_hat[i][j] @ v[j])
        outputs.append(torch.stack(v))
    return torch.stack(outputs)


def explicit_matrices(router: Router) -> torch.Tensor:
    """The router's weights as W_ij, [in_caps, out_caps, out_d, in_d]."""
    w = router.weight.detach().view(router.in_caps, router.in_d, router.out_caps, router.out_d)
    return w.permute(0, 2, 3, 1)


@pytest.fixture
def router():
    torch.manual_seed(0)
    # Larger weights than the default so that routing has something to agree on
    return Router(in_caps=6, out_caps=4, in_d=3, out_d=5, iterations=3, weight_std=0.5).double()


def test_squash_matches_the_papers_formula():
    torch.manual_seed(0)
    s = torch.randn(50, 16, dtype=torch.float64) * torch.logspace(-2, 1.5, 50, dtype=torch.float64)[:, None]
    assert torch.allclose(Squash(epsilon=1e-20)(s).double(), reference_squash(s), rtol=1e-6, atol=1e-12)


def test_squash_keeps_the_direction_and_lengths_below_one():
    torch.manual_seed(0)
    s = torch.randn(1000, 8) * 30
    v = Squash()(s)
    assert (v.norm(dim=-1) < 1).all()
    assert torch.allclose(torch.nn.functional.cosine_similarity(v, s, dim=-1), torch.ones(1000), atol=1e-5)


def test_squash_has_finite_gradients_at_zero():
    s = torch.zeros(3, 8, requires_grad=True)
    v = Squash()(s)
    assert torch.isfinite(v).all()
    v.sum().backward()
    assert torch.isfinite(s.grad).all()


def test_squash_computes_in_float32_under_bfloat16_input():
    # Lengths from 0.01 to 3: in bfloat16, with its 8 bits of mantissa, 1 + |s|^2 rounds to 1
    # for the short vectors, and every step of the squash rounds to 3 significant digits
    s = (torch.randn(64, 8, generator=torch.Generator().manual_seed(0)).sign() *
         torch.logspace(-2, 0.5, 64)[:, None] / 8 ** 0.5).to(torch.bfloat16)
    v = Squash(epsilon=1e-20)(s)
    assert v.dtype == torch.float32
    # The bfloat16 inputs are exact in 32-bit floats, so the squash of them is exact to float32's
    # own precision, a thousand times finer than bfloat16's
    assert torch.allclose(v, reference_squash(s.double()).float(), rtol=1e-5, atol=0)


def test_predictions_are_w_ij_times_u_i(router):
    u = torch.randn(2, 6, 3, dtype=torch.float64)
    w = explicit_matrices(router)
    u_hat = router.predictions(u)
    assert u_hat.shape == (2, 4, 6, 5)
    for sample in range(2):
        for i in range(6):
            for j in range(4):
                assert torch.allclose(u_hat[sample, j, i], w[i, j] @ u[sample, i])


def test_routing_matches_procedure_1(router):
    torch.manual_seed(1)
    u = Squash()(torch.randn(3, 6, 3, dtype=torch.float64)).double()
    for iterations in (1, 2, 3):
        router.iterations = iterations
        expected = reference_routing(u, explicit_matrices(router), iterations)
        assert torch.allclose(router(u), expected, atol=1e-10)


def test_coupling_coefficients_sum_to_one_over_output_capsules(router):
    u = Squash()(torch.randn(4, 6, 3, dtype=torch.float64))
    _, couplings = router.route(u)
    assert len(couplings) == 3
    for c in couplings:
        assert c.shape == (4, 6, 4)
        assert torch.allclose(c.sum(dim=-1), torch.ones(4, 6, dtype=c.dtype))
    # ... and not over the input capsules, once the agreements have moved them
    assert not torch.allclose(couplings[-1].sum(dim=1), torch.ones(4, 4, dtype=c.dtype))


def test_routing_logits_start_at_zero_for_every_sample(router):
    u = Squash()(torch.randn(4, 6, 3, dtype=torch.float64))
    _, couplings = router.route(u)
    # b_ij = 0 gives each input capsule an even split over the 4 output capsules
    assert torch.allclose(couplings[0], torch.full_like(couplings[0], 1 / 4))
    # A second call starts from zero again: nothing is carried over
    _, again = router.route(u)
    assert torch.equal(couplings[-1], again[-1])


def test_a_samples_output_does_not_depend_on_the_rest_of_its_batch(router):
    torch.manual_seed(2)
    u = Squash()(torch.randn(5, 6, 3, dtype=torch.float64))
    alone = router(u[:1])
    in_a_batch = router(u)[:1]
    with_other_samples = router(torch.cat([u[:1], Squash()(torch.randn(7, 6, 3, dtype=torch.float64) * 5)]))[:1]
    assert torch.allclose(alone, in_a_batch)
    assert torch.allclose(alone, with_other_samples)


def test_router_output_shape_follows_the_api():
    router = Router(in_caps=1152, out_caps=10, in_d=8, out_d=16, iterations=3)
    v = router(torch.randn(2, 1152, 8))
    assert v.shape == (2, 10, 16)


def test_detached_routing_gives_the_same_output_and_gradients_only_through_the_last_iteration(router):
    torch.manual_seed(3)
    u = Squash()(torch.randn(2, 6, 3, dtype=torch.float64))
    detached = Router(6, 4, 3, 5, 3, gradient_through_routing=False, weight_std=0.5).double()
    detached.load_state_dict(router.state_dict())
    assert torch.allclose(router(u), detached(u))

    # With the inner iterations detached, the gradient is that of s_j = sum_i c_ij u_hat_j|i with
    # the last iteration's c_ij held constant.
    detached.zero_grad()
    detached(u).sum().backward()
    with torch.no_grad():
        _, couplings = detached.route(u)
    weight = detached.weight.detach().clone().requires_grad_(True)
    u_hat = torch.bmm(u.transpose(0, 1), weight).transpose(0, 1).reshape(2, 6, 4, 5)
    s = torch.einsum('bij,bijd->bjd', couplings[-1], u_hat)
    Squash()(s).double().sum().backward()
    assert torch.allclose(detached.weight.grad, weight.grad)

    # With gradients through the iterations, the gradient differs.
    router.zero_grad()
    router(u).sum().backward()
    assert not torch.allclose(router.weight.grad, weight.grad)


def test_router_needs_at_least_one_iteration():
    with pytest.raises(ValueError, match='at least one iteration'):
        Router(4, 2, 3, 3, iterations=0)


def capsules_with_lengths(lengths):
    """Capsule vectors [batch, n, 4] whose lengths are the given numbers."""
    lengths = torch.tensor(lengths, dtype=torch.float64)
    direction = torch.tensor([0.5, 0.5, 0.5, 0.5], dtype=torch.float64)
    return lengths[..., None] * direction


def test_margin_loss_on_hand_computed_values():
    v = capsules_with_lengths([[0.95, 0.30, 0.05], [0.50, 0.60, 0.20]])
    labels = torch.tensor([0, 1])
    loss = MarginLoss(n_labels=3)(v, labels)
    # Sample 0, label 0: 0 + 0.5 * (0.3 - 0.1)^2 + 0 = 0.02
    # Sample 1, label 1: 0.5 * (0.5 - 0.1)^2 + (0.9 - 0.6)^2 + 0.5 * (0.2 - 0.1)^2 = 0.175
    assert loss.item() == pytest.approx((0.02 + 0.175) / 2)


def test_margin_loss_terms_are_squared_and_zero_inside_the_margins():
    loss = MarginLoss(n_labels=2)
    # Present digit at 0.5: (0.9 - 0.5)^2 = 0.16, not 0.4
    assert loss(capsules_with_lengths([[0.5, 0.0]]), torch.tensor([0])).item() == pytest.approx(0.16)
    # Both inside their margins
    assert loss(capsules_with_lengths([[0.95, 0.05]]), torch.tensor([0])).item() == 0


def test_margin_loss_parameters_are_the_papers_by_default_and_can_be_set():
    default = MarginLoss(n_labels=10)
    assert (default.m_positive, default.m_negative, default.lambda_) == (0.9, 0.1, 0.5)
    custom = MarginLoss(n_labels=2, lambda_=1.0, m_positive=0.8, m_negative=0.2)
    value = custom(capsules_with_lengths([[0.5, 0.5]]), torch.tensor([0])).item()
    assert value == pytest.approx(0.3 ** 2 + 1.0 * 0.3 ** 2)
