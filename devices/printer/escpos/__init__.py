"""ESC/POS receipt printers on TCP, USB or serial (the adapter comes with its issue)."""
