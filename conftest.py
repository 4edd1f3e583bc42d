"""Root conftest: the shared fixtures (infrastructure, prefixes, tokens) for every test tree."""

pytest_plugins = ["jijiao_stack.pytest_plugin"]
