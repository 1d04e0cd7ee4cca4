"""The classical classifiers of Fig. 9 (Sec. III-C-1..5), each a function of the training and
test digits that returns an `Outcome`: scores (N, 10), larger wins, whose top two give the
paper's rejection score (Fig. 10), and the method's size (Fig. 11-12).

Linear algebra is ours where it is a few lines (K-NN, the ridge read-outs); PCA, k-means,
the pairwise linear units and the SVM come from scikit-learn (the `[sklearn]` extra).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from lenet5.data.deslant import deslant
from lenet5.errors import Lenet5Error

K = 3  # the paper's K-NN (Fig. 9: "K-NN Euclidean, k = 3" in the deslant row)
CANDIDATES = 50  # nearest neighbours kept per test digit: the votes, and each class's nearest for the scores
CHUNK = 500  # test digits per distance matrix
PCA_COMPONENTS = 40
RBF_CENTRES = 100  # per class: "10 groups of 100"
# The SVM's kernel, chosen on held-out digits (trained on the first 10,000, scored on training
# digits 50,000-54,999): cos(x, y)^4 2.76%; (x.y / (D var x) + 1)^4 3.86% (C 10 or 100: the
# same, the digits are separated); its homogeneous form 5.30%; (cos + 1)^4 3.38%.
SVM_C = 10.0
SVM_TRAIN = 60_000  # the SVM is trained on the first N training digits
RIDGE = 1e-3  # the regularized pseudo-inverse's lambda, relative to the mean of the Gram matrix's diagonal


@dataclass(frozen=True)
class Outcome:
    scores: torch.Tensor  # (N, 10) float64, larger wins
    variables: int  # numbers the classifier keeps (Fig. 12)
    multiply_adds: int  # per recognition (Fig. 11)
    note: str = ""


def sklearn():
    try:
        import sklearn  # noqa: F401
    except ImportError:
        raise Lenet5Error('this row needs scikit-learn, an optional dependency: pip install -e ".[sklearn]"') from None
    return sklearn


def pixels(images: torch.Tensor) -> np.ndarray:
    """uint8 (N, H, W) -> float32 (N, H*W) in [0, 1]."""
    return (images.reshape(len(images), -1).float() / 255.0).numpy()


def nearest(train: torch.Tensor, test: torch.Tensor, k: int = CANDIDATES) -> tuple[torch.Tensor, torch.Tensor]:
    """Euclidean distances (N, k) and indices (N, k) of each test row's k nearest training rows."""
    train = train.double()
    norms = (train**2).sum(1)
    dists, index = [], []
    for part in test.double().split(CHUNK):
        d2 = (part**2).sum(1, keepdim=True) - 2 * part @ train.T + norms  # (chunk, N_train)
        d, i = d2.clamp_min(0).topk(min(k, len(train)), dim=1, largest=False)
        dists.append(d.sqrt())
        index.append(i)
    return torch.cat(dists), torch.cat(index)


def vote_scores(dists: torch.Tensor, labels: torch.Tensor, k: int = K) -> torch.Tensor:
    """(N, 10): the votes of the k nearest, plus for each class d_1 / (distance to its nearest
    candidate), in (0, 1]: it breaks ties toward the nearest and ranks the doubtful for rejection."""
    n = len(dists)
    votes = torch.zeros(n, 10, dtype=torch.float64).scatter_add_(1, labels[:, :k], torch.ones(n, k, dtype=torch.float64))
    class_nearest = torch.full((n, 10), float("inf"), dtype=torch.float64).scatter_reduce_(1, labels, dists, "amin")
    return votes + dists[:, :1].clamp_min(1e-12) / class_nearest.clamp_min(1e-12)


def knn(train_x: torch.Tensor, train_y: torch.Tensor, test_x: torch.Tensor) -> Outcome:
    """K-NN with Euclidean distance on raw pixels (N, D)."""
    dists, index = nearest(train_x, test_x)
    return Outcome(vote_scores(dists, train_y[index]), train_x.numel(), train_x.numel())


def knn_pixels(train_images, train_labels, test_images, seed) -> Outcome:
    return knn(torch.from_numpy(pixels(train_images)), train_labels, torch.from_numpy(pixels(test_images)))


def knn_deslanted(train_images, train_labels, test_images, seed) -> Outcome:
    outcome = knn_pixels(deslant(train_images), train_labels, deslant(test_images), seed)
    return Outcome(outcome.scores, outcome.variables, outcome.multiply_adds, "on 20x20 deslanted digits")


def ridge(features: np.ndarray, labels: np.ndarray, relative: float = RIDGE) -> np.ndarray:
    """The regularized pseudo-inverse: W (F + 1, 10) minimizing |[X 1] W - onehot|^2 + lambda |W|^2."""
    x = np.hstack([features, np.ones((len(features), 1))]).astype(np.float64)
    gram = x.T @ x
    lam = relative * np.trace(gram) / len(gram)
    target = np.eye(10)[labels]
    return np.linalg.solve(gram + lam * np.eye(len(gram)), x.T @ target)


def read_out(features: np.ndarray, w: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.hstack([features, np.ones((len(features), 1))]) @ w)


def pca_quadratic(train_images, train_labels, test_images, seed) -> Outcome:
    """40 principal components, then every product of two of them (a degree-2 polynomial:
    1 + 40 + 820 = 861 inputs), read out linearly by the regularized pseudo-inverse."""
    from sklearn.decomposition import PCA

    pca = PCA(PCA_COMPONENTS, random_state=seed).fit(pixels(train_images))
    i, j = np.triu_indices(PCA_COMPONENTS)

    def quadratic(images):
        z = pca.transform(pixels(images))
        return np.hstack([z, z[:, i] * z[:, j]])

    w = ridge(quadratic(train_images), train_labels.numpy())
    d = train_images[0].numel()
    return Outcome(read_out(quadratic(test_images), w), d * PCA_COMPONENTS + w.size,
                   d * PCA_COMPONENTS + len(i) + w.size)


def rbf(train_images, train_labels, test_images, seed) -> Outcome:
    """1000 Gaussian units, the centres 100 k-means centres of each class's digits; width: the
    median distance from a centre to its nearest other centre; the linear layer by the
    regularized pseudo-inverse."""
    from sklearn.cluster import KMeans

    x, y = pixels(train_images), train_labels.numpy()
    centres = np.vstack([KMeans(min(RBF_CENTRES, int((y == c).sum())), n_init=1, random_state=seed).fit(x[y == c]).cluster_centers_
                         for c in range(10)])
    centres_t = torch.from_numpy(centres)
    between, _ = nearest(centres_t, centres_t, k=2)  # each centre's nearest other centre (the first is itself)
    width = float(between[:, 1].median())

    def units(data):
        d = torch.cdist(torch.from_numpy(data).double(), centres_t.double())
        return torch.exp(-(d**2) / (2 * width**2)).numpy()

    w = ridge(units(x), y)
    return Outcome(read_out(units(pixels(test_images)), w), centres.size + w.size, centres.size + w.size)


def summed_margins(margins: np.ndarray, first_wins_when_positive: bool) -> torch.Tensor:
    """(N, 45) margins of the pairwise units, in the order (0, 1), (0, 2), ..., (8, 9), ->
    (N, 10): each class's margins over its 9 rivals, added (a unit's margin counts for the class
    it favours and against the other). Unlike votes, they rank doubtful digits for rejection."""
    scores = np.zeros((len(margins), 10))
    sign = 1.0 if first_wins_when_positive else -1.0
    for k, (i, j) in enumerate((i, j) for i in range(10) for j in range(i + 1, 10)):
        scores[:, i] += sign * margins[:, k]
        scores[:, j] -= sign * margins[:, k]
    return torch.from_numpy(scores)


def pairwise_scores(margins: np.ndarray, first_wins_when_positive: bool) -> torch.Tensor:
    """(N, 10) from the 45 pairwise margins: each class's votes (the units that favour it), plus
    its summed margins scaled, over the whole set at once, to under half a vote: votes decide,
    the margins break ties and rank the doubtful digits for rejection."""
    sign = 1.0 if first_wins_when_positive else -1.0
    votes = summed_margins(np.sign(sign * margins), True)  # +1 for the favoured class, -1 for the other
    votes = (votes + 9) / 2  # -> the number of units that favour each class, 0..9
    summed = summed_margins(margins, first_wins_when_positive)
    return votes + summed / (2 * (1 + summed.abs().max()))


def pairwise(train_images, train_labels, test_images, seed) -> Outcome:
    """45 linear units, unit i/j trained on the digits of classes i and j only (by ridge
    regression onto +-1, scikit-learn's one-vs-one), combined by their summed margins."""
    from sklearn.linear_model import RidgeClassifier
    from sklearn.multiclass import OneVsOneClassifier

    x, test = pixels(train_images), pixels(test_images)
    model = OneVsOneClassifier(RidgeClassifier(alpha=1.0)).fit(x, train_labels.numpy())
    margins = np.stack([unit.decision_function(test) for unit in model.estimators_], 1)  # positive: the pair's second class
    d = x.shape[1]
    return Outcome(pairwise_scores(margins, first_wins_when_positive=False), 45 * (d + 1), 45 * (d + 1),
                   "ridge units (alpha 1); votes, ties and rejection by the summed margins")


def svm_poly4(train_images, train_labels, test_images, seed) -> Outcome:
    """A support vector machine with the kernel (x.y / (|x| |y|))^4, libsvm through scikit-learn,
    one-vs-one, on the first SVM_TRAIN training digits (all of MNIST's)."""
    from sklearn.svm import SVC

    n = min(SVM_TRAIN, len(train_images))
    x = unit_rows(pixels(train_images[:n]))
    model = SVC(kernel="poly", degree=4, gamma=1.0, coef0=0.0, C=SVM_C, decision_function_shape="ovo")
    model.fit(x, train_labels[:n].numpy())
    vectors = model.support_vectors_.shape[0]
    d = x.shape[1]
    margins = model.decision_function(unit_rows(pixels(test_images)))  # libsvm's one-vs-one: positive for the pair's first class
    limit = "" if n == len(train_images) else f"trained on the first {n:,} training digits; "
    return Outcome(pairwise_scores(margins, first_wins_when_positive=True), vectors * (d + 1), vectors * (d + 1),
                   f"{limit}{vectors:,} support vectors; kernel cos(x, y)^4, one-vs-one votes")


def unit_rows(x: np.ndarray) -> np.ndarray:
    return x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)
