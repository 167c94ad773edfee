"""Virtual cards for tests and the demo: they speak vpcd's protocol, so the adapter reaches
them through the real pcscd and pyscard. vpcd must never be installed on a production
terminal image (it listens on every interface)."""
