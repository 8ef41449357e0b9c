"""gradkit's instructor side: building assignments, grading a class, the ``gradkit`` CLI."""
