#!/bin/sh
# jijiao api <service> | jijiao worker <service> | jijiao seed
set -e
case "$1" in
  api)
    exec uvicorn "$2.entrypoints.api.app:app" --host "${HTTP_HOST:-0.0.0.0}" --port "${HTTP_PORT:-8000}" \
      --no-access-log --timeout-graceful-shutdown 10 ;;
  worker)
    exec python -m "$2.entrypoints.worker" ;;
  seed)
    python -m enrollment.entrypoints.seed_demo
    exec python -m baseline.entrypoints.seed_demo ;;
  *)
    exec "$@" ;;
esac
