"""Print setup.cfg's install_requires with every floor turned into a pin (``torch>=2.6`` → ``torch==2.6``): the oldest
releases the project promises to work with, as .ci/floors installs them. A requirement without a floor is an error:
an untested promise."""
import configparser
import re
import sys
from pathlib import Path

config = configparser.ConfigParser()
config.read(Path(__file__).resolve().parent.parent / "setup.cfg")
pins = []
for line in config["options"]["install_requires"].split("\n"):
    if not line.strip():
        continue
    match = re.fullmatch(r"\s*([A-Za-z0-9_.\-]+)\s*>=\s*([0-9][0-9A-Za-z.]*)\s*(,.*)?", line)
    if not match:
        sys.exit(f"setup.cfg: {line.strip()!r} has no floor (name>=version): say which release it was tested at")
    pins.append(f"{match[1]}=={match[2]}")
print(" ".join(pins))
