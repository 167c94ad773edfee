"""The device layer: kinds, adapters, links, simulators and workers."""

import os

# As in kiosk/__init__.py: no pydantic plugins for the adapters' configuration models either.
os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")
