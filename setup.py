"""Build hook: the package's ``zoo/weights_manifest.json`` is the repository's ``weights_manifest.json`` (the one
committed copy), copied in when the package is built, so that an installed zoo finds its records. Everything else
is in setup.cfg."""
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

MANIFEST = "weights_manifest.json"


class BuildPyWithManifest(build_py):
    def run(self) -> None:
        super().run()
        if getattr(self, "editable_mode", False):  # an editable install runs from the clone, which reads the original
            return
        target = Path(self.build_lib) / "zoo" / MANIFEST
        self.mkpath(str(target.parent))
        self.copy_file(str(Path(__file__).resolve().parent / MANIFEST), str(target))


setup(cmdclass={"build_py": BuildPyWithManifest})
