"""torch.hub entry point: torch.hub.load("<path to this clone>", "lenet5", source="local", pretrained=True)."""

dependencies = ["torch", "numpy", "safetensors"]


def lenet5(pretrained: bool = True, name: str = "paper-pens", seed: int = 0):
    """LeNet-5: the shipped weights `name` ("paper-pens", "paper-distort", "paper" or "modern") when pretrained,
    else a freshly initialized network of that preset (seeded)."""
    from lenet5.model import LeNet5
    from lenet5.presets import get_preset
    from lenet5.pretrained import load_pretrained

    return load_pretrained(name) if pretrained else LeNet5(get_preset(name).model, seed=seed)
