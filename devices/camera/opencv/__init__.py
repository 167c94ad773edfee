"""A camera through OpenCV: QR codes, face capture, documents (the adapter comes with its issue)."""
