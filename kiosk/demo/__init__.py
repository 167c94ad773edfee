"""Everything only the demo, `kiosk simulate` and `kiosk screenshot` need: the simulated
citizen's pace, the demo locker's contents, scenes, the embedded back office. Production code
never imports this package (tests/test_layering.py)."""
