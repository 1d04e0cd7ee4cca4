"""Reading whole numbers: one line of handwritten digits in, its digit string out.

Two readers, both the paper's (the shipped default is the SDNN, which reads better):

    SDNN (Sec. VII): image -> line at digit scale -> 32 px band -> LeNet-5 swept along it
          -> per 4 px: P(0..9, between) -> likeliest string (summed over its paths) -> "92312"
    HOS (Sec. VI): image -> line at digit scale -> atoms (over-segmentation) -> candidate
          segments -> recognizer (LeNet-5 + "none") -> best path (dynamic programming) -> "92312"

Python: `read_number(model, image)` with a reader from `load_reader()`. The parts: line.py (the
line at digit scale, both readers'), sdnn.py and decode.py (the SDNN and the reading of its
outputs), committee.py (SDNNs read together), oversegment.py, recognizer.py and search.py
(over-segmentation), weights.py (the readers' files), fit.py, train_sdnn.py (with bands.py, its strips) and
train_hos.py (training both), trust.py (calibration and rejection on held-out amounts), labelled.py (a user's own amounts with their
numbers, to calibrate on), reading.py (the API below).
"""

from lenet5.read.reading import ReadDigit, Reading, read_images, read_number
from lenet5.read.recognizer import reader_network
from lenet5.read.sdnn import SDNN
from lenet5.read.weights import DEFAULT_READER, load_reader, shipped_readers

__all__ = ["Reading", "ReadDigit", "read_number", "read_images", "load_reader", "reader_network", "shipped_readers",
           "DEFAULT_READER", "SDNN"]
