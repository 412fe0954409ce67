"""The makers' codecs from the npm registry (``services/codecs/package.json`` pins them),
installed into the cache folder by ``make setup`` (or at first use), and the program SMATI
runs for each: the package's own files, then SMATI's adapter to the `decodeUplink(input)`
format (``services/codecs/<adapter>``).

Run ``python -m services.codec_packages`` to install them and print where.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from models.errors import SmatiError
from services.npm import NpmPackages

__all__ = ["CODEC_PACKAGES", "PACKAGE_CODECS", "CodecPackageError", "package_program"]

_SOURCE_DIR = Path(__file__).parent / "codecs"
CODEC_PACKAGES = NpmPackages(
    _SOURCE_DIR, ("package.json", "package-lock.json"), "the makers' codecs", "codecs"
)


class CodecPackageError(SmatiError, ValueError):
    """An npm package SMATI has no adapter for, or whose files are missing."""


@dataclass(frozen=True)
class PackageCodec:
    """How SMATI runs an npm package's codecs: its files in order, then the adapter."""

    files: tuple[str, ...]
    adapter: str
    options: str
    """What the codec entry's `options` must give, for `smati codecs list`."""


PACKAGE_CODECS = {
    "@adeunis/codecs": PackageCodec(
        files=("dist/buffer-custom-shim.js", "dist/lib.public.js"),
        adapter="adeunis.js",
        options="device_type (one of those below), network (sigfox or lora868)",
    ),
}


def package_program(package: str) -> str:
    """The JavaScript of `package`'s codecs as SMATI runs them; installs the packages first
    if they are not yet."""
    known = PACKAGE_CODECS.get(package)
    if known is None:
        raise CodecPackageError(
            f"no codec adapter for npm package {package!r} (known: {', '.join(PACKAGE_CODECS)})"
        )
    folder = CODEC_PACKAGES.ensure() / "node_modules" / package
    parts = [folder / name for name in known.files] + [_SOURCE_DIR / known.adapter]
    missing = [str(part) for part in parts if not part.is_file()]
    if missing:
        raise CodecPackageError(f"{package}: missing {', '.join(missing)}")
    return "\n".join(part.read_text(encoding="utf-8") for part in parts)


if __name__ == "__main__":
    print(CODEC_PACKAGES.ensure())
