"""Worker entry point: ``python -m enrollment.entrypoints.worker`` (``--asyncapi`` prints its document)."""

import sys

from enrollment.bootstrap import create_worker
from jijiao_kit.worker import run_worker

if __name__ == "__main__":
    worker = create_worker()
    if "--asyncapi" in sys.argv:
        print(worker.asyncapi_json())
    else:
        run_worker(worker)
