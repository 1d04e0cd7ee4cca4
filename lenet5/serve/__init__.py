"""`lenet5 serve`: draw a digit in the browser and watch LeNet-5 read it, layer by layer.

app.py (the FastAPI app and its HTTP API), inference.py (one image -> answer, scores, what the
network saw, feature maps), upload.py (an upload's bytes, kept in memory), server.py (the
socket and uvicorn), static/ (the page: plain HTML, CSS and JavaScript, no build step).
"""

from __future__ import annotations

from lenet5.errors import Lenet5Error

PACKAGES = ("fastapi", "uvicorn", "python_multipart")  # import names of the `serve` extra


def require_packages() -> None:
    """Raise Lenet5Error saying how to install the `serve` extra when part of it is missing."""
    for name in PACKAGES:
        try:
            __import__(name)
        except ImportError:
            raise Lenet5Error(f"lenet5 serve needs {name.replace('_', '-')}, which is not installed: "
                              'pip install -e ".[serve]"') from None
