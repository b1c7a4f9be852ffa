"""Forward-mode gradients and Hessians of the input-convex networks against autograd."""

import pytest
import torch

from molgen.jko import (
    FICNN,
    DenseICNN,
    ExactLogDet,
    QuadraticResidual,
    gradient,
    gradient_and_hessian,
    hessian,
)

DIM = 5

NETWORKS = {
    "ficnn_softplus": lambda: FICNN(DIM, (16, 16), activation="softplus"),
    "ficnn_celu": lambda: FICNN(DIM, (16, 16, 8), activation="celu"),
    "dense_icnn_rank1": lambda: DenseICNN(DIM, (12,), rank=1),
    "dense_icnn_rank3": lambda: DenseICNN(DIM, (16, 16, 16), rank=3, activation="celu"),
    "quadratic_residual": lambda: QuadraticResidual(DenseICNN(DIM, (16, 16), rank=2), DIM),
}


def scrambled(network: torch.nn.Module) -> torch.nn.Module:
    """Random weights of order one (non-negativity restored), so every activation regime
    (softplus above its linear threshold, CELU on both sides of zero) is hit."""
    with torch.no_grad():
        for parameter in network.parameters():
            parameter.normal_(0.0, 1.0)
    network.clamp_weights()
    return network.double()


def autograd_derivatives(network, x, create_graph=False):
    leaf, grad = gradient(network, x)
    return grad, hessian(leaf, grad, create_graph=create_graph)


@pytest.mark.parametrize("name", sorted(NETWORKS))
def test_gradient_and_hessian_equal_autograd(name):
    torch.manual_seed(0)
    network = scrambled(NETWORKS[name]())
    x = 3 * torch.randn(128, DIM, dtype=torch.float64)
    expected_grad, expected_hessian = autograd_derivatives(network, x)
    grad, hess = network.gradient_and_hessian(x)
    # Two float64 evaluations of the same sums in a different order: entries up to ~1e3
    # agree to ~1e-12 relative; a wrong term is off by order one.
    scale = expected_hessian.abs().max()
    torch.testing.assert_close(grad, expected_grad, rtol=1e-10, atol=1e-10 * scale)
    torch.testing.assert_close(hess, expected_hessian, rtol=1e-10, atol=1e-10 * scale)


def test_softplus_linear_region_is_reached_and_matches():
    torch.manual_seed(1)
    network = scrambled(FICNN(DIM, (8, 8)))
    x = 30 * torch.randn(64, DIM, dtype=torch.float64)
    pre = network.input_layers[0](x)
    assert (pre > network.activation.threshold).any() and (pre < 0).any()
    expected_grad, expected_hessian = autograd_derivatives(network, x)
    grad, hess = network.gradient_and_hessian(x)
    torch.testing.assert_close(grad, expected_grad)
    torch.testing.assert_close(hess, expected_hessian)


@pytest.mark.parametrize("name", ["ficnn_celu", "quadratic_residual"])
def test_parameter_gradients_of_the_logdet_equal_autograd(name):
    torch.manual_seed(2)
    network = scrambled(NETWORKS[name]())
    x = torch.randn(64, DIM, dtype=torch.float64)

    def parameter_gradients(grad, hess):
        loss = ExactLogDet.of_hessian(hess).mean() + grad.square().mean()
        return torch.autograd.grad(loss, list(network.parameters()))

    expected = parameter_gradients(*autograd_derivatives(network, x, create_graph=True))
    actual = parameter_gradients(*network.gradient_and_hessian(x))
    for got, want in zip(actual, expected, strict=True):
        # float64 sums in another order; see test_gradient_and_hessian_equal_autograd.
        torch.testing.assert_close(got, want, rtol=1e-9, atol=1e-9)


def test_map_and_logdet_equals_the_autograd_backend():
    torch.manual_seed(3)
    network = scrambled(NETWORKS["quadratic_residual"]())
    x = torch.randn(32, DIM, dtype=torch.float64)
    leaf, grad = gradient(network, x)
    mapped, logdet = ExactLogDet().map_and_logdet(network, x)
    torch.testing.assert_close(mapped, grad)
    torch.testing.assert_close(logdet, ExactLogDet()(leaf, grad))


def test_plain_callables_fall_back_to_autograd():
    x = torch.randn(8, 3, dtype=torch.float64)
    grad, hess = gradient_and_hessian(lambda x: (x**4).sum(-1), x, create_graph=False)
    torch.testing.assert_close(grad, 4 * x**3)
    torch.testing.assert_close(hess, torch.diag_embed(12 * x**2))
    assert not grad.requires_grad and not hess.requires_grad


def test_without_a_graph_the_results_are_detached():
    network = NETWORKS["quadratic_residual"]()
    grad, hess = gradient_and_hessian(network, torch.randn(4, DIM), create_graph=False)
    assert not grad.requires_grad and not hess.requires_grad
