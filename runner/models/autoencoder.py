"""A stacked autoencoder (torch), shared by ``model=dec`` and ``reducer=autoencoder``.

The architecture and training follow XifengGuo/DEC-keras (the reference implementation of DEC,
Xie, Girshick & Farhadi 2016): encoder ``d-500-500-2000-10`` with ReLU between layers and a linear
code layer, a mirrored decoder with a linear output, Glorot-uniform weights and zero biases,
trained end to end on the mean squared reconstruction error with Adam (lr 0.001), batch 256.

On CPU a run is bit-identical for a seed: weights and batch order come from seeded torch
generators and torch's deterministic algorithms are switched on for the duration of training.
"""

from __future__ import annotations

import contextlib
import hashlib
import itertools
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass
from importlib.metadata import version
from typing import Any

import numpy as np

from runner.cache import Cache, cache_key
from runner.errors import UserError
from runner.stages.embed import pick_device

DEFAULT_HIDDEN = (500, 500, 2000)
_WEIGHTS_FILE = "weights.safetensors"


@dataclass(frozen=True)
class AutoencoderSettings:
    """What determines a trained autoencoder (besides its input).

    Attributes:
        hidden_dims: Encoder layer widths between the input and the code (the decoder mirrors them).
        latent_dim: Width of the code layer.
        epochs: Passes over the data.
        lr: Adam learning rate.
        batch_size: Documents per step.
        random_state: Seed of the weights and the batch order.
        device: ``auto`` (CUDA when present, else CPU), ``cpu`` or ``cuda``.
    """

    hidden_dims: tuple[int, ...] = DEFAULT_HIDDEN
    latent_dim: int = 10
    epochs: int = 200
    lr: float = 0.001
    batch_size: int = 256
    random_state: int = 42
    device: str = "auto"

    def __post_init__(self) -> None:
        object.__setattr__(self, "hidden_dims", tuple(self.hidden_dims))


def check_settings(settings: AutoencoderSettings, section: str, names: Mapping[str, str] | None = None) -> None:
    """Reject settings torch would fail on late.

    Args:
        settings: The settings to check.
        section: The config node they come from (``model``, ``reducer``), for messages.
        names: Config key of a setting where it differs from the field name (``epochs`` → ``pretrain_epochs``).
    """
    names = names or {}
    if any(isinstance(width, bool) or not isinstance(width, int) for width in settings.hidden_dims):
        raise UserError(f"{section}.hidden_dims must be a list of integers, not {list(settings.hidden_dims)}")
    if any(width < 1 for width in settings.hidden_dims):
        raise UserError(f"{section}.hidden_dims must be positive widths, not {list(settings.hidden_dims)}")
    for key in ("latent_dim", "epochs", "batch_size"):
        value = getattr(settings, key)
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise UserError(f"{section}.{names.get(key, key)} must be a positive integer, not {value!r}")
    if not settings.lr > 0:
        raise UserError(f"{section}.{names.get('lr', 'lr')} must be positive, not {settings.lr}")


@contextlib.contextmanager
def seeded_torch(seed: int, device: str) -> Iterator[None]:
    """Inside the block torch's global generator is seeded and (on CPU) algorithms are deterministic.

    The global random state and the deterministic-algorithms switch are restored afterwards.
    """
    import torch

    deterministic = torch.are_deterministic_algorithms_enabled()
    with torch.random.fork_rng(devices=[torch.cuda.current_device()] if device.startswith("cuda") else []):
        torch.manual_seed(seed)
        if device == "cpu":
            torch.use_deterministic_algorithms(True)
        try:
            yield
        finally:
            torch.use_deterministic_algorithms(deterministic)


def build_autoencoder(input_dim: int, hidden_dims: Sequence[int], latent_dim: int) -> tuple[Any, Any]:
    """(encoder, decoder): ReLU MLPs ``input-hidden…-latent`` and back, linear at the code and the output."""
    from torch import nn

    widths = [input_dim, *hidden_dims, latent_dim]

    def stack(sizes: list[int]) -> Any:
        layers: list[Any] = []
        for index, (fan_in, fan_out) in enumerate(itertools.pairwise(sizes)):
            linear = nn.Linear(fan_in, fan_out)
            nn.init.xavier_uniform_(linear.weight)
            nn.init.zeros_(linear.bias)
            layers.append(linear)
            if index < len(sizes) - 2:
                layers.append(nn.ReLU())
        return nn.Sequential(*layers)

    return stack(widths), stack(widths[::-1])


def train_autoencoder(data: np.ndarray, settings: AutoencoderSettings) -> tuple[Any, Any]:
    """Train an autoencoder on ``data`` (rows are documents); returns (encoder, decoder) on its device."""
    import torch

    device = pick_device(settings.device)
    x = torch.tensor(np.asarray(data, dtype=np.float32), device=device)
    with seeded_torch(settings.random_state, device):
        encoder, decoder = build_autoencoder(x.shape[1], settings.hidden_dims, settings.latent_dim)
        encoder.to(device)
        decoder.to(device)
        optimizer = torch.optim.Adam([*encoder.parameters(), *decoder.parameters()], lr=settings.lr)
        order = torch.Generator().manual_seed(settings.random_state)
        for _ in range(settings.epochs):
            for batch in torch.randperm(len(x), generator=order).split(settings.batch_size):
                rows = x[batch.to(device)]
                loss = torch.nn.functional.mse_loss(decoder(encoder(rows)), rows)
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
    return encoder.eval(), decoder.eval()


def encode(encoder: Any, data: np.ndarray, batch_size: int = 4096) -> np.ndarray:
    """The codes of ``data`` under ``encoder`` (float32, one row per document)."""
    import torch

    device = next(encoder.parameters()).device
    x = torch.tensor(np.asarray(data, dtype=np.float32))
    with torch.no_grad():
        codes = [encoder(part.to(device)).cpu() for part in x.split(batch_size)]
    return torch.cat(codes).numpy().astype(np.float32)


def pretrained_autoencoder(data: np.ndarray, settings: AutoencoderSettings, cache: Cache) -> tuple[Any, Any]:
    """(encoder, decoder) trained on ``data``, from the cache when the same training was done before.

    The weights are cached as safetensors under ``cache/autoencoder/<key>/``; the key holds the
    data's sha256, the settings, the resolved device and the torch version.
    """
    from safetensors.torch import load_file, save_file

    array = np.ascontiguousarray(data, dtype=np.float32)
    device = pick_device(settings.device)
    key = cache_key("autoencoder", hashlib.sha256(array.tobytes()).hexdigest(), array.shape,
                    {**asdict(settings), "device": device}, version("torch"))
    trained: dict[str, Any] = {}

    def build(directory: Any) -> None:
        encoder, decoder = train_autoencoder(array, settings)
        trained["model"] = (encoder, decoder)
        state = {f"encoder.{name}": value.detach().cpu().contiguous() for name, value in encoder.state_dict().items()}
        state |= {f"decoder.{name}": value.detach().cpu().contiguous() for name, value in decoder.state_dict().items()}
        save_file(state, str(directory / _WEIGHTS_FILE))

    folder = cache.directory("autoencoder", key, build)
    if "model" in trained:
        return trained["model"]
    state = load_file(str(folder / _WEIGHTS_FILE))
    encoder, decoder = build_autoencoder(array.shape[1], settings.hidden_dims, settings.latent_dim)
    for prefix, module in (("encoder.", encoder), ("decoder.", decoder)):
        module.load_state_dict({name.removeprefix(prefix): value for name, value in state.items()
                                if name.startswith(prefix)})
        module.to(device).eval()
    return encoder, decoder


class AutoencoderReducer:
    """``reducer=autoencoder``: the codes of a stacked autoencoder trained on the embeddings.

    Its output is cached by the reducer stage like UMAP's (the key holds these settings), so no
    weights are kept.

    Args:
        n_components: Width of the code (the reduced dimension).
        hidden_dims: Encoder widths between the embeddings and the code.
        epochs: Training passes over the documents.
        lr: Adam learning rate.
        batch_size: Documents per step.
        random_state: Seed of the weights and the batch order.
        device: ``auto`` | ``cpu`` | ``cuda``.
    """

    def __init__(self, n_components: int = 10, hidden_dims: Sequence[int] = DEFAULT_HIDDEN, epochs: int = 50,
                 lr: float = 0.001, batch_size: int = 256, random_state: int = 42, device: str = "auto") -> None:
        self.settings = AutoencoderSettings(tuple(hidden_dims), n_components, epochs, lr, batch_size, random_state,
                                            device)
        check_settings(self.settings, "reducer", {"latent_dim": "n_components"})

    def fit_transform(self, X: Any, y: Any = None) -> np.ndarray:  # noqa: N803 (scikit-learn signature)
        encoder, _ = train_autoencoder(np.asarray(X), self.settings)
        return encode(encoder, np.asarray(X))
