"""Worker entry point: ``python -m notify.entrypoints.worker`` (``--asyncapi`` prints its document)."""

import sys

from jijiao_kit.worker import run_worker
from notify.bootstrap import create_worker

if __name__ == "__main__":
    worker = create_worker()
    if "--asyncapi" in sys.argv:
        print(worker.asyncapi_json())
    else:
        run_worker(worker)
