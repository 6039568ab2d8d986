"""Execute notebooks in place so they are stored with their outputs and plots.

    python tools/execute_notebooks.py [notebooks/01_tensors.ipynb ...]   (default: all)
"""
import sys
import time
from pathlib import Path

import nbclient
import nbformat

root = Path(__file__).resolve().parent.parent
paths = [Path(p) for p in sys.argv[1:]] or sorted((root / "notebooks").glob("*.ipynb"))
for path in paths:
    t0 = time.perf_counter()
    nb = nbformat.read(path, as_version=4)
    nbclient.NotebookClient(nb, timeout=900, kernel_name="python3",
                            resources={"metadata": {"path": str(path.parent)}}).execute()
    nbformat.write(nb, path)
    print(f"{path.name}: executed in {time.perf_counter() - t0:.1f} s")
