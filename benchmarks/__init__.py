"""Benchmarks of numbagrad against PyTorch CPU (``python -m benchmarks.cpu``)."""
