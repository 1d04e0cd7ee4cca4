import pytest
import torch

from lenet5.curvature import diagonal_curvature
from lenet5.model import LeNet
from lenet5.optim import ETA_SCHEDULE, SDLM, paper_eta


def test_schedule_gives_the_papers_eta_by_pass():
    expected = [5e-4] * 2 + [2e-4] * 3 + [1e-4] * 3 + [5e-5] * 4 + [1e-5] * 8
    assert [paper_eta(k) for k in range(1, 21)] == expected
    assert paper_eta(25) == 1e-5 and ETA_SCHEDULE[0] == (2, 5e-4)
    with pytest.raises(ValueError):
        paper_eta(0)


def test_step_is_eta_over_mu_plus_h():
    w = torch.nn.Parameter(torch.tensor([1.0, 2.0, 3.0]))
    opt = SDLM([w], eta=0.1, mu=0.02)
    h = torch.tensor([0.0, 1.0, 10.0])
    opt.set_curvature({w: h})
    torch.testing.assert_close(opt.step_sizes(w), 0.1 / (0.02 + h))
    w.grad = torch.tensor([1.0, 1.0, 1.0])
    opt.step()
    torch.testing.assert_close(w.detach(), torch.tensor([1.0, 2.0, 3.0]) - 0.1 / (0.02 + h))


def test_each_step_divides_by_the_latest_curvature_and_mu():
    """mu + h_kk is kept between steps: a new estimate or a new mu must still be used."""
    w = torch.nn.Parameter(torch.zeros(3))
    opt = SDLM([w], eta=0.1, mu=0.02)
    expected = torch.zeros(3)
    for h, mu in [([0.0, 1.0, 10.0], 0.02), ([0.0, 1.0, 10.0], 0.02), ([5.0, 0.5, 1.0], 0.02), ([5.0, 0.5, 1.0], 0.5)]:
        opt.param_groups[0]["mu"] = mu
        if not opt.state[w] or not torch.equal(opt.state[w]["h_kk"], torch.tensor(h)):
            opt.set_curvature({w: torch.tensor(h)})
        w.grad = torch.ones(3)
        opt.step()
        expected -= 0.1 / (mu + torch.tensor(h))
        torch.testing.assert_close(w.detach(), expected)


def test_a_copy_steps_as_the_original():
    import copy

    w = torch.nn.Parameter(torch.tensor([1.0, 2.0]))
    opt = SDLM([w], eta=0.1)
    opt.set_curvature({w: torch.tensor([1.0, 3.0])})
    w.grad = torch.ones(2)
    opt.step()
    twin = copy.deepcopy(opt)  # its own parameter and state; the kept mu + h_kk is not part of the state
    (v,) = twin.param_groups[0]["params"]
    v.grad = torch.ones(2)
    twin.step()
    opt.step()
    torch.testing.assert_close(v.detach(), w.detach())


def test_newton_step_on_a_quadratic():
    """E = sum_k c_k w_k^2 / 2: h_kk = c_k, and with mu -> 0, eta = 1 one step lands on 0."""
    c = torch.tensor([0.5, 4.0, 100.0])
    w = torch.nn.Parameter(torch.tensor([1.0, -2.0, 3.0]))
    opt = SDLM([w], eta=1.0, mu=1e-9)
    opt.set_curvature({w: c})
    (0.5 * c * w**2).sum().backward()
    opt.step()
    assert w.abs().max() < 1e-6


def test_step_before_curvature_fails_loudly_and_bad_hyperparameters_raise():
    w = torch.nn.Parameter(torch.ones(2))
    w.grad = torch.ones(2)
    with pytest.raises(RuntimeError, match="set_curvature"):
        SDLM([w]).step()
    with pytest.raises(ValueError):
        SDLM([w], eta=-1)
    with pytest.raises(ValueError):
        SDLM([w], mu=0)


def test_state_dict_round_trip_keeps_stepping_identically():
    torch.manual_seed(0)
    a, b = LeNet(seed=0), LeNet(seed=0)
    x, t = torch.randn(8, 1, 32, 32), torch.randint(0, 10, (8,))
    opt_a = SDLM(a.parameters())
    opt_a.set_curvature(diagonal_curvature(a, x))
    opt_b = SDLM(b.parameters())
    opt_b.load_state_dict(opt_a.state_dict())
    for model, opt in ((a, opt_a), (b, opt_b)):
        for _ in range(2):
            opt.zero_grad()
            model(x).gather(1, t[:, None]).sum().backward()
            opt.step()
    for p, q in zip(a.parameters(), b.parameters()):
        assert torch.equal(p, q)


def test_summed_batch_step_is_the_sum_of_per_pattern_steps():
    """Mini-batch SDLM with the loss summed: each pattern's gradient gets its own eps_k, so
    eta needs no rescaling with the batch size (to first order, B online steps)."""
    from lenet5.losses import map_loss

    x, t = torch.randn(6, 1, 32, 32), torch.randint(0, 10, (6,))
    model = LeNet(seed=0)
    h = diagonal_curvature(model, x)
    expected = {n: p.detach().clone() for n, p in model.named_parameters()}
    for i in range(6):
        model.zero_grad()
        map_loss(model(x[i: i + 1]), t[i: i + 1], 0.1).sum().backward()
        for (n, p) in model.named_parameters():
            expected[n] -= 5e-4 / (0.02 + h[p]) * p.grad
    opt = SDLM(model.parameters(), eta=5e-4)
    opt.set_curvature(h)
    model.zero_grad()
    map_loss(model(x), t, 0.1).sum().backward()
    opt.step()
    for n, p in model.named_parameters():
        torch.testing.assert_close(p.detach(), expected[n], rtol=1e-5, atol=1e-6)
