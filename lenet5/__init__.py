"""lenet5: LeNet-5 (LeCun, Bottou, Bengio, Haffner 1998) in PyTorch, faithful and switchable."""

__version__ = "0.1.0"

from lenet5.errors import Lenet5Error  # noqa: E402
from lenet5.model import LeNet, LeNet5, ModelConfig  # noqa: E402

__all__ = ["LeNet", "LeNet5", "Lenet5Error", "ModelConfig", "__version__"]
