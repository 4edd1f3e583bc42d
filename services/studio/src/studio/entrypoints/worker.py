"""Worker entry point: ``python -m studio.entrypoints.worker`` (``--asyncapi`` prints its document)."""

import sys

from jijiao_kit.worker import run_worker
from studio.bootstrap import create_worker

if __name__ == "__main__":
    worker = create_worker()
    if "--asyncapi" in sys.argv:
        print(worker.asyncapi_json())
    else:
        run_worker(worker)
