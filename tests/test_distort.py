import torch

from lenet5.data.distort import distort, distorted_pool, draw_parameters


def test_identity_parameters_give_back_the_input():
    images = torch.randint(0, 256, (5, 28, 28), dtype=torch.uint8)
    identity = torch.tensor([[0.0, 0.0, 1.0, 0.0, 0.0]]).repeat(5, 1)
    out = distort(images, identity)
    assert out.dtype == torch.float32 and out.shape == (5, 28, 28)
    torch.testing.assert_close(out, images.float(), atol=1e-3, rtol=0)


def test_shift_moves_ink_by_whole_pixels():
    image = torch.zeros(1, 28, 28)
    image[0, 10, 10] = 255
    out = distort(image, torch.tensor([[2.0, -1.0, 1.0, 0.0, 0.0]]))
    assert out[0].argmax().item() == 9 * 28 + 12


def test_draws_are_reproducible_and_within_ranges():
    a = draw_parameters(1000, torch.Generator().manual_seed(0))
    b = draw_parameters(1000, torch.Generator().manual_seed(0))
    assert torch.equal(a, b)
    assert a[:, :2].abs().max() <= 2 and (a[:, 2] - 1).abs().max() <= 0.1 and a[:, 4].abs().max() <= 0.3


def test_pool_keeps_originals_and_dtype():
    images = torch.randint(0, 256, (4, 28, 28), dtype=torch.uint8)
    pool = distorted_pool(images, 2, torch.Generator().manual_seed(0))
    assert pool.shape == (12, 28, 28) and pool.dtype == torch.uint8
    assert torch.equal(pool[:4], images) and not torch.equal(pool[4:8], images)
