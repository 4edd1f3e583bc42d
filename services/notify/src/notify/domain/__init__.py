"""Pure rules of notify: templates, segments, quiet hours."""
