"""Where extractor weights come from: a local file, the library's own download, or ``random``.

There is no silent fallback: a file that is missing, or a download that fails, stops the command
with one line that says what to do. Downloads happen once, in the main process, before any worker
starts; workers then load the local file. ``meta.json`` records ``sha256:<hex>`` of the file, or
``random-init``.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from benchmark.params import ParamError
from features.extract import require

SWIN = "swin_tiny_patch4_window7_224"
SWIN_HUB_ID = "timm/swin_tiny_patch4_window7_224.ms_in1k"  # timm's own weights on the Hugging Face hub
RANDOM = "random-init"
#: Seed of random initialisation: every worker process builds the same random network.
RANDOM_SEED = 0


@dataclass(frozen=True)
class Weights:
    source: str  # "random", "file", "timm" or "download"
    path: Path | None = None
    sha256: str | None = None
    origin: str | None = None  # where a downloaded file came from

    @property
    def is_random(self) -> bool:
        return self.source == "random"

    @property
    def meta_value(self) -> str:
        return RANDOM if self.is_random else f"sha256:{self.sha256}"

    def describe(self) -> dict[str, str]:
        info = {"weights": self.meta_value, "weights_source": self.source}
        if self.path is not None:
            info["weights_file"] = self.path.name
        if self.origin:
            info["weights_origin"] = self.origin
        return info


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def _local(option: str, spec: str, keywords: str) -> Weights:
    path = Path(spec).expanduser()
    if not path.is_file():
        raise ParamError(f"{option} {spec!r} is neither a weights file nor one of {keywords}")
    return Weights("file", path.resolve(), sha256_file(path))


def resolve_visual(spec: str) -> Weights:
    """``PATH`` (a timm or original Swin checkpoint), ``timm`` (download from timm's hub) or ``random``."""
    if spec == "random":
        return Weights("random")
    if spec == "timm":
        hub = require("huggingface_hub")
        try:
            path = Path(hub.hf_hub_download(SWIN_HUB_ID, "model.safetensors"))
        except Exception as exc:  # offline, proxy, hub error: all mean "no weights"
            raise ParamError(
                f"--visual-weights timm: could not download {SWIN_HUB_ID} ({type(exc).__name__}); "
                "download model.safetensors elsewhere and pass its path, or pass 'random' (features then carry no "
                "meaning)"
            ) from None
        return Weights("timm", path, sha256_file(path), origin=f"hf-hub:{SWIN_HUB_ID}")
    return _local("--visual-weights", spec, "'timm' or 'random'")


def resolve_audio(spec: str) -> Weights:
    """``PATH`` (a torchvggish state dict), ``download`` (torchvggish's release file) or ``random``."""
    if spec == "random":
        return Weights("random")
    if spec == "download":
        torch = require("torch")
        url = require("torchvggish.torchvggish").VGGISH_WEIGHTS
        path = Path(torch.hub.get_dir()) / "checkpoints" / url.rsplit("/", 1)[-1]
        if not path.is_file():
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
                torch.hub.download_url_to_file(url, str(path), progress=True)
            except Exception as exc:
                raise ParamError(
                    f"--audio-weights download: could not fetch {url} ({type(exc).__name__}); "
                    "download it elsewhere and pass its path, or pass 'random' (features then carry no meaning)"
                ) from None
        return Weights("download", path, sha256_file(path), origin=url)
    return _local("--audio-weights", spec, "'download' or 'random'")
