"""The kiosk: its configuration, session, records, operations, staff desk and CLI."""

import os

# No pydantic plugins are taken: a plugin is code from whatever happens to be installed, run
# at every validation of the profile; and looking for them (entry points) costs every start.
os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")
