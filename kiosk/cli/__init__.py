"""The `kiosk` command, one module per command group (main, queue, device)."""
